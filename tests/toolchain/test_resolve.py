"""Which kind, kubectl and skaffold run: the pinned one in the store, else the one on PATH at devctl's
minimum version, else the error with the fix; and the store first on the PATH of every child devctl starts."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from devctl.errors import ToolNotFound
from devctl.runner import Runner
from devctl.toolchain.catalog import Pins
from devctl.toolchain.lockfile import LOCK_NAME, Lock, LockedTool, LockEntry, write_lock
from devctl.toolchain.locking import skeleton
from devctl.toolchain.platforms import current_platform
from devctl.toolchain.resolve import PATH, STORE, Toolchain
from devctl.toolchain.store import Store

PLATFORM = current_platform()
STORE_KIND = b"#!/bin/sh\necho 'kind v0.31.0 go1.25.5 linux/amd64'\n"
DIGEST = hashlib.sha256(STORE_KIND).hexdigest()


def script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{text}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A lock with kind's checksum for this platform (that of STORE_KIND)."""
    lock = skeleton({"kind": "v0.31.0", "kubectl": "v1.35.0"})
    kind = lock.tools["kind"]
    platforms = {**kind.platforms, PLATFORM: LockEntry(kind.platforms[PLATFORM].url, DIGEST, "published: test")}
    write_lock(tmp_path / LOCK_NAME, Lock({**lock.tools, "kind": LockedTool("v0.31.0", platforms)}))
    return tmp_path


def toolchain(repo: Path, tmp_path: Path) -> Toolchain:
    return Toolchain(Pins(kind="v0.31.0", kubectl="v1.35.0"), repo / LOCK_NAME, Store(tmp_path / "store"), PLATFORM)


def put_in_store(tc: Toolchain) -> Path:
    with tc.store.staging("kind", "v0.31.0") as staging:
        staging.file.write(STORE_KIND)
        return staging.commit(DIGEST).binary


class Probes:
    """A probe that records what it was asked and answers like the tool would."""

    def __init__(self, said: str) -> None:
        self.said = said
        self.asked: list[list[str]] = []

    def __call__(self, exe: str, args: object) -> str:
        self.asked.append([exe, *args])  # type: ignore[misc]
        return self.said


def test_the_pinned_tool_in_the_store_comes_first_and_needs_no_probe(repo: Path, tmp_path: Path) -> None:
    tc = toolchain(repo, tmp_path)
    binary = put_in_store(tc)
    on_path = script(tmp_path / "bin" / "kind", "echo 'kind v0.31.0'")
    probe = Probes("kind v0.31.0")
    r = tc.resolve("kind", str(on_path.parent), probe)
    assert (r.path, r.version, r.source) == (str(binary), "0.31.0", STORE)
    assert probe.asked == []


def test_without_it_the_tool_on_path_at_the_minimum_version(repo: Path, tmp_path: Path) -> None:
    tc = toolchain(repo, tmp_path)
    on_path = script(tmp_path / "bin" / "kind", "")
    probe = Probes("kind v0.27.0 go1.23 linux/amd64\n")
    r = tc.resolve("kind", str(on_path.parent), probe)
    assert (r.path, r.version, r.source) == (str(on_path), "0.27.0", PATH)
    assert probe.asked == [[str(on_path), "version"]]
    tc.resolve("kind", str(on_path.parent), probe)
    assert len(probe.asked) == 1, "asked once per run"


def test_a_tool_on_path_older_than_the_minimum_is_refused_with_the_fix(repo: Path, tmp_path: Path) -> None:
    tc = toolchain(repo, tmp_path)
    on_path = script(tmp_path / "bin" / "kind", "")
    with pytest.raises(ToolNotFound) as caught:
        tc.resolve("kind", str(on_path.parent), Probes("kind v0.20.0 go1.20 linux/amd64"))
    assert caught.value.message == f"kind 0.20.0 at {on_path} is older than 0.27.0, the oldest devctl works with"
    assert caught.value.hint == "run `devctl tools install` (puts the pinned kind v0.31.0 in devctl's tool store)"


def test_a_version_that_cannot_be_read_is_refused(repo: Path, tmp_path: Path) -> None:
    tc = toolchain(repo, tmp_path)
    on_path = script(tmp_path / "bin" / "kind", "")
    with pytest.raises(ToolNotFound, match=r"cannot tell the version of .*/kind: `kind version` said 'oops'"):
        tc.resolve("kind", str(on_path.parent), Probes("oops\n"))


def test_neither_is_the_error_naming_devctl_tools_install(repo: Path, tmp_path: Path) -> None:
    tc = toolchain(repo, tmp_path)
    with pytest.raises(ToolNotFound) as caught:
        tc.resolve("kind", str(tmp_path / "empty"), Probes(""))
    assert caught.value.message == "kind is not installed (not in devctl's tool store, not on PATH)"
    assert "devctl tools install" in (caught.value.hint or "")


def test_an_unpinned_tool_comes_from_path_with_the_os_install_hint(repo: Path, tmp_path: Path) -> None:
    tc = toolchain(repo, tmp_path)  # skaffold is not pinned here
    with pytest.raises(ToolNotFound) as caught:
        tc.resolve("skaffold", str(tmp_path / "empty"), Probes(""))
    assert caught.value.message == "skaffold is not installed (not found on PATH)"
    assert "devctl tools install" not in (caught.value.hint or "")


def test_resolving_never_creates_a_file_or_directory(repo: Path, tmp_path: Path) -> None:
    tc = toolchain(repo, tmp_path)
    with pytest.raises(ToolNotFound):
        tc.resolve("kind", str(tmp_path / "empty"), Probes(""))
    assert tc.path_entries() == [] and tc.child_path("/usr/bin") is None
    assert not (tmp_path / "store").exists()


# -- what the processes devctl starts see -------------------------------------------------------------


def test_the_store_goes_first_on_the_path_of_every_child(repo: Path, tmp_path: Path) -> None:
    tc = toolchain(repo, tmp_path)
    binary = put_in_store(tc)
    runner = Runner(env={"PATH": os.environ["PATH"]}, toolchain=tc)
    printed = runner.output(["sh", "-c", 'echo "$PATH"; command -v kind']).stdout.splitlines()
    assert printed == [f"{binary.parent}{os.pathsep}{os.environ['PATH']}", str(binary)]
    # Also with an environment of the caller's own (Skaffold gets one without SKAFFOLD_* variables).
    printed = runner.output(["sh", "-c", 'echo "$PATH"'], env={"PATH": "/usr/bin:/bin"}).stdout.split()
    assert printed == [f"{binary.parent}{os.pathsep}/usr/bin:/bin"]


def test_the_runner_runs_the_store_binary(repo: Path, tmp_path: Path) -> None:
    tc = toolchain(repo, tmp_path)
    put_in_store(tc)
    runner = Runner(env={"PATH": str(tmp_path / "empty")}, toolchain=tc)
    assert runner.output(["kind", "version"]).stdout == "kind v0.31.0 go1.25.5 linux/amd64\n"
    assert runner.which("kind") == str(tc.store.binary("kind", "v0.31.0", DIGEST))
    assert runner.which("kubectl") is None  # pinned, in neither place


def test_a_tool_on_path_is_probed_through_the_runner(repo: Path, tmp_path: Path) -> None:
    tc = toolchain(repo, tmp_path)
    script(tmp_path / "bin" / "kind", "echo 'kind v0.29.0 go1.24 linux/amd64'")
    echoed: list[str] = []
    runner = Runner(env={"PATH": str(tmp_path / "bin")}, toolchain=tc, verbose=True, echo=echoed.append)
    r = runner.resolve("kind")
    assert (r.version, r.source) == ("0.29.0", PATH)
    assert echoed == [f"+ {tmp_path / 'bin' / 'kind'} version"]  # -v shows it like any other call
