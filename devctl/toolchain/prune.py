"""`devctl tools prune`: delete the store entries that no lock references.

The store is shared by every clone on the machine, so "a lock" is this repo's and that of every clone
that installed into the store (``Store.remember_lock``) and still exists. An entry is kept when one of
those locks names its checksum, or when a lock has no checksum for this platform at that version (the
entry came from `tools install --trust-published`). Unfinished downloads (a killed devctl) go too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from devctl.errors import ConfigError
from devctl.toolchain.lockfile import Lock, read_lock
from devctl.toolchain.resolve import Toolchain


def prune(
    tc: Toolchain, say: Callable[[str], None], warn: Callable[[str], None], *, dry_run: bool = False
) -> list[Path]:
    """Remove what no lock references (with ``dry_run``, only say what); say each removal; return the paths."""
    store = tc.store
    keep: set[tuple[str, str, str]] = set()
    keep_any: set[tuple[str, str]] = set()  # (tool, version) whose lock has no checksum here

    own = tc.lock()
    _note(own, tc, keep, keep_any)
    for tool, version in tc.pins.pinned().items():
        if own is None or own.entry(tool, version, tc.platform or "") is None:
            keep_any.add((tool, version))
    for path in store.remembered_locks():
        if path == tc.lock_path.resolve():
            continue  # read above
        try:
            lock = read_lock(path)
        except ConfigError as err:
            warn(f"nothing removed: cannot tell what another clone's lock references ({err.message})")
            return []
        if lock is None:
            if not dry_run:
                store.forget_lock(path)  # that clone is gone
            continue
        _note(lock, tc, keep, keep_any)

    verb = "would remove" if dry_run else "removed"
    removed = []
    for entry in store.entries():
        if (entry.tool, entry.version, entry.sha256) in keep or (entry.tool, entry.version) in keep_any:
            continue
        if not dry_run:
            store.remove(entry.directory)
        say(f"{verb} {entry.tool} {entry.version} (sha256 {entry.sha256}): {entry.directory}")
        removed.append(entry.directory)
    for leftover in store.leftovers():
        if not dry_run:
            store.remove(leftover)
        say(f"{verb} an unfinished download: {leftover}")
        removed.append(leftover)
    if not removed:
        say(f"nothing to remove: every entry in {store.root} is referenced by a lock")
    return removed


def _note(lock: Lock | None, tc: Toolchain, keep: set[tuple[str, str, str]], keep_any: set[tuple[str, str]]) -> None:
    if lock is None:
        return
    keep.update(lock.digests())
    for tool, locked in lock.tools.items():
        entry = locked.platforms.get(tc.platform or "")
        if entry is None or entry.sha256 is None:
            keep_any.add((tool, locked.version))
