"""`devctl tools list|lock|prune` through the CLI, and what `doctor` says of the tools and the lock.

`install` is tests/test_toolchain_install.py. The release tree is a real HTTP server on 127.0.0.1
(tests/release_server.py) reached through DEVCTL_TOOLS_MIRROR.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devctl.toolchain.catalog import PLATFORMS, TOOLS
from devctl.toolchain.lockfile import LOCK_NAME, read_lock
from devctl.toolchain.locking import skeleton
from devctl.toolchain.platforms import current_platform
from tests.conftest import REPO, FakeWorld, run_cli
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


@pytest.fixture
def server() -> Iterator[ReleaseServer]:
    with serving() as s:
        yield s


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: ReleaseServer) -> Path:
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    for var in list(os.environ):
        if var.startswith("DEVCTL_") and var not in ("DEVCTL_FAKE_STATE", "DEVCTL_FAKE_PYTHON"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("DEVCTL_TOOLS_MIRROR", server.url)
    repo = write_repo(tmp_path / "repo", lock_for(server.files))
    monkeypatch.chdir(repo)
    return repo


def store(tmp_path: Path) -> Path:
    return tmp_path / "data" / "devctl" / "tools"


# -- list ---------------------------------------------------------------------------------------------


def test_list_shows_per_tool_the_version_path_and_source(
    clone: Path, server: ReleaseServer, fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # fake_tools came after clone and reset these
    monkeypatch.setenv("DEVCTL_TOOLS_MIRROR", server.url)
    assert run_cli("tools", "install").exit_code == 0
    kind = store(tmp_path) / "kind" / "v0.31.0" / sha256_of(server.files[upstream_path("kind", "v0.31.0", PLATFORM)])
    (kind / "kind").unlink()  # kind from PATH (the fake), the others from the store
    res = run_cli("tools", "list", "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["platform"] == PLATFORM and data["store"] == str(store(tmp_path))
    assert data["lock"] == {
        "path": str(clone / LOCK_NAME),
        "exists": True,
        "complete": True,
        "missing": [],
        "problem": None,
    }
    tools = {t["tool"]: t for t in data["tools"]}
    assert (tools["kind"]["source"], tools["kind"]["path"], tools["kind"]["version"]) == (
        "PATH",
        str(fake_tools.bin_dir / "kind"),
        "0.31.0",
    )
    kubectl = upstream_path("kubectl", "v1.35.0", PLATFORM)
    assert tools["kubectl"] == {
        "tool": "kubectl",
        "pinned": "v1.35.0",
        "version": "1.35.0",
        "source": "store",
        "path": str(store(tmp_path) / "kubectl" / "v1.35.0" / sha256_of(server.files[kubectl]) / "kubectl"),
        "lock_sha256": sha256_of(server.files[kubectl]),
        "ok": True,
        "problem": None,
        "fix": None,
    }
    table = run_cli("tools", "list")
    assert table.exit_code == 0 and "store" in table.stdout and "PATH" in table.stdout


def test_list_says_what_is_missing_and_how_to_fix_it(
    clone: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    data = json.loads(run_cli("tools", "list", "--json").stdout)
    kind = next(t for t in data["tools"] if t["tool"] == "kind")
    assert kind["ok"] is False and kind["source"] is None
    assert kind["problem"] == "kind is not installed (not in devctl's tool store, not on PATH)"
    assert kind["fix"].startswith("run `devctl tools install`")


# -- lock ---------------------------------------------------------------------------------------------


def test_lock_rebuilds_the_lock_from_the_published_checksum_files(
    clone: Path, server: ReleaseServer, tmp_path: Path
) -> None:
    write_repo(clone, skeleton(PINS))  # what a maintainer has after bumping the versions
    res = run_cli("tools", "lock")
    assert res.exit_code == 0, res.stderr
    assert f"wrote {clone / LOCK_NAME}: review the diff and commit it" in res.stdout
    assert f"WARNING: reading the checksum files through DEVCTL_TOOLS_MIRROR={server.url}" in res.stderr
    lock = read_lock(clone / LOCK_NAME)
    assert lock is not None
    assert lock.missing(PINS) == []
    for tool, version in PINS.items():
        for platform in PLATFORMS:
            entry = lock.tools[tool].platforms[platform]
            assert entry.url == TOOLS[tool].url(version, platform)  # upstream's URL, not the mirror's
            assert entry.sha256 == sha256_of(server.files[upstream_path(tool, version, platform)])
            assert entry.source == (
                f"published: {TOOLS[tool].checksum_url(entry.url)} (fetched through DEVCTL_TOOLS_MIRROR={server.url})"
            )
    assert not [p for p in server.requests if not p.endswith((".sha256", ".sha256sum"))], "no binary downloaded"
    # And the lock it wrote is one install accepts.
    assert run_cli("tools", "install").exit_code == 0
    assert not store(tmp_path).joinpath(".install.lock").exists()


def test_a_checksum_file_that_cannot_be_read_leaves_the_lock_as_it_was(clone: Path, server: ReleaseServer) -> None:
    before = (clone / LOCK_NAME).read_bytes()
    path = upstream_path("skaffold", "v2.24.0", "darwin-arm64") + ".sha256"
    server.files[path] = b"<html>rate limited</html>"
    res = run_cli("tools", "lock")
    assert res.exit_code == 1
    [line] = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]
    assert f"is not a checksum file for skaffold-darwin-arm64 (DEVCTL_TOOLS_MIRROR={server.url})" in line
    assert (clone / LOCK_NAME).read_bytes() == before
    server.status[path] = 404
    assert "HTTP 404 Not Found" in run_cli("tools", "lock").stderr
    assert (clone / LOCK_NAME).read_bytes() == before


# -- prune --------------------------------------------------------------------------------------------


def test_prune_removes_only_what_no_lock_references(
    clone: Path, server: ReleaseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another clone, pinned to another kind, shares the store: what its lock references stays.
    other_files = {**server.files}
    other_body = server.files[upstream_path("kind", "v0.31.0", PLATFORM)].replace(b"fake kind", b"fake kind, patched")
    other_files[upstream_path("kind", "v0.31.0", PLATFORM)] = other_body
    other = write_repo(tmp_path / "other", lock_for(other_files))
    assert run_cli("tools", "install").exit_code == 0
    monkeypatch.chdir(other)
    server.files.update(other_files)
    assert run_cli("tools", "install").exit_code == 0
    monkeypatch.chdir(clone)
    entries = [e for e in files_under(store(tmp_path) / "kind" / "v0.31.0") if "/" in e and e.count("/") == 1]
    assert len(entries) == 2
    res = run_cli("tools", "prune")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith("nothing to remove")
    # The other clone goes away: its entry is no longer referenced.
    shutil.rmtree(other)
    res = run_cli("tools", "prune")
    assert res.exit_code == 0
    gone = store(tmp_path) / "kind" / "v0.31.0" / sha256_of(other_body)
    assert res.stdout == f"removed kind v0.31.0 (sha256 {sha256_of(other_body)}): {gone}\n"
    assert not gone.exists()
    assert run_cli("tools", "prune").stdout.startswith("nothing to remove")


def test_prune_removes_an_unfinished_download(clone: Path, tmp_path: Path) -> None:
    leftover = store(tmp_path) / "kind" / "v0.31.0" / ".tmp-killed"
    leftover.mkdir(parents=True)
    (leftover / "kind").write_bytes(b"half")
    res = run_cli("tools", "prune")
    assert res.stdout == f"removed an unfinished download: {leftover}\n"
    assert not store(tmp_path).exists() or files_under(store(tmp_path)) == []


# -- nothing but install writes the store -------------------------------------------------------------


def test_doctor_status_and_list_never_create_the_store(
    fake_tools: FakeWorld, repo_cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "fresh-data-home"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    for argv in (["doctor", "--json"], ["status", "--json"], ["tools", "list"], ["--dry-run", "up"], ["routes"]):
        run_cli(*argv)
    assert not data.exists()


# -- doctor -------------------------------------------------------------------------------------------


def test_doctor_says_the_lock_is_incomplete_until_every_entry_has_a_checksum(
    fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = write_repo(tmp_path / "repo", skeleton(PINS))
    monkeypatch.chdir(repo)
    check = _check("tool lock")
    assert check["status"] == "warn" and check["required"] is False
    assert check["detail"].startswith("incomplete: no checksum yet for 12 entries (kind linux-amd64, kind linux-arm64")
    assert "devctl tools lock" in check["hint"]
    write_repo(repo, lock_for({**_tree()}))
    assert _check("tool lock")["status"] == "ok"
    (repo / LOCK_NAME).unlink()
    assert _check("tool lock")["detail"] == f"no {LOCK_NAME} in {repo}"


def test_doctor_reports_this_repos_lock(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    lock = read_lock(REPO / LOCK_NAME)
    assert lock is not None
    missing = lock.missing({t: lk.version for t, lk in lock.tools.items()})
    assert _check("tool lock")["status"] == ("warn" if missing else "ok")


def _check(name: str) -> dict[str, object]:
    checks = json.loads(run_cli("doctor", "--json").stdout)["checks"]
    return next(c for c in checks if c["name"] == name)


def _tree() -> dict[str, bytes]:
    from tests.release_server import release_tree

    return release_tree()
