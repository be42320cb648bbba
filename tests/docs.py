"""docs/commands.md, written from the CLI's own help, so each reference entry says what `--help` says.

    python -m tests.docs          # rewrite docs/commands.md (`make docs`)

tests/cli/test_docs.py fails when the committed page and the help differ.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from devctl.cli import app

PAGE = Path(__file__).resolve().parents[1] / "docs" / "commands.md"

INTRO = """\
# devctl commands

This page is written from each command's `--help` (`make docs` writes it again; a test keeps the two
the same). The global options `--cluster NAME`, `-v/--verbose` and `--dry-run` are accepted before the
command and after it. Every kubectl call devctl makes carries `--context kind-<cluster>` and every
Skaffold call `--kube-context kind-<cluster>`: devctl never acts on your current kube context.

Exit codes, for every command:

| Code | Meaning |
|---|---|
| 0 | success (also: `skaffold dev` ended by Ctrl-C) |
| 1 | an operation or a required check failed: a tool error, Docker not running, a busy port, \
a timeout, a hosts-file conflict, a check that did not pass |
| 2 | usage or configuration error: a bad flag or setting, an unknown service name, an unreadable \
manifest, outside the tour repo |
| 130 | interrupted before a graceful stop |

A failure ends with one `ERROR:` line saying what is wrong and what to do; when an external tool failed,
its own last output lines come before it; `-v` adds the traceback. With `--json`, stdout holds one JSON
object also when the command fails (`{"ok": false, "error", "hint", "exit_code"}`; see [json.md](json.md)).
"""


def command_paths() -> Iterator[list[str]]:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    ctx = typer.Context(root)

    def walk(prefix: list[str], command: object) -> Iterator[list[str]]:
        yield prefix
        if isinstance(command, TyperGroup):
            names = command.list_commands(ctx) if command is root else list(command.commands)
            for name in names:
                sub = command.get_command(ctx, name)
                if sub is not None and not getattr(sub, "hidden", False):
                    yield from walk([*prefix, name], sub)

    yield from walk([], root)


def render() -> str:
    runner = CliRunner()
    parts = [INTRO]
    for path in command_paths():
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"}, prog_name="devctl")
        assert result.exit_code == 0, result.output
        parts.append(f"\n## {' '.join(['devctl', *path])}\n\n```text\n{result.stdout.rstrip()}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    os.environ.pop("NO_COLOR", None)
    PAGE.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {PAGE}\n")
