"""The repo's ``[tool.devctl]`` table: where the repo root is, and what the table says.

Parsing pyproject.toml costs ~6 ms (importing tomllib is most of it, measured), on the path of every
command: more than a fifth of what `devctl status` may add to start-up (issue 7). So the parsed table
is cached, one small JSON file per pyproject.toml under $XDG_CACHE_HOME/devctl (default
~/.cache/devctl), and used only while the file is provably the same one: same path, device, inode,
size, mtime and ctime (in ns). ctime changes on every write and, unlike mtime, cannot be set back, so
an edit that keeps the size and restores the mtime still misses. Python's own bytecode cache trusts
less (mtime and size).

The cache can only make a command faster, never change what it reads: a missing, unreadable, corrupt or
unwritable cache means parsing the file. Only tables that parsed and that JSON can hold exactly are
stored (TOML's other types, dates and times, nan and inf, are not), so a file with a TOML error is
parsed, and reported, on every run.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any

from devctl.errors import ConfigError

TABLE_HEADER = "[tool.devctl]"
# Bumped when what is stored, or how it is parsed, changes; part of every entry's key.
_CACHE_FORMAT = 1


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest directory upwards holding a pyproject.toml with a [tool.devctl] table, else cwd."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        pp = d / "pyproject.toml"
        try:
            if pp.is_file() and TABLE_HEADER in pp.read_text(encoding="utf-8", errors="replace"):
                return d
        except OSError:
            continue
    return here


def read_table(root: Path) -> dict[str, Any]:
    """``[tool.devctl]`` of root/pyproject.toml, or {} when there is none. Raises ConfigError."""
    pp = root / "pyproject.toml"
    try:
        before = os.stat(pp)
    except OSError:
        return {}
    key = _identity(pp, before)
    cached = _load_cached(pp, key)
    if cached is not None:
        return cached
    try:
        text = pp.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read {pp}: {err}") from None
    try:
        data = parse_toml(text)
    except ValueError as err:
        raise ConfigError(f"cannot parse {pp}: {err}", hint="fix the TOML syntax") from None
    tool = data.get("tool", {})
    table = tool.get("devctl", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.devctl] in {pp} must be a table")
    try:
        after = os.stat(pp)
    except OSError:
        return table
    if _identity(pp, after) == key:  # not changed while it was read: the table belongs to the key
        _store(pp, key, table)
    return table


def parse_toml(text: str) -> dict[str, Any]:
    """The whole document; ValueError with the parser's message when it is not valid TOML."""
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(str(err)) from None
        return data
    # Python 3.10: no tomllib, and no extra runtime dependency allowed.
    from devctl._toml_subset import loads

    return loads(text)


# --- the cache -------------------------------------------------------------------------------------


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "devctl"


def _identity(pp: Path, st: os.stat_result) -> list[Any]:
    parser = "tomllib" if sys.version_info >= (3, 11) else "subset"  # the two may read a file differently
    return [_CACHE_FORMAT, parser, str(pp.absolute()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _entry_path(pp: Path) -> Path:
    # A short stable name per pyproject.toml; two paths sharing it only evict each other (the entry
    # records its full path, which is part of the key).
    return cache_dir() / f"pyproject-{zlib.crc32(str(pp.absolute()).encode('utf-8', 'surrogateescape')):08x}.json"


def _load_cached(pp: Path, key: list[Any]) -> dict[str, Any] | None:
    try:
        entry = json.loads(_entry_path(pp).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("table"), dict):
        return None
    table: dict[str, Any] = entry["table"]
    return table


def _store(pp: Path, key: list[Any], table: dict[str, Any]) -> None:
    try:
        text = json.dumps({"key": key, "table": table}, allow_nan=False)
    except (TypeError, ValueError):
        return  # a date or time, nan or inf: JSON cannot hold them, so never cached
    target = _entry_path(pp)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)  # atomic: a concurrent reader sees the old entry or the new one
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
