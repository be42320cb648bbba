"""The CLI edge every command shares: global options, --json, consoles, and the one place errors become text."""

from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer import _click
from typer._click.globals import get_current_context

from devctl.errors import DevctlError, chain, find_command_error

if TYPE_CHECKING:
    from rich.console import Console


# ctx.meta key (shared by every context of one invocation): a --json option was given, so the CLI edge
# answers a failure with a JSON object on stdout too.
JSON_REQUESTED = "devctl.json"
JSON_PRINTED = "devctl.json.printed"  # the command printed its JSON: the edge must not print a second one


def _remember_json(ctx: typer.Context, value: bool) -> bool:
    if value:
        ctx.meta[JSON_REQUESTED] = True
    return value


def json_option(help: str = "Machine-readable output: one JSON object on stdout, also when it fails.") -> Any:
    """The --json option every command that has one uses (so the CLI edge knows about it)."""
    return typer.Option(False, "--json", help=help, callback=_remember_json)


def command_app(**kwargs: Any) -> typer.Typer:
    """A command module's typer app, all alike: plain help (no rich markup), no completion options of its
    own (``devctl --install-completion`` covers every command)."""
    return typer.Typer(rich_markup_mode=None, add_completion=False, **kwargs)


@dataclass(frozen=True)
class GlobalOptions:
    cluster: str | None = None
    verbose: bool = False
    dry_run: bool = False


def global_options(ctx: typer.Context) -> GlobalOptions:
    root = ctx.find_root()
    obj = root.obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def console() -> Console:
    """stdout: data (tables, JSON)."""
    from rich.console import Console

    return Console(no_color=_no_color(), soft_wrap=not sys.stdout.isatty())


def err_console() -> Console:
    """stderr: progress and messages."""
    from rich.console import Console

    return Console(stderr=True, no_color=_no_color(), soft_wrap=not sys.stderr.isatty())


def print_line(text: str) -> None:
    """A line of plain text on stdout: through rich on a terminal, which wraps it to the width; elsewhere
    as it is, which is what rich would write too."""
    if sys.stdout.isatty():
        console().print(text, markup=False, emoji=False, highlight=False)
    else:
        typer.echo(text)


def print_json(obj: Any) -> None:
    """Stable, machine-readable output on stdout (never coloured)."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()
    ctx = click_context()
    if ctx is not None:
        ctx.meta[JSON_PRINTED] = True


def report_error(err: DevctlError, *, verbose: bool) -> None:
    """The one place errors become text: a failed tool's own last words, then the last line of all,
    `ERROR: what — what to do` (where a reader and a script look first)."""
    if verbose:
        traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)
    failed = find_command_error(err)
    if failed is not None and failed.show_output:
        tail = failed.output_tail()
        if tail:
            typer.echo("Command output:\n" + "\n".join("  " + ln for ln in tail.splitlines()), err=True)
    line = "ERROR: " + ": ".join(chain(err))
    if err.hint:
        line += f" — {err.hint}"
    typer.echo(line, err=True)


def exit_with(code: int) -> None:
    if code:
        raise typer.Exit(code)


def click_context() -> _click.Context | None:
    return get_current_context(silent=True)
