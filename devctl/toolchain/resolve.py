"""Which kind, kubectl and skaffold a command runs, and what the processes devctl starts see.

Resolution, for each tool: the pinned version in the store when it is there (its checksum is the lock's,
so it is what the repo means); else the one on PATH when its version meets devctl's minimum (asked once
per run); else ``ToolNotFound`` with the fix, `devctl tools install`. The store's entries go first on the
PATH of every child, so a tool devctl starts (Skaffold runs kubectl itself) makes the same choice.

Resolving only reads: the lock file, and the store's directories. It never creates a file or directory.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devctl.errors import DevctlError, ToolNotFound
from devctl.toolchain.catalog import TOOLS, Pins, fmt, parse_version
from devctl.toolchain.lockfile import LOCK_NAME, TO_COMPLETE, Lock, read_lock
from devctl.toolchain.platforms import UnsupportedPlatform, current_platform, default_store_root
from devctl.toolchain.store import Store, StoreEntry
from devctl.tools.install import install_hint

if TYPE_CHECKING:
    from devctl.config import Config

# Runs ``exe args...`` and returns what it printed; the runner provides it (only it starts processes).
Probe = Callable[[str, Sequence[str]], str]

STORE = "store"
PATH = "PATH"


@dataclass(frozen=True)
class Wanted:
    """What the repo wants for one tool on this platform."""

    tool: str
    version: str
    platform: str
    url: str
    sha256: str | None  # None: the lock has no checksum for it (``missing`` says why)
    missing: str = ""


@dataclass(frozen=True)
class Resolved:
    tool: str
    path: str
    version: str  # X.Y.Z
    source: str  # STORE or PATH


class Toolchain:
    def __init__(self, pins: Pins, lock_path: Path, store: Store, platform: str | None) -> None:
        self.pins = pins
        self.lock_path = lock_path
        self.store = store
        self.platform = platform  # None: not one devctl installs for (tools come from PATH only)
        self._lock: Lock | None = None
        self._lock_read = False
        self._resolved: dict[tuple[str, str | None], Resolved | DevctlError] = {}
        self._mutex = threading.Lock()

    @classmethod
    def for_config(cls, cfg: Config, env: Mapping[str, str] | None = None) -> Toolchain | None:
        """The repo's pins and lock; None outside the repo (every tool then comes from PATH)."""
        if cfg.repo_root is None:
            return None
        try:
            platform: str | None = current_platform()
        except UnsupportedPlatform:
            platform = None
        return cls(cfg.tools, cfg.repo_root / LOCK_NAME, Store(default_store_root(env)), platform)

    def __repr__(self) -> str:
        return f"Toolchain({self.pins.pinned()}, {self.store!r}, {self.platform})"

    # -- what the repo wants ---------------------------------------------------------------------

    def manages(self, tool: str) -> bool:
        return tool in TOOLS

    def lock(self) -> Lock | None:
        """The repo's lock (read once); None without one. ConfigError when it is not a valid lock."""
        with self._mutex:
            if not self._lock_read:
                self._lock = read_lock(self.lock_path)
                self._lock_read = True
            return self._lock

    def wanted(self, tool: str) -> Wanted | None:
        """The pinned version of ``tool`` on this platform and what the lock says of it; None when the
        tool is not pinned or this platform is not one devctl installs for."""
        version = self.pins.pinned().get(tool)
        if version is None or self.platform is None:
            return None
        lock = self.lock()
        entry = None if lock is None else lock.entry(tool, version, self.platform)
        if entry is not None:
            missing = "" if entry.sha256 else f"{self.lock_path.name} has no checksum for it yet ({entry.source})"
            return Wanted(tool, version, self.platform, entry.url, entry.sha256, missing)
        if lock is None:
            why = f"there is no {self.lock_path.name} in {self.lock_path.parent}"
        elif tool in lock.tools and lock.tools[tool].version != version:
            why = f"{self.lock_path.name} is for {tool} {lock.tools[tool].version}, not {version}"
        else:
            why = f"{self.lock_path.name} has no entry for it ({TO_COMPLETE})"
        return Wanted(tool, version, self.platform, TOOLS[tool].url(version, self.platform), None, why)

    def in_store(self, tool: str) -> StoreEntry | None:
        """The pinned ``tool`` in the store, if it is there (reads only)."""
        wanted = self.wanted(tool)
        if wanted is None:
            return None
        return self.store.find(tool, wanted.version, wanted.sha256)

    # -- what runs -------------------------------------------------------------------------------

    def resolve(self, tool: str, path: str | None, probe: Probe) -> Resolved:
        """The executable ``tool`` to run (store > PATH at the minimum version); ToolNotFound with the fix."""
        key = (tool, path)
        with self._mutex:
            known = self._resolved.get(key)
        if known is None:
            try:
                known = self._resolve(tool, path, probe)
            except DevctlError as err:
                known = err
            with self._mutex:
                self._resolved[key] = known
        if isinstance(known, DevctlError):
            raise known
        return known

    def _resolve(self, tool: str, path: str | None, probe: Probe) -> Resolved:
        spec = TOOLS[tool]
        entry = self.in_store(tool)
        if entry is not None:
            return Resolved(tool, str(entry.binary), entry.version.lstrip("v"), STORE)
        fix = self.fix(tool)
        exe = shutil.which(tool, path=path)
        if exe is None:
            where = "not in devctl's tool store, not on PATH" if self.wanted(tool) else "not found on PATH"
            raise ToolNotFound(tool, fix, f"{tool} is not installed ({where})")
        asked = f"`{tool} {' '.join(spec.version_args)}`"
        try:
            said = probe(exe, spec.version_args)
        except DevctlError as err:
            raise ToolNotFound(tool, fix, f"{exe} does not run: {asked} failed ({err})") from None
        version = parse_version(said)
        if version is None:
            first = said.strip().splitlines()[0][:120] if said.strip() else "nothing"
            raise ToolNotFound(tool, fix, f"cannot tell the version of {exe}: {asked} said {first!r}")
        if version < spec.minimum:
            raise ToolNotFound(
                tool,
                fix,
                f"{tool} {fmt(version)} at {exe} is older than {fmt(spec.minimum)}, the oldest devctl works with",
            )
        return Resolved(tool, exe, fmt(version), PATH)

    def fix(self, tool: str) -> str:
        """What to do when no usable ``tool`` is found."""
        wanted = self.wanted(tool)
        if wanted is None:
            return install_hint(tool)
        return f"run `devctl tools install` (puts the pinned {tool} {wanted.version} in devctl's tool store)"

    def path_entries(self) -> list[str]:
        """The store directories of the pinned tools that are there, for the front of a child's PATH."""
        out = []
        for tool in self.pins.pinned():
            try:
                entry = self.in_store(tool)
            except DevctlError:  # an unreadable lock: nothing from the store (resolving reports it)
                return []
            if entry is not None:
                out.append(str(entry.directory))
        return out

    def child_path(self, path: str | None) -> str | None:
        """``path`` with the store's directories in front (None when there is nothing to add)."""
        front = self.path_entries()
        if not front:
            return None
        return os.pathsep.join([*front, path] if path else front)
