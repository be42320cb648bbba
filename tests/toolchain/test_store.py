"""The store: reading never writes; an install is verified before it is executable and renamed into place;
whatever ends a staging early leaves nothing behind."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from devctl.toolchain.store import Store
from tests.release_server import files_under

DIGEST = "ab" * 32


def install(store: Store, body: bytes = b"#!/bin/sh\necho kind\n", digest: str = DIGEST) -> Path:
    with store.staging("kind", "v0.31.0") as staging:
        staging.file.write(body)
        return staging.commit(digest).binary


def test_finding_in_a_store_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "tools")
    assert store.find("kind", "v0.31.0", DIGEST) is None
    assert store.find("kind", "v0.31.0", None) is None
    assert store.entries() == [] and store.leftovers() == [] and store.remembered_locks() == []
    assert list(tmp_path.iterdir()) == []


def test_a_committed_download_is_an_executable_entry_keyed_by_tool_version_and_checksum(tmp_path: Path) -> None:
    store = Store(tmp_path / "tools")
    binary = install(store)
    assert binary == tmp_path / "tools" / "kind" / "v0.31.0" / DIGEST / "kind"
    assert stat.S_IMODE(binary.stat().st_mode) == 0o755
    assert store.find("kind", "v0.31.0", DIGEST) is not None
    assert store.find("kind", "v0.31.0", "cd" * 32) is None
    assert files_under(tmp_path / "tools") == [
        "kind",
        "kind/v0.31.0",
        f"kind/v0.31.0/{DIGEST}",
        f"kind/v0.31.0/{DIGEST}/kind",
    ]


def test_a_download_is_not_executable_before_it_is_committed(tmp_path: Path) -> None:
    store = Store(tmp_path / "tools")
    with store.staging("kind", "v0.31.0") as staging:
        staging.file.write(b"#!/bin/sh\n")
        staging.file.flush()
        [partial] = [p for p in (tmp_path / "tools").rglob("kind") if p.is_file()]
        assert not os.access(partial, os.X_OK)
        assert store.find("kind", "v0.31.0", None) is None  # not an entry while in progress
        staging.commit(DIGEST)


def test_an_error_during_a_download_leaves_nothing_behind(tmp_path: Path) -> None:
    store = Store(tmp_path / "tools")
    with pytest.raises(RuntimeError), store.staging("kind", "v0.31.0") as staging:
        staging.file.write(b"half of it")
        raise RuntimeError("the connection dropped")
    assert list(tmp_path.iterdir()) == []


def test_an_error_keeps_what_was_there_before(tmp_path: Path) -> None:
    store = Store(tmp_path / "tools")
    binary = install(store)
    with pytest.raises(KeyboardInterrupt), store.staging("kind", "v0.31.0"):
        raise KeyboardInterrupt
    assert files_under(tmp_path / "tools") == [
        "kind",
        "kind/v0.31.0",
        f"kind/v0.31.0/{DIGEST}",
        f"kind/v0.31.0/{DIGEST}/kind",
    ]
    assert binary.is_file()


def test_a_second_staging_of_the_same_version_waits_for_the_first(tmp_path: Path) -> None:
    store = Store(tmp_path / "tools")
    order: list[str] = []
    first_in = threading.Event()

    def second() -> None:
        first_in.wait(5)
        with store.staging("kind", "v0.31.0") as staging:
            order.append("second")
            assert staging.existing(DIGEST) is not None  # the first one's entry, found after waiting

    t = threading.Thread(target=second)
    t.start()
    with store.staging("kind", "v0.31.0") as staging:
        first_in.set()
        t.join(0.3)
        assert t.is_alive(), "the second staging did not wait for the lock"
        staging.file.write(b"x")
        order.append("first")
        staging.commit(DIGEST)
    t.join(5)
    assert order == ["first", "second"]


def test_an_entry_without_a_lock_checksum_is_found_by_version(tmp_path: Path) -> None:
    # What `tools install --trust-published` installed: the lock has no checksum to look it up by.
    store = Store(tmp_path / "tools")
    install(store)
    entry = store.find("kind", "v0.31.0", None)
    assert entry is not None and entry.sha256 == DIGEST
    assert store.find("kind", "v0.32.0", None) is None


def test_remove_deletes_an_entry_and_the_directories_it_leaves_empty(tmp_path: Path) -> None:
    store = Store(tmp_path / "tools")
    binary = install(store)
    store.remove(binary.parent)
    assert list((tmp_path / "tools").iterdir()) == []
