"""A reader for the part of TOML that ``[tool.devctl]`` uses, for Python 3.10 (tomllib is 3.11+).

It understands tables and `key = value` lines whose values are strings, integers, floats, booleans
or one-line arrays; other tables' lines it does not understand are skipped, so the rest of a
pyproject.toml (multi-line arrays, inline tables) does not stop it. Errors name the line.
"""

from __future__ import annotations

import ast
import re
from typing import Any

_KEY = re.compile(r"^([A-Za-z0-9_-]+)\s*=\s*(.*)$")


def _value(raw: str) -> Any:
    raw = _strip_comment(raw).strip()
    if raw in ("true", "false"):
        return raw == "true"
    if re.fullmatch(r"[+-]?\d+", raw):
        return int(raw)
    if re.fullmatch(r"[+-]?\d+\.\d*([eE][+-]?\d+)?", raw):
        return float(raw)
    if raw.startswith(("'", '"', "[")):
        if raw.startswith("'") and raw.endswith("'") and "'" not in raw[1:-1]:
            return raw[1:-1]  # TOML literal string: no escapes
        return ast.literal_eval(raw.replace("true", "True").replace("false", "False"))
    raise ValueError(f"cannot read value {raw!r}")


def _strip_comment(raw: str) -> str:
    quote = None
    for i, ch in enumerate(raw):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return raw[:i]
    return raw


def loads(text: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    table = root
    in_devctl = False
    for no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("["):
            name = s.strip("[]").strip()
            in_devctl = name == "tool.devctl"
            table = root
            for part in name.split("."):
                table = table.setdefault(part.strip().strip('"'), {})
            continue
        m = _KEY.match(s)
        if not m:
            if in_devctl:
                raise ValueError(f"line {no}: cannot parse {s!r}")
            continue
        try:
            table[m.group(1)] = _value(m.group(2))
        except (ValueError, SyntaxError) as err:
            if in_devctl:
                raise ValueError(f"line {no}: {err}") from None
    return root
