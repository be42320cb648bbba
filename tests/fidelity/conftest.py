"""Helpers for the fakes' fidelity tests: run a fake, and find the real tool (outside tests/fakes) when this
machine has it, to compare the two."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import FAKES


def fake(tool: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """The fake ``tool`` with the test's environment (the fake_tools fixture's state and kubeconfig)."""
    return subprocess.run([str(FAKES / tool), *args], input=input, capture_output=True, text=True, timeout=60)


def real(tool: str) -> str | None:
    """The real ``tool`` on PATH, skipping the fakes; None when there is none."""
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != FAKES)
    return shutil.which(tool, path=path)


def run_real(binary: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, env=env)


def fakelib(name: str) -> Any:
    """A module of the fakes (``fakelib.<name>``), imported as the fakes import each other."""
    if str(FAKES) not in sys.path:
        sys.path.insert(0, str(FAKES))
    return importlib.import_module(f"fakelib.{name}")
