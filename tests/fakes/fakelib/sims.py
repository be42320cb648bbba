"""Simulated controllers of a fake cluster, one module each, called by the fake kubectl.

- ``on_applied(objects, obj)``: after an object is stored (e.g. ingress-nginx's Jobs patching the caBundle).
- ``admit(context, obj, dry_run)``: admission; return kubectl's error text to deny, None to admit.
- ``refresh(objects)``: before every read (time-based state such as "ready 3 s after apply").
"""

from __future__ import annotations

import importlib
from typing import Any

# Modules providing any of the three hooks; each is optional in each module.
MODULES: list[str] = ["sim_ingress", "sim_pods", "sim_storage"]


def _mods() -> list[Any]:
    return [importlib.import_module(f"fakelib.{m}") for m in MODULES]


def on_applied(objects: dict[str, Any], obj: dict[str, Any]) -> None:
    for m in _mods():
        if hasattr(m, "on_applied"):
            m.on_applied(objects, obj)


def admit(context: str, obj: dict[str, Any], *, dry_run: bool) -> str | None:
    for m in _mods():
        if hasattr(m, "admit"):
            denial: str | None = m.admit(context, obj, dry_run=dry_run)
            if denial:
                return denial
    return None


def refresh(objects: dict[str, Any]) -> None:
    for m in _mods():
        if hasattr(m, "refresh"):
            m.refresh(objects)
