"""The Ingress controller behind one small interface.

ingress-nginx was retired in March 2026 (ingress-nginx.md §1): it still works and its installation
artifacts stay available, but another controller (ingress-nginx.md §6) will have to replace it. The rest
of devctl only knows ``IngressController`` and ``controller_for``; a new controller is one new module
here and one line in ``controller_for``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from devctl.ingress.nginx import NginxController
from devctl.ingress.state import IngressState

if TYPE_CHECKING:
    from devctl.config import Config
    from devctl.context import Context


class IngressController(Protocol):
    name: str

    def judge(self, items: Iterable[Mapping[str, Any]], version: str) -> IngressState:
        """The one verdict on an install, from the objects of one listing (``up`` and ``status`` both ask
        this). ``items`` may hold every namespace's objects; the controller picks its own."""
        ...

    def observe(self, ctx: Context) -> IngressState:
        """One kubectl call, judged."""
        ...

    def is_admitting(self, ctx: Context, seen: IngressState) -> str | None:
        """A reason when ``seen`` admits and the webhook accepts a server-side dry-run of the project's
        Ingress (one kubectl call), else None. Raises only for a fact no install can fix."""
        ...

    def ensure(self, ctx: Context, seen: IngressState | None = None) -> str:
        """Install (or repair) the controller, starting from ``seen`` when it was just observed, and wait
        until it admits Ingresses, within ``ctx.cfg.ingress_timeout``; a short note for the report."""
        ...

    def describe(self, ctx: Context) -> list[str]:
        """What ``ensure`` would run, for --dry-run."""
        ...

    def diagnostics(self, ctx: Context) -> list[str]:
        """Lines that help to see why the controller is not ready (pods, recent events)."""
        ...


def controller_for(cfg: Config) -> IngressController:
    """The controller devctl installs (only ingress-nginx today)."""

    return NginxController()
