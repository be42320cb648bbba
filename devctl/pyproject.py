"""The repo's ``[tool.devctl]`` table: where the repo root is, and what the table says.

Parsing pyproject.toml costs ~6 ms (importing tomllib is most of it, measured), on the path of every
command: more than a fifth of what `devctl status` may add to start-up (issue 7). So the parsed table
goes through ``devctl.filecache``: one small JSON file per pyproject.toml, used only while the file is
provably the same one. Tables with TOML's other types (dates and times, nan and inf) are not cached, and
a file with a TOML error is parsed, and reported, on every run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from devctl import filecache
from devctl.errors import ConfigError

TABLE_HEADER = "[tool.devctl]"


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
        os.stat(pp)
    except OSError:
        return {}
    parser = "tomllib" if sys.version_info >= (3, 11) else "subset"  # the two may read a file differently
    return filecache.read_through("pyproject", pp, [parser], lambda: _parse_table(pp), shape=dict)


def _parse_table(pp: Path) -> dict[str, Any]:
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
