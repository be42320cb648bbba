"""The lock: its JSON shape, its validation, and the lock this repo commits (pins, URLs, what is verified)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from devctl import config
from devctl.errors import ConfigError
from devctl.toolchain.catalog import PLATFORMS, TOOLS
from devctl.toolchain.lockfile import LOCK_NAME, TO_COMPLETE, Lock, LockedTool, LockEntry, read_lock, write_lock
from devctl.toolchain.locking import skeleton
from tests.conftest import REPO

PINS = {"kind": "v0.31.0", "kubectl": "v1.35.0", "skaffold": "v2.24.0"}


def full_lock() -> Lock:
    def entry(tool: str, version: str, i: int, platform: str) -> LockEntry:
        return LockEntry(TOOLS[tool].url(version, platform), f"{i:064x}", f"published: {platform}")

    return Lock(
        {
            tool: LockedTool(version, {p: entry(tool, version, i, p) for i, p in enumerate(PLATFORMS)})
            for tool, version in PINS.items()
        }
    )


# -- this repo's lock -------------------------------------------------------------------------------


def test_the_committed_lock_is_for_the_pinned_versions_at_the_upstream_urls() -> None:
    lock = read_lock(REPO / LOCK_NAME)
    assert lock is not None
    pins = config.load({}, env={}, cwd=REPO).tools.pinned()
    assert set(pins) == set(TOOLS)
    assert {tool: locked.version for tool, locked in lock.tools.items()} == pins
    for tool, locked in lock.tools.items():
        assert set(locked.platforms) == set(PLATFORMS)
        for platform, entry in locked.platforms.items():
            assert entry.url == TOOLS[tool].url(locked.version, platform)


def test_every_entry_of_the_committed_lock_is_verified_at_its_source_or_marked_to_complete() -> None:
    # A checksum names the published file it was read from; none is copied from elsewhere (hearsay).
    lock = read_lock(REPO / LOCK_NAME)
    assert lock is not None
    for tool, locked in lock.tools.items():
        for entry in locked.platforms.values():
            if entry.sha256 is None:
                assert entry.source == TO_COMPLETE
            else:
                assert entry.source.startswith(f"published: {TOOLS[tool].checksum_url(entry.url)}")


def test_the_pinned_kubectl_is_within_one_minor_of_the_node_image() -> None:
    cfg = config.load({}, env={}, cwd=REPO)
    node = re.search(r"kindest/node:v1\.(\d+)\.", cfg.node_image)
    kubectl = re.fullmatch(r"v1\.(\d+)\.\d+", cfg.tools.kubectl)
    assert node is not None and kubectl is not None
    assert abs(int(node.group(1)) - int(kubectl.group(1))) <= 1


# -- reading and writing ----------------------------------------------------------------------------


def test_a_lock_reads_back_as_written_and_writes_the_same_bytes_twice(tmp_path: Path) -> None:
    path = tmp_path / LOCK_NAME
    write_lock(path, full_lock())
    first = path.read_bytes()
    assert read_lock(path) == full_lock()
    write_lock(path, read_lock(path) or full_lock())
    assert path.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == [LOCK_NAME]  # no temp file left


def test_no_lock_file_is_no_lock(tmp_path: Path) -> None:
    assert read_lock(tmp_path / LOCK_NAME) is None


def test_missing_lists_each_pinned_tool_and_platform_without_a_checksum() -> None:
    assert full_lock().missing(PINS) == []
    assert skeleton({"kind": "v0.31.0"}).missing(PINS) == [
        *(f"kind {p}" for p in PLATFORMS),
        *(f"kubectl {p}" for p in PLATFORMS),
        *(f"skaffold {p}" for p in PLATFORMS),
    ]
    # A lock for another version is no lock for this one.
    assert len(full_lock().missing({**PINS, "kind": "v0.32.0"})) == len(PLATFORMS)


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda d: "not json", "not JSON"),
        (lambda d: {**d, "format": 2}, 'expected an object with "format": 1'),
        (lambda d: {**d, "tools": {**d["tools"], "helm": d["tools"]["kind"]}}, "tools.helm: devctl installs only"),
        (lambda d: _entry(d, "url", "ftp://x"), "linux-amd64.url must be an http"),
        (lambda d: _entry(d, "sha256", "abc"), "linux-amd64.sha256 must be 64 lower-case hex digits"),
        (lambda d: _entry(d, "source", ""), "linux-amd64.source must say where the checksum came from"),
        (lambda d: _version(d, "v0.1.0"), "tools.kind.version 'v0.1.0' is older than 0.27.0"),
    ],
)
def test_an_invalid_lock_is_a_config_error_naming_the_field(tmp_path: Path, edit: object, why: str) -> None:
    data = full_lock().to_json()
    path = tmp_path / LOCK_NAME
    changed = edit(data)  # type: ignore[operator]
    path.write_text(changed if isinstance(changed, str) else json.dumps(changed))
    with pytest.raises(ConfigError, match=re.escape(why)) as caught:
        read_lock(path)
    assert caught.value.hint == "restore it from git, or regenerate it with `devctl tools lock`"


def _entry(data: dict, key: str, value: object) -> dict:
    data["tools"]["kind"]["platforms"]["linux-amd64"][key] = value
    return data


def _version(data: dict, value: str) -> dict:
    data["tools"]["kind"]["version"] = value
    return data
