"""`devctl doctor`."""

from __future__ import annotations

import typer

from devctl import doctor as logic
from devctl.check import Check
from devctl.cli._context import make_context
from devctl.cli._edge import command_app, console, json_option, print_json
from devctl.errors import Verdict

app = command_app(
    help="Check this machine: tools, the Docker engine and its memory, ports, hosts entry, proxy, network."
)

_STYLE = {"ok": "green", "warn": "yellow", "fail": "red", "info": "cyan"}


@app.command()
def doctor(ctx: typer.Context, as_json: bool = json_option()) -> None:
    """Check this machine: tools, the Docker engine and its memory, ports, hosts entry, proxy, network.

    Exit 1 when a required check fails; each failed or warning check's fix is printed below the table."""
    c = make_context(ctx)
    report = logic.run(c)
    checks = report.checks
    failed = logic.failed_required(checks)
    if as_json:
        print_json({"ok": not failed, "checks": [ch.to_json() for ch in checks], **report.facts})
        _verdict(failed)
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="devctl doctor", title_justify="left")
    for col in ("check", "status", "detail"):
        table.add_column(col)
    for ch in checks:
        # What checks say comes from tools and files (`[tool.devctl]`, kubectl's messages): never markup.
        table.add_row(escape(ch.name), f"[{_STYLE[ch.status]}]{ch.status}[/]", escape(ch.detail))
    console().print(table)
    fixes = [ch for ch in checks if ch.hint and ch.status in ("fail", "warn")]
    if fixes:
        # Below the table, each on one unwrapped line: a fix (an install URL, a command) must be readable
        # and copyable in full, whatever the terminal's width.
        typer.echo("To fix:")
        for ch in fixes:
            typer.echo(f"  {ch.name}: {ch.hint}")
    _verdict(failed)


def _verdict(failed: list[Check]) -> None:
    if failed:
        raise Verdict(
            f"{len(failed)} required check(s) failed: {', '.join(ch.name for ch in failed)}",
            hint="fix them (each fix is listed above), then run `devctl doctor` again",
        )
