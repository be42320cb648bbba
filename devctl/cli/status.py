"""`devctl status`: cluster, registry, ingress, hosts entry and every service at a glance.

Exit 0 when everything is healthy, 1 otherwise. ``--json`` prints ``StatusReport.to_json()`` (keys
documented in the README); ``--watch`` refreshes in place on a terminal and prints a fresh report every
interval elsewhere (one JSON document per line with ``--json``).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from devctl.cli._context import make_context
from devctl.cli._edge import command_app, console, exit_with, json_option, print_json
from devctl.errors import Verdict

if TYPE_CHECKING:
    from devctl.deployment_health import ServiceRow
    from devctl.status import StatusReport

app = command_app()


@app.command()
def status(
    ctx: typer.Context,
    as_json: bool = json_option("Machine-readable output (stable keys)."),
    watch: bool = typer.Option(False, "--watch", "-w", help="Refresh until Ctrl-C."),
    interval: float = typer.Option(2.0, "--interval", min=0.2, metavar="SECONDS", help="Refresh interval for --watch."),
) -> None:
    """Show the cluster, registry, ingress, hosts entry and every service at a glance.

    One kubectl call and two docker reads. Exit 0 only when all of it is healthy; otherwise the last line
    names what to do next. --json keys are listed in docs/json.md; null means "not known".
    """
    from devctl.report import SilentReporter
    from devctl.status import collect

    context = make_context(ctx, reporter=SilentReporter())
    if not watch:
        report = collect(context)
        if as_json:
            print_json(report.to_json())
        else:
            console().print(render(report))
        if not report.healthy:
            raise Verdict("not healthy", hint=report.next_step)
        return
    exit_with(_watch(lambda: collect(context), as_json=as_json, interval=interval))


def _watch(observe: Callable[[], StatusReport], *, as_json: bool, interval: float) -> int:
    """Until Ctrl-C; the exit code is the last report's verdict."""
    from devctl.devloop.view import use_live

    out = console()
    code = 1
    try:
        if as_json or not use_live(out):
            while True:
                report = observe()
                code = 0 if report.healthy else 1
                if as_json:
                    sys.stdout.write(json.dumps(report.to_json()) + "\n")
                    sys.stdout.flush()
                else:
                    out.print(render(report))
                    out.print()
                time.sleep(interval)
        from rich.live import Live

        report = observe()
        with Live(render(report), console=out, auto_refresh=False) as live:
            while True:
                code = 0 if report.healthy else 1
                live.update(render(report), refresh=True)
                time.sleep(interval)
                report = observe()
    except KeyboardInterrupt:
        return code


def _mark(ok: bool | None) -> str:
    if ok is None:
        return "[yellow]?[/]"
    return "[green]✓[/]" if ok else "[red]✗[/]"


def render(report: StatusReport) -> Any:
    """The report as rich renderables: a table of the environment, then one row per service."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    c, r, i, h = report.cluster, report.registry, report.ingress, report.hosts
    env = Table(box=None, show_header=False, pad_edge=False)
    env.add_column(no_wrap=True)
    env.add_column(no_wrap=True)
    env.add_column()
    cluster_text = f"{c.nodes_ready}/{c.nodes_total} node(s) Ready" if c.api == "ok" else ""
    env.add_row("cluster", f"{_mark(c.ok)} {escape(c.name)} ({escape(c.context)})", escape(c.detail or cluster_text))
    reg_text = f"running on 127.0.0.1:{r.host_port}" if r.running and r.host_port else ""
    env.add_row("registry", f"{_mark(r.ok)} {escape(r.name)}", escape(r.detail or reg_text))
    ingress_ok = None if i.admitting is None else i.ok
    env.add_row("ingress", f"{_mark(ingress_ok)} ingress-nginx", escape(i.detail or "admitting"))
    env.add_row("hosts", f"{_mark(h.ok)} {escape(h.host)}", escape(h.detail or f"-> {h.ip}"))
    if report.engine is not None:
        env.add_row("engine", escape(report.engine.name), escape(f"context {report.engine.context}"))

    svc = _rows_table("SERVICE", report.services)
    verdict = "[green]healthy[/]" if report.healthy else "[red]not healthy[/]"
    parts: list[Any] = [env, "", svc, ""]
    if report.infrastructure:
        parts += [_rows_table("STORE", report.infrastructure), ""]
    why = Table(box=None, show_header=False, pad_edge=False)
    why.add_column(no_wrap=True)
    why.add_column()
    for s in (*report.services, *report.infrastructure):
        if s.reason:
            why.add_row(escape(s.name), f"[red]{escape(s.reason)}[/]")
    if why.row_count:
        parts += ["[bold]Why not ready[/]", why, ""]
    return Group(*parts, verdict)


def _rows_table(title: str, rows: Sequence[ServiceRow]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    from devctl.deployment_health import age_text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for col in (title, "READY", "RESTARTS", "AGE", "IMAGE"):
        table.add_column(col, no_wrap=True)
    for s in rows:
        if s.deployed is False:
            ready = "[red]not deployed[/]"
        elif s.ready is None:
            ready = "[yellow]?[/]"
        else:
            colour = "green" if s.ok else "red"
            ready = f"[{colour}]{s.ready}/{s.desired}[/]"
        restarts = "-" if s.restarts is None else str(s.restarts)
        table.add_row(escape(s.name), ready, restarts, age_text(s.age_seconds), escape(_short_image(s.image)))
    return table


def _short_image(image: str | None) -> str:
    """Skaffold tags images with their 64-hex ID (skaffold.md §3): show 12 like docker does. A tag pinned by
    digest (the stores' images) shows as its tag."""
    if image is None:
        return "-"
    named, at, _ = image.partition("@")
    if at and ":" in named.rsplit("/", 1)[-1]:
        return named
    name, sep, tag = image.rpartition(":")
    if sep and "/" not in tag and len(tag) == 64:
        return f"{name}:{tag[:12]}"
    return image or "-"
