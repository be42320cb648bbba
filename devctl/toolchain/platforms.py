"""This machine's platform in the upstream projects' spelling, and where the shared tool store lives.

Both are pure functions of what they are given, so each OS's answer is testable on any machine.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from pathlib import Path

from devctl.errors import DevctlError

_OS = {"linux": "linux", "darwin": "darwin"}
# platform.machine(): Linux says x86_64/aarch64, macOS x86_64/arm64.
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class UnsupportedPlatform(DevctlError):
    """devctl installs tools for linux and darwin on amd64 and arm64 only."""


def current_platform(system: str | None = None, machine: str | None = None) -> str:
    """``linux-amd64``, ``darwin-arm64``, ...; UnsupportedPlatform elsewhere."""
    system = (system if system is not None else platform.system()).lower()
    machine = (machine if machine is not None else platform.machine()).lower()
    os_name, arch = _OS.get(system), _ARCH.get(machine)
    if os_name is None or arch is None:
        hint = (
            "run devctl inside WSL2, where it is Linux"
            if system.startswith(("windows", "cygwin", "msys"))
            else "install kind, kubectl and skaffold yourself: devctl uses them from PATH"
        )
        raise UnsupportedPlatform(
            f"devctl installs kind, kubectl and Skaffold for linux and darwin on amd64 and arm64; "
            f"this machine is {system or 'unknown'} {machine or 'unknown'}",
            hint=hint,
        )
    return f"{os_name}-{arch}"


def store_root(system: str, env: Mapping[str, str], home: Path) -> Path:
    """The shared store: ``$XDG_DATA_HOME/devctl/tools`` when XDG_DATA_HOME is set (an absolute path, as the
    XDG Base Directory spec requires; a relative one is ignored), else the user's data directory: Linux
    ``~/.local/share`` (the spec's default), macOS ``~/Library/Application Support`` (Apple's place for
    an app's data files)."""
    xdg = env.get("XDG_DATA_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "devctl" / "tools"
    if system.lower() == "darwin":
        return home / "Library" / "Application Support" / "devctl" / "tools"
    return home / ".local" / "share" / "devctl" / "tools"


def default_store_root(env: Mapping[str, str] | None = None) -> Path:
    return store_root(platform.system(), os.environ if env is None else env, Path.home())
