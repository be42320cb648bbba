"""The real resolver reads what `devctl hosts add` wrote to /etc/hosts (in a private mount namespace).

A copy of /etc is bind-mounted over /etc (so backups and temp files land in the copy, never in the
machine's /etc), then a temp hosts file over /etc/hosts. /etc/hosts being a bind mount makes
rename() fail with EBUSY, as in containers, so this also exercises the in-place fallback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ORIGINAL = (
    b"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe80::1%lo0\tlocalhost\n"
    b"# caf\xc3\xa9 \xe9 comment\n\n256.1.1.1 bogus\n10.20.30.40\tother.test\n# no final newline"
)

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a mount namespace"),
    pytest.mark.skipif(
        not (shutil.which("unshare") and shutil.which("mount") and shutil.which("getent")),
        reason="needs unshare, mount and getent (util-linux, glibc)",
    ),
]

SCRIPT = r"""
set -e
mount --make-rprivate /
mount --bind "$WORK/etc" /etc
mount --bind "$WORK/hosts" /etc/hosts
devctl() { "$PY" -m devctl "$@"; }
devctl hosts add --hosts-file /etc/hosts > "$WORK/add.out"
getent hosts tour.xyz > "$WORK/getent.out"
devctl hosts status --hosts-file /etc/hosts --json > "$WORK/status.json"
devctl hosts remove --hosts-file /etc/hosts > "$WORK/remove.out"
ls -A /etc > "$WORK/etc-after.txt"
"""


@pytest.fixture
def namespace_work(tmp_path: Path) -> Path:
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"unshare -m is not permitted here: {probe.stderr.strip()}")
    shutil.copytree("/etc", tmp_path / "etc", symlinks=True)
    # The copy starts as a machine devctl never touched, whatever this machine's /etc holds.
    for leftover in (tmp_path / "etc").glob("hosts.devctl*"):
        leftover.unlink()
    for leftover in (tmp_path / "etc").glob(".hosts*devctl*"):
        leftover.unlink()
    (tmp_path / "hosts").write_bytes(ORIGINAL)
    return tmp_path


def test_getent_resolves_the_host_devctl_added_and_remove_restores_the_file(namespace_work: Path) -> None:
    work = namespace_work
    inode = (work / "hosts").stat().st_ino
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVCTL_")}
    env.update(WORK=str(work), PY=sys.executable)
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

    assert "/etc/hosts written" in (work / "add.out").read_text()
    assert (work / "getent.out").read_text().split() == ["127.0.0.1", "tour.xyz"]

    status = json.loads((work / "status.json").read_text())
    assert (status["ok"], status["system_file"], status["resolver"], status["warnings"]) == (
        True, True, ["127.0.0.1"], [])  # fmt: skip

    # Byte for byte, and the same inode: rename over a bind mount gives EBUSY, so it was written in place.
    assert (work / "hosts").read_bytes() == ORIGINAL
    assert (work / "hosts").stat().st_ino == inode
    etc_after = (work / "etc-after.txt").read_text().split()
    assert "hosts.devctl-backup" in etc_after
    assert (work / "etc" / "hosts.devctl-backup").read_bytes() == ORIGINAL
    assert [n for n in etc_after if "devctl-tmp" in n or "devctl-inplace" in n] == []
