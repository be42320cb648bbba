"""`devctl up`'s first step: the pinned kind, kubectl and skaffold go into devctl's store before preflight.

A laptop with Docker and Python only: PATH holds docker (the fake) and nothing of kind, kubectl or
skaffold; the tools come from a real HTTP server on 127.0.0.1 through DEVCTL_TOOLS_MIRROR (a fake release
tree whose binaries exec the fakes), and `up` goes on against the fakes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devctl.devloop.api import free_port
from devctl.toolchain.lockfile import Lock
from devctl.toolchain.locking import skeleton
from devctl.toolchain.platforms import current_platform
from tests.conftest import FAKES, REPO, FakeWorld, run_cli
from tests.release_server import (
    PINS,
    PROXY_VARS,
    ReleaseServer,
    files_under,
    lock_for,
    serving,
    sha256_of,
    upstream_path,
    write_repo,
)

PLATFORM = current_platform()
MANIFEST = REPO / "tests" / "data" / "ingress-nginx-kind-v1.15.1.yaml"


@pytest.fixture
def server() -> Iterator[ReleaseServer]:
    with serving() as s:
        yield s


@pytest.fixture
def laptop(fake_tools: FakeWorld, server: ReleaseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone whose lock names the release tree's checksums, on a PATH with docker and no kind, kubectl or
    skaffold; the mirror set; tool installs allowed. Returns the clone."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(f"#!/bin/sh\nexec '{FAKES / 'docker'}' \"$@\"\n")
    (bin_dir / "docker").chmod(0o755)
    dirname = shutil.which("dirname")  # the fakes' shell stubs use it
    assert dirname is not None
    (bin_dir / "dirname").symlink_to(dirname)
    monkeypatch.setenv("PATH", str(bin_dir))
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    return clone_of(lock_for(server.files), server, tmp_path, monkeypatch)


def clone_of(lock: Lock, server: ReleaseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone of the repo with ``lock``, run from, reaching the release tree through the mirror, installs
    allowed; the stack's k8s/ and skaffold.yaml are the repo's."""
    monkeypatch.delenv("DEVCTL_NO_TOOL_INSTALL")
    monkeypatch.setenv("DEVCTL_TOOLS_MIRROR", server.url)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for var in ("DEVCTL_HTTP_PORT", "DEVCTL_HTTPS_PORT", "DEVCTL_REGISTRY_PORT"):
        monkeypatch.setenv(var, str(free_port()))
    monkeypatch.setenv("DEVCTL_INGRESS_MANIFEST", str(MANIFEST))
    monkeypatch.setenv("DEVCTL_MANIFESTS_DIR", str(REPO / "k8s"))
    monkeypatch.setenv("DEVCTL_SKAFFOLD_FILE", str(REPO / "skaffold.yaml"))
    clone = write_repo(tmp_path / "clone", lock)
    monkeypatch.chdir(clone)
    return clone


def store_dir(tmp_path: Path, tool: str, server: ReleaseServer) -> Path:
    body = server.files[upstream_path(tool, PINS[tool], PLATFORM)]
    return tmp_path / "data" / "devctl" / "tools" / tool / PINS[tool] / sha256_of(body)


def test_up_on_a_laptop_with_docker_and_python_installs_the_tools_then_creates_the_cluster(
    laptop: Path, fake_tools: FakeWorld, server: ReleaseServer, tmp_path: Path
) -> None:
    # As `make up` runs it: devctl's own entry point, in a process of its own, output piped.
    done = subprocess.run(
        [sys.executable, "-m", "devctl", "up", "--no-dev"],
        cwd=laptop,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Ready: http://tour.xyz:" in done.stdout
    err = done.stderr
    for tool in PINS:
        assert f"downloading {tool} {PINS[tool]} ({PLATFORM})" in err
        assert f"  {tool} {PINS[tool]} ({PLATFORM}): 100%" not in err  # quarters only, then the total
        assert (store_dir(tmp_path, tool, server) / tool).is_file()
    assert err.index("downloading skaffold") < err.index("✓ Preflight checks")
    assert ["create", "cluster"] in [a[:2] for a in fake_tools.argvs("kind")]
    # No version probes: every tool came from the store, whose checksum says what it is.
    assert not [c for c in fake_tools.calls() if c["argv"] in (["version"], ["version", "--client"])]


def test_skaffolds_kubectl_is_the_one_in_devctls_store(
    laptop: Path, fake_tools: FakeWorld, server: ReleaseServer, tmp_path: Path
) -> None:
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 0, res.stderr
    [build] = [c for c in fake_tools.calls("skaffold") if c["argv"][:1] == ["build"]]
    assert build["kubectl_on_path"] == str(store_dir(tmp_path, "kubectl", server) / "kubectl")


def test_a_second_up_installs_nothing(laptop: Path, server: ReleaseServer) -> None:
    assert run_cli("up", "--no-dev").exit_code == 0
    before = list(server.requests)
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 0, res.stderr
    assert server.requests == before
    assert " ✓ Tools: kind, kubectl, skaffold are in devctl's tool store" in res.stderr


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_no_install_downloads_nothing_and_preflight_names_the_fix(
    laptop: Path, server: ReleaseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "environment":
        monkeypatch.setenv("DEVCTL_NO_TOOL_INSTALL", "1")
    res = run_cli("up", "--no-dev", *(["--no-install"] if how == "flag" else []))
    assert res.exit_code == 1
    assert server.requests == []
    assert files_under(tmp_path / "data") == []
    [line] = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]
    assert "kind is not installed (not in devctl's tool store, not on PATH)" in line
    assert "run `devctl tools install`" in line and "also missing: kubectl, skaffold" in line


def test_a_failed_install_stops_up_before_anything_changes(
    laptop: Path, fake_tools: FakeWorld, server: ReleaseServer
) -> None:
    server.status[upstream_path("kubectl", PINS["kubectl"], PLATFORM)] = 503
    hosts_before = (fake_tools.root / "hosts").read_bytes()
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 1
    [line] = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]
    assert "HTTP 503 Service Unavailable" in line and f"DEVCTL_TOOLS_MIRROR={server.url}" in line
    assert fake_tools.calls() == []  # not even preflight's docker info
    assert (fake_tools.root / "hosts").read_bytes() == hosts_before


def test_without_a_checksum_here_up_uses_a_usable_tool_on_path(
    fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: ReleaseServer
) -> None:
    # This repo's own situation until its lock is completed: no checksums yet, the tools on PATH (the fakes).
    clone_of(skeleton(PINS), server, tmp_path, monkeypatch)
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 0, res.stderr
    assert server.requests == []
    assert (
        " ✓ Tools: kind, kubectl, skaffold from PATH: devctl-tools.lock.json has no checksum for "
        f"{PLATFORM} yet (see `devctl doctor`)"
    ) in res.stderr


def test_dry_run_shows_the_downloads_in_the_plan(laptop: Path, server: ReleaseServer) -> None:
    res = run_cli("--dry-run", "up")
    assert res.exit_code == 0, res.stderr
    kind = upstream_path("kind", PINS["kind"], PLATFORM)
    assert "1. Tools" in res.stdout and "2. Preflight checks  (after tools)" in res.stdout
    assert f"download kind v0.31.0 from {server.url}{kind}" in res.stdout
    assert server.requests == []
