"""The shared store of verified tool binaries: ``<root>/<tool>/<version>/<sha256>/<tool>``.

Keyed by tool, version and checksum, so every clone (whatever its lock) shares one copy of each binary.
An entry directory exists only once its binary was verified: a download goes into a temporary directory
next to the entries (``.tmp-*``), is checked against the wanted SHA-256 while it is still not executable,
and only then is made executable and renamed into place, one atomic rename. An interrupted or corrupt
download therefore never leaves a usable binary. Installs of one tool and version take an exclusive lock
(``fcntl.flock``) first, so two devctl processes installing at once download once and end with one copy.

Reading (``find``, ``entries``) never creates a file or directory: resolving a tool, `doctor` and
`status` look only. Writing is ``staging`` (installs), ``remember_lock`` and ``remove`` (prune).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from devctl.errors import DevctlError
from devctl.toolchain.catalog import is_sha256

TEMP_PREFIX = ".tmp-"
LOCKS_DIR = ".locks"  # which clones' lock files reference entries (for prune)
_LOCK_FILE = ".install.lock"


class StoreError(DevctlError):
    """The store cannot be written (permissions, a full disk) or holds something unexpected."""


@dataclass(frozen=True)
class StoreEntry:
    tool: str
    version: str
    sha256: str
    binary: Path

    @property
    def directory(self) -> Path:
        return self.binary.parent


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- reading (never writes) ------------------------------------------------------------------

    def binary(self, tool: str, version: str, sha256: str) -> Path:
        return self.root / tool / version / sha256 / tool

    def find(self, tool: str, version: str, sha256: str | None) -> StoreEntry | None:
        """The entry for this tool and version with this checksum. Without a checksum (the lock has none for
        this platform), the entry `tools install --trust-published` made for this version, if any."""
        if sha256 is not None:
            path = self.binary(tool, version, sha256)
            return StoreEntry(tool, version, sha256, path) if _usable(path) else None
        for entry in self._entries_of(tool, version):
            return entry
        return None

    def entries(self) -> list[StoreEntry]:
        """Every complete entry, in a stable order."""
        out: list[StoreEntry] = []
        for tool in _dirs(self.root):
            if tool.startswith("."):
                continue
            for version in _dirs(self.root / tool):
                out.extend(self._entries_of(tool, version))
        return out

    def leftovers(self) -> list[Path]:
        """Temporary directories of downloads that never finished (a killed devctl)."""
        return [
            self.root / tool / version / name
            for tool in _dirs(self.root)
            if not tool.startswith(".")
            for version in _dirs(self.root / tool)
            for name in _dirs(self.root / tool / version)
            if name.startswith(TEMP_PREFIX)
        ]

    def remembered_locks(self) -> list[Path]:
        """The lock files of the clones that installed into this store (see ``remember_lock``)."""
        out = []
        for name in _files(self.root / LOCKS_DIR):
            try:
                out.append(Path((self.root / LOCKS_DIR / name).read_text(encoding="utf-8").strip()))
            except (OSError, UnicodeDecodeError):
                continue
        return out

    def _entries_of(self, tool: str, version: str) -> Iterator[StoreEntry]:
        for name in _dirs(self.root / tool / version):
            path = self.binary(tool, version, name)
            if is_sha256(name) and _usable(path):
                yield StoreEntry(tool, version, name, path)

    # -- writing ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def staging(self, tool: str, version: str) -> Iterator[Staging]:
        """A place to download one binary of ``tool`` at ``version``, holding that version's install lock.

        Whatever ends the block without ``commit`` (an error, Ctrl-C) removes the download and the
        directories this call created, so a failed install leaves nothing behind.
        """
        version_dir = self.root / tool / version
        created: list[Path] = []
        try:
            with _exclusive(version_dir, created):
                tmp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=version_dir))
                try:
                    yield Staging(self, tool, version, tmp)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)  # gone already after a commit (renamed)
        except BaseException:
            for d in reversed(created):
                with contextlib.suppress(OSError):
                    d.rmdir()  # only when empty: another install may have put an entry there meanwhile
            raise

    def remember_lock(self, lock_path: Path) -> None:
        """Note that the clone whose lock is ``lock_path`` uses this store (prune keeps what it references)."""
        lock_path = lock_path.resolve()
        d = self.root / LOCKS_DIR
        name = hashlib.sha256(str(lock_path).encode()).hexdigest()[:24]
        try:
            d.mkdir(parents=True, exist_ok=True)
            if (d / name).is_file():
                return
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=d)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(str(lock_path) + "\n")
            os.replace(tmp, d / name)
        except OSError as err:
            raise StoreError(f"cannot write to the tool store {self.root}: {err.strerror or err}") from None

    def forget_lock(self, lock_path: Path) -> None:
        lock_path = lock_path.resolve()
        name = hashlib.sha256(str(lock_path).encode()).hexdigest()[:24]
        with contextlib.suppress(OSError):
            (self.root / LOCKS_DIR / name).unlink()

    def remove(self, path: Path) -> None:
        """Delete an entry (or a leftover download) under its version's install lock, then the directories
        it leaves empty."""
        version_dir = path.parent
        try:
            with _exclusive(version_dir, []):
                shutil.rmtree(path)
        except FileNotFoundError:
            pass
        except OSError as err:
            raise StoreError(f"cannot remove {path}: {err.strerror or err}") from None
        for d in (version_dir, version_dir.parent):
            with contextlib.suppress(OSError):
                d.rmdir()


class Staging:
    """One download in progress: ``file`` receives the bytes, ``commit`` verifies and installs them."""

    def __init__(self, store: Store, tool: str, version: str, tmp: Path) -> None:
        self.store = store
        self.tool = tool
        self.version = version
        self._tmp = tmp
        self._path = tmp / tool
        # Not executable until verified: 0600 now, 0755 only in commit.
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.file: BinaryIO = os.fdopen(fd, "wb")

    def existing(self, sha256: str) -> StoreEntry | None:
        """The entry another devctl finished while this one waited for the lock."""
        return self.store.find(self.tool, self.version, sha256)

    def commit(self, sha256: str) -> StoreEntry:
        """Make the verified download executable and rename its directory into place (one atomic rename)."""
        final = self._tmp.parent / sha256
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.chmod(self._path, 0o755)
            try:
                os.rename(self._tmp, final)  # replaces an empty directory; fails on a non-empty one
            except OSError as err:
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not _usable(final / self.tool):
                    raise
            _fsync_dir(self._tmp.parent)
        except OSError as err:
            raise StoreError(f"cannot install into {final}: {err.strerror or err}") from None
        return StoreEntry(self.tool, self.version, sha256, final / self.tool)


@contextlib.contextmanager
def _exclusive(directory: Path, created: list[Path]) -> Iterator[None]:
    """Hold ``directory``'s install lock, creating the directory (and noting in ``created`` what this call
    made). The lock file is removed on the way out while still held; a waiter that then gets the lock on
    the removed file notices (its inode is no longer the path's) and takes the new one."""
    lock_path = directory / _LOCK_FILE
    for _ in range(50):
        try:
            _make_dirs(directory, created)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            continue  # a failed install removed the directory between the two calls: make it again
        except OSError as err:
            raise StoreError(f"cannot write to the tool store {directory}: {err.strerror or err}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                try:
                    yield
                finally:
                    with contextlib.suppress(OSError):
                        os.unlink(lock_path)
                return
        finally:
            os.close(fd)  # also releases the lock
    raise StoreError(f"cannot take the install lock in {directory}", hint="try again")


def _make_dirs(directory: Path, created: list[Path]) -> None:
    missing = []
    d = directory
    while not d.exists():
        missing.append(d)
        d = d.parent
    for d in reversed(missing):
        try:
            d.mkdir()
            created.append(d)
        except FileExistsError:
            pass


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _dirs(path: Path) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(path) if e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def _files(path: Path) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(path) if e.is_file(follow_symlinks=False))
    except OSError:
        return []
