"""Service-name prefixes shared by the dev loop's view and ``devctl logs``: one colour per name, aligned.

Kept free of rich so ``devctl logs`` can colour with plain ANSI codes at full speed.
"""

from __future__ import annotations

from collections.abc import Sequence

# (rich style, ANSI SGR code): distinct on dark and light terminals, no red (kept for errors).
PALETTE: tuple[tuple[str, str], ...] = (
    ("cyan", "36"),
    ("magenta", "35"),
    ("green", "32"),
    ("yellow", "33"),
    ("blue", "34"),
    ("bright_cyan", "96"),
    ("bright_magenta", "95"),
    ("bright_green", "92"),
    ("bright_yellow", "93"),
    ("bright_blue", "94"),
)


def colour_index(name: str, names: Sequence[str]) -> int:
    """Stable per name: its position among ``names`` (the stack's order), else a hash of the name."""
    if name in names:
        return list(names).index(name) % len(PALETTE)
    return sum(name.encode()) % len(PALETTE)


def rich_style(name: str, names: Sequence[str]) -> str:
    return PALETTE[colour_index(name, names)][0]


def ansi(name: str, names: Sequence[str]) -> str:
    return PALETTE[colour_index(name, names)][1]


def width(names: Sequence[str]) -> int:
    return max((len(n) for n in names), default=0)
