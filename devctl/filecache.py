"""A parsed file, kept as JSON under $XDG_CACHE_HOME/devctl (default ~/.cache/devctl) for the next command.

Parsing is on the path of commands that should cost little more than start-up: pyproject.toml on every
command (importing tomllib is most of ~6 ms), the k8s/ manifests on every warm `devctl up` (importing
PyYAML and parsing: ~45 ms measured). Both files rarely change between two commands.

An entry is used only while the file is provably the same one: same path, device, inode, size, mtime and
ctime (in ns), and the same parser (``parser``, given by the caller). ctime changes on every write and,
unlike mtime, cannot be set back, so an edit that keeps the size and restores the mtime still misses.
Python's own bytecode cache trusts less (mtime and size).

The cache can only make a command faster, never change what it reads: a missing, unreadable, corrupt or
unwritable entry means parsing the file. Only values JSON holds exactly are stored (not dates, nan, inf
or non-string keys), and only when the file did not change while it was parsed, so a file with an error
is parsed, and reported, on every run.
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

T = TypeVar("T")
_FORMAT = 2  # bumped when what an entry holds changes; part of every key


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "devctl"


def read_through(kind: str, path: Path, parser: list[Any], parse: Callable[[], T], *, shape: type = object) -> T:
    """``parse()``'s result for ``path``, from the cache while the file and ``parser`` are unchanged.

    ``kind`` names the entries (``pyproject``, ``yaml``); ``parser`` says what would parse the file
    (anything that could make it read differently); an entry whose value is not a ``shape`` is ignored.
    Errors of ``parse`` propagate and nothing is stored.
    """
    try:
        before = os.stat(path)
    except OSError:
        return parse()  # it reports why the file cannot be read
    key = _key(path, before, parser)
    entry = _entry_path(kind, path)
    hit = _load(entry, key)
    if hit is not None and isinstance(hit[0], shape):
        return cast(T, hit[0])  # what parse() returned when the entry was written
    value = parse()
    try:
        after = os.stat(path)
    except OSError:
        return value
    if _key(path, after, parser) == key:  # not changed while it was read: the value belongs to the key
        _store(entry, key, value)
    return value


def _key(path: Path, st: os.stat_result, parser: list[Any]) -> list[Any]:
    return [_FORMAT, *parser, str(path.absolute()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _entry_path(kind: str, path: Path) -> Path:
    # A short stable name per file; two paths sharing it only evict each other (the entry records its
    # full path, which is part of the key).
    return cache_dir() / f"{kind}-{zlib.crc32(str(path.absolute()).encode('utf-8', 'surrogateescape')):08x}.json"


def _load(entry: Path, key: list[Any]) -> tuple[Any] | None:
    try:
        data = json.loads(entry.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key or "value" not in data:
        return None
    return (data["value"],)


def _store(entry: Path, key: list[Any], value: Any) -> None:
    try:
        text = json.dumps({"key": key, "value": value}, allow_nan=False)
    except (TypeError, ValueError):
        return  # a date or time, nan or inf: JSON cannot hold them
    if json.loads(text)["value"] != value:
        return  # e.g. an integer key, which JSON turns into a string: not the same value
    tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, entry)  # atomic: a concurrent reader sees the old entry or the new one
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
