"""`devctl tools install` against a real HTTP server on 127.0.0.1 serving a fake release tree under the
upstream paths (tests/release_server.py), reached through DEVCTL_TOOLS_MIRROR or as the lock's origin.

Only a binary whose SHA-256 the lock names is installed; every failure is one line, exit 1, and leaves
nothing in the store.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devctl.toolchain.platforms import current_platform
from tests.conftest import run_cli
from tests.release_server import (
    PINS,
    PROXY_VARS,
    ReleaseServer,
    checksum_file,
    files_under,
    lock_for,
    serving,
    sha256_of,
    upstream_path,
    without,
    write_repo,
)

PLATFORM = current_platform()
KIND = upstream_path("kind", PINS["kind"], PLATFORM)
KIND_SUM = KIND + ".sha256sum"


@dataclass
class Clone:
    repo: Path
    store: Path

    def entry(self, tool: str, body: bytes) -> Path:
        return self.store / tool / PINS[tool] / sha256_of(body) / tool


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Clone:
    """A clone of a repo pinning the fakes' versions, run from, with its own empty store and no proxy."""
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    for var in list(os.environ):
        if var.startswith("DEVCTL_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    repo = tmp_path / "repo"
    write_repo(repo, None)
    monkeypatch.chdir(repo)
    return Clone(repo, tmp_path / "data" / "devctl" / "tools")


@pytest.fixture
def server() -> Iterator[ReleaseServer]:
    with serving() as s:
        yield s


@pytest.fixture
def mirrored(clone: Clone, server: ReleaseServer, monkeypatch: pytest.MonkeyPatch) -> ReleaseServer:
    """The clone's lock names the upstream URLs and the tree's checksums; the server mirrors upstream."""
    write_repo(clone.repo, lock_for(server.files))
    monkeypatch.setenv("DEVCTL_TOOLS_MIRROR", server.url)
    return server


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("ERROR:")]


def binaries(server: ReleaseServer) -> list[str]:
    return [p for p in server.requests if not p.endswith((".sha256", ".sha256sum"))]


# -- installing ------------------------------------------------------------------------------------


def test_a_clean_store_gets_each_pinned_tool_verified_and_executable(clone: Clone, mirrored: ReleaseServer) -> None:
    res = run_cli("tools", "install")
    assert res.exit_code == 0, res.stderr
    for tool, version in PINS.items():
        path = upstream_path(tool, version, PLATFORM)
        body = mirrored.files[path]
        binary = clone.entry(tool, body)
        assert binary.read_bytes() == body
        assert os.access(binary, os.X_OK)
        assert mirrored.got(path) == 1
        assert f"{tool} {version} ({PLATFORM}): installed {binary} (sha256 {sha256_of(body)}" in res.stderr
    assert not [p for p in mirrored.requests if p.endswith((".sha256", ".sha256sum"))], "the lock is the trust"
    # The binaries run: each execs the fake of that tool, which reports the pinned version.
    world = {**os.environ, "DEVCTL_FAKE_STATE": str(clone.repo / "fake-state"), "DEVCTL_FAKE_PYTHON": sys.executable}
    kind = clone.entry("kind", mirrored.files[KIND])
    done = subprocess.run([kind, "version"], capture_output=True, text=True, env=world)
    assert done.stdout.startswith("kind v0.31.0 ")


def test_a_second_install_downloads_nothing(clone: Clone, mirrored: ReleaseServer) -> None:
    assert run_cli("tools", "install").exit_code == 0
    before = list(mirrored.requests)
    res = run_cli("tools", "install")
    assert res.exit_code == 0, res.stderr
    assert mirrored.requests == before
    assert f"kind v0.31.0 ({PLATFORM}): in the store, {clone.entry('kind', mirrored.files[KIND])}" in res.stderr


def test_download_progress_is_plain_lines_when_piped(clone: Clone, mirrored: ReleaseServer) -> None:
    res = run_cli("tools", "install")
    size = len(mirrored.files[KIND])
    assert f"downloading kind v0.31.0 ({PLATFORM}) ({size / 1000:.1f} kB) from {mirrored.url}{KIND}" in res.stderr
    assert f"  kind v0.31.0 ({PLATFORM}): 50% (" in res.stderr
    assert "\x1b" not in res.stderr


def test_a_corrupt_download_is_refused_and_nothing_is_installed(clone: Clone, mirrored: ReleaseServer) -> None:
    good = mirrored.files[KIND]
    mirrored.files[KIND] = good.replace(b"exec", b"EXEC", 1)
    res = run_cli("tools", "install")
    assert res.exit_code == 1
    [line] = errors(res.stderr)
    assert line.startswith(
        f"ERROR: checksum mismatch for kind v0.31.0: {mirrored.url}{KIND} has sha256 "
        f"{sha256_of(mirrored.files[KIND])}, expected {sha256_of(good)}"
    )
    assert "Traceback" not in res.output
    assert files_under(clone.store.parent) == []


def test_a_body_cut_short_leaves_nothing(clone: Clone, mirrored: ReleaseServer) -> None:
    mirrored.truncate.add(KIND)
    res = run_cli("tools", "install")
    assert res.exit_code == 1
    size = len(mirrored.files[KIND])
    [line] = errors(res.stderr)
    assert line.startswith(
        f"ERROR: download of {mirrored.url}{KIND} failed: the connection closed after {size // 2} of {size} bytes "
        f"(DEVCTL_TOOLS_MIRROR={mirrored.url})"
    )
    assert files_under(clone.store.parent) == []


@pytest.mark.parametrize(("status", "reason"), [(404, "Not Found"), (500, "Internal Server Error")])
def test_an_http_error_is_one_line_naming_the_url_status_and_mirror(
    clone: Clone, mirrored: ReleaseServer, status: int, reason: str
) -> None:
    mirrored.status[KIND] = status
    res = run_cli("tools", "install")
    assert res.exit_code == 1
    assert errors(res.stderr) == [
        f"ERROR: download of {mirrored.url}{KIND} failed: HTTP {status} {reason} "
        f"(DEVCTL_TOOLS_MIRROR={mirrored.url}) — check that the mirror serves the upstream paths, or unset "
        "DEVCTL_TOOLS_MIRROR"
    ]
    assert files_under(clone.store.parent) == []


def test_a_refused_connection_is_one_line(
    clone: Clone, mirrored: ReleaseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("DEVCTL_TOOLS_MIRROR", dead)
    res = run_cli("tools", "install")
    assert res.exit_code == 1
    [line] = errors(res.stderr)
    assert line.startswith(f"ERROR: download of {dead}{KIND} failed: connection refused (DEVCTL_TOOLS_MIRROR={dead})")
    assert files_under(clone.store.parent) == []


def test_two_installs_at_once_download_once_and_end_with_one_good_copy(clone: Clone, mirrored: ReleaseServer) -> None:
    mirrored.delay = 0.5  # both are downloading (or waiting for the other) at the same time
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "devctl", "tools", "install"],
            cwd=clone.repo,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    for tool, version in PINS.items():
        path = upstream_path(tool, version, PLATFORM)
        assert mirrored.got(path) == 1
        assert clone.entry(tool, mirrored.files[path]).read_bytes() == mirrored.files[path]
        assert files_under(clone.store / tool) == [
            version,
            f"{version}/{sha256_of(mirrored.files[path])}",
            f"{version}/{sha256_of(mirrored.files[path])}/{tool}",
        ]


def test_an_interrupted_download_leaves_nothing(clone: Clone, mirrored: ReleaseServer) -> None:
    mirrored.delay = 5.0
    proc = subprocess.Popen(
        [sys.executable, "-m", "devctl", "tools", "install"],
        cwd=clone.repo,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not mirrored.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mirrored.requests == [KIND]  # the download has begun: the store has its temporary directory
    assert (clone.store / "kind" / "v0.31.0").is_dir()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Interrupted." in err
    assert files_under(clone.store.parent) == []


def test_dry_run_says_what_it_would_download_and_writes_nothing(clone: Clone, mirrored: ReleaseServer) -> None:
    res = run_cli("--dry-run", "tools", "install")
    assert res.exit_code == 0, res.stderr
    assert f"would download kind v0.31.0 from {mirrored.url}{KIND} (sha256 {sha256_of(mirrored.files[KIND])})" in (
        res.stdout
    )
    assert mirrored.requests == []
    assert not clone.store.parent.exists()


# -- a lock without the checksum ---------------------------------------------------------------------


def test_a_platform_missing_from_the_lock_is_refused_naming_the_fix(clone: Clone, mirrored: ReleaseServer) -> None:
    write_repo(clone.repo, without(lock_for(mirrored.files), "kind", PLATFORM))
    res = run_cli("tools", "install")
    assert res.exit_code == 1
    [line] = errors(res.stderr)
    assert f"ERROR: kind v0.31.0 ({PLATFORM}): devctl-tools.lock.json has no entry for it" in line
    assert "run `devctl tools lock`" in line and "--trust-published" in line
    assert mirrored.requests == []
    assert not clone.store.parent.exists()


@pytest.fixture
def origin(clone: Clone) -> Iterator[ReleaseServer]:
    """A second server as the upstream origin: the clone's lock names its URLs, without kind's checksum here."""
    with serving() as o:
        write_repo(clone.repo, without(lock_for(o.files, origin=o.url), "kind", PLATFORM, keep_url=True))
        yield o


def test_trust_published_reads_the_checksum_from_the_origin_never_the_mirror(
    clone: Clone, origin: ReleaseServer, server: ReleaseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVCTL_TOOLS_MIRROR", server.url)
    server.files[KIND_SUM] = b"0" * 64 + b"  kind-" + PLATFORM.encode() + b"\n"  # the mirror's would not match
    assert run_cli("tools", "install").exit_code == 1  # without the flag: refused
    res = run_cli("tools", "install", "--trust-published")
    assert res.exit_code == 0, res.stderr
    assert origin.got(KIND_SUM) == 1 and server.got(KIND_SUM) == 0
    assert server.got(KIND) == 1 and origin.got(KIND) == 0  # the binary itself comes through the mirror
    assert clone.entry("kind", server.files[KIND]).read_bytes() == server.files[KIND]
    assert f"WARNING: kind v0.31.0 ({PLATFORM}): the lock has no checksum; trusting {origin.url}{KIND_SUM}" in (
        res.stderr
    )


def test_a_mirror_that_vouches_for_its_own_binary_is_refused(
    clone: Clone, origin: ReleaseServer, server: ReleaseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVCTL_TOOLS_MIRROR", server.url)
    tampered = server.files[KIND].replace(b"exec", b"EXEC", 1)
    server.files[KIND] = tampered
    server.files[KIND_SUM] = checksum_file("kind", f"kind-{PLATFORM}", tampered)  # consistent with itself
    res = run_cli("tools", "install", "--trust-published")
    assert res.exit_code == 1
    [line] = errors(res.stderr)
    assert f"checksum mismatch for kind v0.31.0: {server.url}{KIND} has sha256 {sha256_of(tampered)}" in line
    assert f"expected {sha256_of(origin.files[KIND])}" in line
    assert server.got(KIND_SUM) == 0
    assert not clone.store.parent.exists()


# -- the network ---------------------------------------------------------------------------------------


def test_downloads_go_through_the_proxy_the_environment_names(
    clone: Clone, server: ReleaseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lock's origin does not resolve (.invalid, RFC 2606): only the proxy can reach it.
    write_repo(clone.repo, lock_for(server.files, origin="http://tools.invalid"))
    monkeypatch.setenv("HTTP_PROXY", server.url)
    res = run_cli("tools", "install")
    assert res.exit_code == 0, res.stderr
    assert f"http://tools.invalid{KIND}" in server.proxied
    monkeypatch.setenv("NO_PROXY", "tools.invalid")
    (clone.store / "kind").rename(clone.store.parent / "kind-away")  # kind missing again
    res = run_cli("tools", "install")
    assert res.exit_code == 1
    [line] = errors(res.stderr)
    assert f"download of http://tools.invalid{KIND} failed: cannot resolve the host" in line
