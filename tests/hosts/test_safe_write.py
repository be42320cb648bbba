"""devctl.hosts.safe_write: strict read, lock, one backup, atomic replace, in-place fallback for bind mounts."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from devctl.errors import DevctlError
from devctl.hosts import safe_write
from devctl.hosts.block import plan_add, plan_remove
from devctl.hosts.safe_write import HostsReadError, HostsWriteError, apply, backup_path, read_hosts

REPO = Path(__file__).resolve().parents[2]
ORIGINAL = b"127.0.0.1\tlocalhost\r\nfe80::1%lo0\tlocalhost\r\n# caf\xe9 (latin-1)\r\nnot an entry"
IS_ROOT = os.geteuid() == 0
# Root without the capabilities that bypass file permissions: an honest "this user cannot read/write it".
WITHOUT_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
needs_root_setpriv = pytest.mark.skipif(
    not IS_ROOT or shutil.which("setpriv") is None, reason="needs root and setpriv (util-linux) to drop capabilities"
)


def adder(ip: str = "127.0.0.1", cluster: str = "tour"):  # type: ignore[no-untyped-def]
    return lambda data: plan_add(data, "tour.xyz", ip, cluster)


def remover(data: bytes):  # type: ignore[no-untyped-def]
    return plan_remove(data, "tour.xyz", "tour")


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    p = tmp_path / "etc" / "hosts"
    p.parent.mkdir()
    p.write_bytes(ORIGINAL)
    p.chmod(0o644)
    return p


def leftovers(hosts: Path) -> list[str]:
    return sorted(p.name for p in hosts.parent.iterdir() if p.name != hosts.name)


# --- the normal path ---------------------------------------------------------------------------------


def test_add_replaces_the_file_atomically_and_keeps_a_backup_of_the_original(hosts: Path) -> None:
    inode = hosts.stat().st_ino
    applied = apply(hosts, adder())
    assert applied.method == "replace"
    assert hosts.read_bytes() == plan_add(ORIGINAL, "tour.xyz", "127.0.0.1", "tour").new
    assert hosts.stat().st_ino != inode  # a new file was renamed over the old one
    assert applied.backup == backup_path(hosts)
    assert backup_path(hosts).read_bytes() == ORIGINAL
    assert leftovers(hosts) == ["hosts.devctl-backup"]  # no temp file left behind


def test_add_then_remove_restores_the_file_byte_for_byte(hosts: Path) -> None:
    apply(hosts, adder())
    apply(hosts, remover)
    assert hosts.read_bytes() == ORIGINAL


def test_nothing_is_written_when_the_plan_is_unchanged(hosts: Path) -> None:
    before = hosts.stat()
    applied = apply(hosts, remover)  # there is no block to remove
    assert (applied.method, applied.backup) == (None, None)
    after = hosts.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert leftovers(hosts) == []


def test_the_backup_keeps_the_file_as_it_was_before_devctls_first_change(hosts: Path) -> None:
    apply(hosts, adder())
    apply(hosts, remover)
    hosts.write_bytes(b"# edited later by the user\n")
    apply(hosts, adder())
    assert backup_path(hosts).read_bytes() == ORIGINAL


def test_the_mode_is_kept(hosts: Path) -> None:
    hosts.chmod(0o640)
    apply(hosts, adder())
    assert stat.S_IMODE(hosts.stat().st_mode) == 0o640


@pytest.mark.skipif(not IS_ROOT, reason="changing a file's owner needs root")
def test_the_owner_is_kept(hosts: Path) -> None:
    os.chown(hosts, 1234, 4321)
    apply(hosts, adder())
    st = hosts.stat()
    assert (st.st_uid, st.st_gid) == (1234, 4321)


def test_extended_attributes_are_kept(hosts: Path) -> None:
    try:
        os.setxattr(hosts, "user.devctl-test", b"label")
    except OSError as err:
        pytest.skip(f"this filesystem has no user xattrs ({err.strerror})")
    apply(hosts, adder())
    assert os.getxattr(hosts, "user.devctl-test") == b"label"


def test_a_failed_backup_writes_nothing(hosts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(path: Path, data: bytes, mode: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safe_write, "_write_file", full_disk)
    with pytest.raises(HostsWriteError, match=r"cannot write the backup .* was not changed"):
        apply(hosts, adder())
    assert hosts.read_bytes() == ORIGINAL
    assert leftovers(hosts) == []


# --- rename impossible: in-place fallback ------------------------------------------------------------


def _rename_busy(monkeypatch: pytest.MonkeyPatch, code: int = errno.EBUSY) -> None:
    def busy(src: str, dst: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(safe_write.os, "replace", busy)


@pytest.mark.parametrize("code", [errno.EBUSY, errno.EXDEV])
def test_when_rename_is_impossible_the_file_is_written_in_place(
    hosts: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    # The backup itself is renamed into place too, so create it before rename starts failing.
    apply(hosts, adder())
    apply(hosts, remover)
    inode = hosts.stat().st_ino
    _rename_busy(monkeypatch, code)
    applied = apply(hosts, adder())
    assert applied.method == "in-place"
    assert hosts.stat().st_ino == inode
    assert hosts.read_bytes() == plan_add(ORIGINAL, "tour.xyz", "127.0.0.1", "tour").new
    assert leftovers(hosts) == ["hosts.devctl-backup"]  # the verified copy is gone once the write checked out


def test_a_failing_in_place_write_leaves_a_verified_copy_of_the_previous_bytes(
    hosts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply(hosts, adder())
    apply(hosts, remover)
    _rename_busy(monkeypatch)
    real_open = open

    def failing_open(file: object, mode: str = "r", *a: object, **kw: object):  # type: ignore[no-untyped-def]
        if mode == "r+b":
            raise OSError(errno.EIO, "Input/output error")
        return real_open(file, mode, *a, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(safe_write, "open", failing_open, raising=False)
    with pytest.raises(HostsWriteError) as err:
        apply(hosts, adder())
    keep = hosts.with_name("hosts.devctl-inplace")
    assert str(keep) in (err.value.hint or "")
    assert keep.read_bytes() == ORIGINAL
    assert hosts.read_bytes() == ORIGINAL


# --- interruptions -----------------------------------------------------------------------------------


def test_an_interrupt_between_temp_file_and_rename_leaves_the_original_intact(
    hosts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(src: str, dst: object) -> None:
        raise KeyboardInterrupt

    apply(hosts, adder())
    apply(hosts, remover)
    monkeypatch.setattr(safe_write.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        apply(hosts, adder())
    assert hosts.read_bytes() == ORIGINAL
    assert leftovers(hosts) == ["hosts.devctl-backup"]  # the temp file was cleaned up


def test_a_process_killed_before_rename_leaves_the_original_and_the_next_run_sweeps_its_temp_file(
    hosts: Path,
) -> None:
    apply(hosts, adder())  # make the backup now: the patched os.replace below would also hit its rename
    apply(hosts, remover)
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from devctl.hosts import safe_write
        from devctl.hosts.block import plan_add
        safe_write.os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)
        safe_write.apply(Path({str(hosts)!r}), lambda d: plan_add(d, "tour.xyz", "127.0.0.1", "tour"))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    assert hosts.read_bytes() == ORIGINAL
    stale = [n for n in leftovers(hosts) if n.startswith(".hosts.devctl-tmp-")]
    assert len(stale) == 1  # what a SIGKILL leaves; nothing can clean up inside the dying process
    apply(hosts, adder())
    assert [n for n in leftovers(hosts) if ".devctl-tmp-" in n] == []


# --- reading strictly --------------------------------------------------------------------------------


def test_a_missing_file_is_an_error_not_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(HostsReadError, match="does not exist"):
        apply(tmp_path / "nope", adder())
    assert not (tmp_path / "nope").exists()


def test_a_directory_is_not_read_as_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(HostsReadError, match=r"cannot read|not a regular file"):
        apply(tmp_path, adder())


class _Reader:
    """A file object whose read fails or comes back short, as an I/O error or a concurrent writer would."""

    def __init__(self, real: object, fail: bool) -> None:
        self.real = real
        self.fail = fail

    def fileno(self) -> int:
        return self.real.fileno()  # type: ignore[attr-defined,no-any-return]

    def read(self) -> bytes:
        if self.fail:
            raise OSError(errno.EIO, "Input/output error")
        return self.real.read()[:-5]  # type: ignore[attr-defined,no-any-return]

    def close(self) -> None:
        self.real.close()  # type: ignore[attr-defined]

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.mark.parametrize(
    ("fail", "message"), [(True, "Input/output error"), (False, f"read {len(ORIGINAL) - 5} bytes of")]
)
def test_a_read_that_fails_or_comes_back_short_writes_nothing(
    hosts: Path, monkeypatch: pytest.MonkeyPatch, fail: bool, message: str
) -> None:
    real_open = safe_write._open
    monkeypatch.setattr(safe_write, "_open", lambda p: _Reader(real_open(p), fail))
    with pytest.raises(HostsReadError, match=message):
        apply(hosts, adder())
    assert hosts.read_bytes() == ORIGINAL
    assert leftovers(hosts) == []


@needs_root_setpriv
def test_a_file_the_user_cannot_read_is_never_written(hosts: Path) -> None:
    hosts.chmod(0o600)
    os.chown(hosts, 1234, 1234)  # someone else's file: readable only through root's DAC override
    script = (
        "from pathlib import Path; from devctl.hosts import safe_write; from devctl.hosts.block import plan_add\n"
        f"safe_write.apply(Path({str(hosts)!r}), lambda d: plan_add(d, 'tour.xyz', '127.0.0.1', 'tour'))"
    )
    proc = subprocess.run([*WITHOUT_DAC, sys.executable, "-c", script], cwd=REPO, capture_output=True, timeout=60)
    assert proc.returncode == 1
    assert b"HostsReadError: cannot read" in proc.stderr and b"permission denied" in proc.stderr
    assert hosts.read_bytes() == ORIGINAL
    assert leftovers(hosts) == []


def test_read_hosts_returns_every_byte(hosts: Path) -> None:
    assert read_hosts(hosts) == ORIGINAL


# --- locking -----------------------------------------------------------------------------------------


def test_a_held_lock_makes_another_writer_wait_and_then_give_up(hosts: Path) -> None:
    with open(hosts, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        start = time.monotonic()
        with pytest.raises(DevctlError, match="another devctl process is editing"):
            apply(hosts, adder(), lock_timeout=0.3)
        assert time.monotonic() - start >= 0.3
    assert hosts.read_bytes() == ORIGINAL


_RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from devctl.hosts import block, safe_write

    hosts, name, cluster, host, go = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], Path(sys.argv[5])
    real = block.plan_add

    def slow(*a, **kw):  # widen the window between reading the file and writing it
        plan = real(*a, **kw)
        time.sleep(0.6)
        return plan

    (go.parent / f"ready-{name}").touch()
    while not go.exists():
        time.sleep(0.005)
    applied = safe_write.apply(hosts, lambda d: slow(d, host, "127.0.0.1", cluster))
    print(applied.plan.action)
    """
)


def _race(hosts: Path, racers: list[tuple[str, str]]) -> list[str]:
    """Start one process per (cluster, host), let them all go at once, return each one's plan action."""
    go = hosts.parent.parent / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(hosts), str(i), cluster, host, str(go)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i, (cluster, host) in enumerate(racers)
    ]
    deadline = time.monotonic() + 30
    while not all((go.parent / f"ready-{i}").exists() for i in range(len(racers))):
        assert time.monotonic() < deadline, "racers did not start"
        time.sleep(0.01)
    go.touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
        outs.append(out.decode().strip())
    return outs


def test_two_concurrent_adds_in_two_processes_produce_one_block(hosts: Path) -> None:
    # Both read at once; without the lock both would plan "add". With it, the second one waits,
    # notices the file was replaced under its lock, re-reads and finds the block.
    outs = _race(hosts, [("tour", "tour.xyz"), ("tour", "tour.xyz")])
    assert sorted(outs) == ["add", "none"]
    assert hosts.read_bytes().count(b"# BEGIN devctl cluster=tour ") == 1
    assert hosts.read_bytes() == plan_add(ORIGINAL, "tour.xyz", "127.0.0.1", "tour").new


def test_concurrent_adds_of_different_clusters_both_survive(hosts: Path) -> None:
    _race(hosts, [("one", "one.test"), ("two", "two.test")])
    data = hosts.read_bytes()
    assert b"# BEGIN devctl cluster=one " in data and b"# BEGIN devctl cluster=two " in data
    # Removed last-in first-out: ORIGINAL has no final newline, and only the block at the end of the
    # file knows that devctl added one.
    first = b"# BEGIN devctl cluster=one " if data.index(b"cluster=one ") < data.index(b"cluster=two ") else b""
    order = [("two", "two.test"), ("one", "one.test")] if first else [("one", "one.test"), ("two", "two.test")]
    for cluster, host in order:
        data = plan_remove(data, host, cluster).new
    assert data == ORIGINAL
