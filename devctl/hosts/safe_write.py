"""Reading and writing a hosts file safely: strict read, lock, backup, atomic replace, in-place fallback.

python-hosts' ``write()`` truncates and rewrites the file in place, and its read swallows errors
(hosts-file.md §5 pitfalls 1 and 4); devctl never uses either. Here:

- a read either returns every byte of the file or raises (no write ever starts from a partial read);
- an exclusive lock on the file serialises devctl processes (read, plan and write happen under it);
- before devctl's first change, the file is copied to ``<file>.devctl-backup`` (kept from then on);
- the new content goes to a temp file in the same directory (fsync, same mode, owner and xattrs),
  renamed over the file; where rename is impossible (a bind-mounted ``/etc/hosts`` in a container
  gives EBUSY, another filesystem EXDEV, hosts-file.md §6), the file is rewritten in place after a
  verified copy of its current bytes was written next to it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from devctl.errors import DevctlError
from devctl.hosts.block import BlockPlan

BACKUP_SUFFIX = ".devctl-backup"  # the file as it was before devctl's first change; never overwritten
INPLACE_SUFFIX = ".devctl-inplace"  # the bytes before an in-place write; removed once the write is verified
TMP_MARK = ".devctl-tmp-"
LOCK_TIMEOUT = 30.0
LOCK_POLL = 0.05

Method = Literal["replace", "in-place"]


class HostsReadError(DevctlError):
    """The hosts file could not be read completely; nothing was written."""


class HostsWriteError(DevctlError):
    """Writing the hosts file failed; the message says what state the file is in."""


@dataclass(frozen=True)
class Applied:
    plan: BlockPlan
    method: Method | None  # None: nothing needed writing
    backup: Path | None


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + BACKUP_SUFFIX)


def can_write(path: Path) -> bool:
    """Whether this process may change the file devctl's way (temp file and backup in its directory)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


# --- reading ----------------------------------------------------------------------------------------


def _open(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise HostsReadError(f"{path} does not exist", hint="check --hosts-file / DEVCTL_HOSTS_FILE") from None
    except PermissionError:
        raise HostsReadError(f"cannot read {path}: permission denied; nothing was changed") from None
    except OSError as err:
        raise HostsReadError(f"cannot read {path}: {err.strerror or err}; nothing was changed") from None


def _read_all(fh: BinaryIO, path: Path) -> bytes:
    try:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise HostsReadError(f"{path} is not a regular file; nothing was changed")
        data = fh.read()
    except OSError as err:
        raise HostsReadError(f"cannot read {path}: {err.strerror or err}; nothing was changed") from None
    if len(data) != st.st_size:
        # Someone else is rewriting it right now (without devctl's lock): do not plan from a torn read.
        raise HostsReadError(
            f"read {len(data)} bytes of {path} but it has {st.st_size}; nothing was changed",
            hint="another program may be editing it: retry",
        )
    return data


def read_hosts(path: Path) -> bytes:
    """Every byte of the file, or HostsReadError."""
    with _open(path) as fh:
        return _read_all(fh, path)


# --- locking ----------------------------------------------------------------------------------------


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same_file(fh: BinaryIO, path: Path) -> bool:
    try:
        now = os.stat(path)
    except OSError:
        return False
    mine = os.fstat(fh.fileno())
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)


@contextlib.contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[BinaryIO]:
    """The file, open for reading and exclusively locked (flock) against other devctl processes.

    The lock lives on the inode, and a replace makes a new inode: a process that waited on the old
    one would read stale bytes, so after locking it checks the path still names the locked inode and
    otherwise starts over on the new file.
    """
    deadline = time.monotonic() + timeout
    while True:
        fh = _open(path)
        try:
            while not _try_lock(fh.fileno()):
                if time.monotonic() >= deadline:
                    raise DevctlError(
                        f"another devctl process is editing {path} (waited {timeout:g} s for its lock)",
                        hint="wait for it to finish, then retry",
                    )
                time.sleep(LOCK_POLL)
            if _same_file(fh, path):
                break
        except BaseException:
            fh.close()
            raise
        fh.close()
    try:
        yield fh
    finally:
        fh.close()  # releases the lock


# --- writing ----------------------------------------------------------------------------------------


class _CannotReplace(Exception):
    """Rename over the file is impossible or would change its metadata: write in place instead."""


def _fsync_dir(directory: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_metadata(fd: int, path: Path, st: os.stat_result) -> None:
    """Give the temp file the original's mode, owner and extended attributes (SELinux label), or refuse."""
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
        try:
            os.fchown(fd, st.st_uid, st.st_gid)
        except PermissionError as err:
            raise _CannotReplace("cannot keep the file's owner") from err
    if not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(path)
    except OSError:
        return  # the filesystem has no xattrs
    for name in names:
        try:
            value = os.getxattr(path, name)
            if name not in os.listxattr(fd) or os.getxattr(fd, name) != value:
                os.setxattr(fd, name, value)
        except OSError as err:
            raise _CannotReplace(f"cannot copy extended attribute {name}") from err


def _write_file(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _replace(path: Path, data: bytes, st: os.stat_result) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{TMP_MARK}")
    tmp: Path | None = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            _copy_metadata(f.fileno(), path, st)
            os.fsync(f.fileno())
        try:
            os.replace(tmp_name, path)
        except OSError as err:
            if err.errno in (errno.EBUSY, errno.EXDEV):
                raise _CannotReplace(err.strerror) from err
            raise
        tmp = None
        _fsync_dir(path.parent)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _write_in_place(path: Path, old: bytes, new: bytes, st: os.stat_result) -> None:
    keep = path.with_name(path.name + INPLACE_SUFFIX)
    _write_file(keep, old, stat.S_IMODE(st.st_mode))
    if keep.read_bytes() != old:
        raise HostsWriteError(f"could not verify the copy {keep} of {path}; {path} was not changed")
    try:
        with open(path, "r+b") as f:
            if os.fstat(f.fileno()).st_ino != st.st_ino:
                raise HostsWriteError(f"{path} was replaced while devctl held its lock; it was not changed")
            f.write(new)
            f.truncate()
            f.flush()
            os.fsync(f.fileno())
        written_ok = path.read_bytes() == new
    except OSError as err:
        raise HostsWriteError(
            f"writing {path} in place failed ({err.strerror or err})",
            hint=f"its previous content is in {keep}: check the file and copy that back if needed",
        ) from err
    if not written_ok:
        raise HostsWriteError(
            f"{path} does not read back as written",
            hint=f"its previous content is in {keep}: check the file and copy that back if needed",
        )
    keep.unlink()


def _remove_stale_temps(path: Path) -> None:
    """Temp files of a devctl that was killed between write and rename (only a lock holder writes them)."""
    for stale in path.parent.glob(f".{path.name}{TMP_MARK}*"):
        with contextlib.suppress(OSError):
            stale.unlink()


def _ensure_backup(path: Path, data: bytes, st: os.stat_result) -> Path:
    bak = backup_path(path)
    if os.path.lexists(bak):
        return bak  # the copy from before devctl's first change stays as it is
    tmp = bak.with_name(bak.name + ".tmp")
    try:
        _write_file(tmp, data, stat.S_IMODE(st.st_mode))
        if tmp.read_bytes() != data:
            raise OSError(errno.EIO, "backup does not read back as written")
        os.replace(tmp, bak)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise HostsWriteError(f"cannot write the backup {bak} ({err.strerror or err}); {path} was not changed") from err
    return bak


def write_locked(path: Path, fh: BinaryIO, old: bytes, new: bytes) -> tuple[Method, Path]:
    """Replace the content of the locked file ``fh`` (which holds ``old``) by ``new``."""
    st = os.fstat(fh.fileno())
    _remove_stale_temps(path)
    bak = _ensure_backup(path, old, st)
    # Native Windows: renaming over an open file fails and would drop the file's ACLs; write in place.
    if sys.platform != "win32":
        try:
            _replace(path, new, st)
            return "replace", bak
        except _CannotReplace:
            pass
        except OSError as err:
            raise HostsWriteError(f"cannot write {path} ({err.strerror or err}); it was not changed") from err
    _write_in_place(path, old, new, st)
    return "in-place", bak


def apply(path: Path, planner: Callable[[bytes], BlockPlan], *, lock_timeout: float = LOCK_TIMEOUT) -> Applied:
    """Read, plan and write under one lock, so a concurrent devctl cannot slip in between."""
    with locked(path, lock_timeout) as fh:
        old = _read_all(fh, path)
        plan = planner(old)
        if not plan.changed:
            return Applied(plan, None, None)
        method, bak = write_locked(path, fh, old, plan.new)
    return Applied(plan, method, bak)
