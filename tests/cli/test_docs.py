"""docs/commands.md says what each command's --help says."""

from __future__ import annotations

from tests import docs


def test_the_command_reference_is_the_help_of_every_command() -> None:
    assert docs.PAGE.read_text(encoding="utf-8") == docs.render(), "run `make docs` and commit docs/commands.md"
