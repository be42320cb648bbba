"""The repo's ``[tool.devctl]`` table: where the repo root is, and what the table says."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, as the tomli backport (a dependency on Python 3.10 only)
    import tomli as tomllib

from devctl.errors import ConfigError

TABLE_HEADER = "[tool.devctl]"


def find_repo_root(start: Path | None = None) -> Path | None:
    """The nearest directory upwards holding a pyproject.toml with a [tool.devctl] table; None if none."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        pp = d / "pyproject.toml"
        try:
            if pp.is_file() and TABLE_HEADER in pp.read_text(encoding="utf-8", errors="replace"):
                return d
        except OSError:
            continue
    return None


def read_table(root: Path) -> dict[str, Any]:
    """``[tool.devctl]`` of root/pyproject.toml, or {} when there is none. Raises ConfigError."""
    pp = root / "pyproject.toml"
    if not pp.exists():
        return {}
    try:
        text = pp.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read {pp}: {err}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"cannot parse {pp}: {err}", hint="fix the TOML syntax") from None
    tool = data.get("tool", {})
    table = tool.get("devctl", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.devctl] in {pp} must be a table")
    return table
