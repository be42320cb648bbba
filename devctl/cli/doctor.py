"""`devctl doctor`."""

from __future__ import annotations

import typer

from devctl.cli._common import console, exit_with, make_context, print_json

app = typer.Typer(
    help="Check this machine: tools, the Docker engine and its memory, ports, hosts entry, proxy, network."
)

_STYLE = {"ok": "green", "warn": "yellow", "fail": "red", "info": "cyan"}


@app.command()
def doctor(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check the machine. Exit 1 when a required check fails."""
    from devctl import doctor as logic

    c = make_context(ctx)
    report = logic.run(c)
    checks = report.checks
    failed = logic.failed_required(checks)
    if json_out:
        print_json({"ok": not failed, "checks": [ch.to_json() for ch in checks], **report.facts})
    else:
        from rich.markup import escape
        from rich.table import Table

        table = Table(title="devctl doctor", title_justify="left")
        for col in ("check", "status", "detail", "fix"):
            table.add_column(col)
        for ch in checks:
            # What checks say comes from tools and files (`[tool.devctl]`, kubectl's messages): never markup.
            table.add_row(escape(ch.name), f"[{_STYLE[ch.status]}]{ch.status}[/]", escape(ch.detail), escape(ch.hint))
        console().print(table)
        if failed:
            console().print(f"[red]{len(failed)} required check(s) failed.[/]")
    exit_with(1 if failed else 0)
