"""What `devctl tools list` and `devctl doctor` show: per tool, what is pinned, what runs and where it came
from; and how complete the lock is. Data only: the CLI renders it as a table or as JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devctl.errors import DevctlError
from devctl.toolchain.catalog import TOOLS
from devctl.toolchain.resolve import Resolved, Toolchain


@dataclass(frozen=True)
class ToolState:
    tool: str
    pinned: str  # the pinned version, "" when not pinned
    version: str  # the version in use, "" when none is usable
    source: str  # "store" or "PATH" ("" when none is usable)
    path: str
    problem: str  # why none is usable
    fix: str
    lock_sha256: str | None  # the lock's checksum for this platform

    @property
    def ok(self) -> bool:
        return not self.problem

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "pinned": self.pinned or None,
            "version": self.version or None,
            "source": self.source or None,
            "path": self.path or None,
            "lock_sha256": self.lock_sha256,
            "ok": self.ok,
            "problem": self.problem or None,
            "fix": self.fix or None,
        }


@dataclass(frozen=True)
class LockState:
    path: str
    exists: bool
    missing: list[str]  # "tool platform" without a checksum
    problem: str  # the lock cannot be read

    @property
    def complete(self) -> bool:
        return self.exists and not self.missing and not self.problem

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "exists": self.exists,
            "complete": self.complete,
            "missing": self.missing,
            "problem": self.problem or None,
        }


def tool_states(tc: Toolchain, resolve: Callable[[str], Resolved]) -> list[ToolState]:
    out = []
    for tool in TOOLS:
        pinned = tc.pins.pinned().get(tool, "")
        try:
            wanted = tc.wanted(tool)
        except DevctlError:
            wanted = None
        sha = None if wanted is None else wanted.sha256
        try:
            r = resolve(tool)
        except DevctlError as err:
            out.append(ToolState(tool, pinned, "", "", "", err.message, err.hint or "", sha))
            continue
        out.append(ToolState(tool, pinned, r.version, r.source, r.path, "", "", sha))
    return out


def lock_state(tc: Toolchain) -> LockState:
    path = str(tc.lock_path)
    try:
        lock = tc.lock()
    except DevctlError as err:
        return LockState(path, True, [], err.message)
    if lock is None:
        return LockState(path, False, [], "")
    return LockState(path, True, lock.missing(tc.pins.pinned()), "")
