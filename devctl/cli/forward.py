"""`devctl forward [TARGET...] [--json]`: forward local ports to the stack's Services until Ctrl-C."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from devctl.cli._context import make_context
from devctl.cli._edge import command_app, console, json_option, print_json, print_line

if TYPE_CHECKING:
    from devctl.forward import ForwardRow

app = command_app()

SETTLE_SECONDS = 15.0  # at most this long before the table is printed; forwards still starting say so


@app.command()
def forward(
    ctx: typer.Context,
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[TARGET]...", help="Services to reach, e.g. auth-mongo review-redis auth (default: all)."
        ),
    ] = None,
    as_json: bool = json_option("Print the table as JSON (then keep forwarding); one JSON object also when it fails."),
) -> None:
    """Forward 127.0.0.1 ports to every MongoDB, Redis, NATS and HTTP service (or the TARGETs) until Ctrl-C.

    The ports are fixed (MongoDB 27017..., Redis 6379..., NATS 4222/8222, HTTP 3000...); one in use gets the next
    free port, and the table says so. A forward whose pod is replaced is set up again by itself."""
    from devctl import forward as fw
    from devctl import topology
    from devctl.devloop.run import require_cluster
    from devctl.report import PlainReporter

    c = make_context(ctx, reporter=PlainReporter())
    topo = topology.load(c.cfg)
    chosen = topology.choose(targets or [], [e.name for e in topo.endpoints], "target")
    plans = fw.plan(topo, chosen)
    if c.cfg.dry_run:
        for p in plans:
            args = ["port-forward", "-n", topology.NAMESPACE, f"service/{p.service}", "--address", fw.ADDRESS]
            print_line(" ".join(c.kubectl.argv(*args, f"{p.wanted}:{p.remote}")) + f"   # {p.url(p.wanted)}")
        return
    require_cluster(c)
    forwarder = fw.Forwarder(c, plans, on_change=lambda line: typer.echo(line, err=True)).start()
    try:
        forwarder.wait_settled(SETTLE_SECONDS)
        rows = forwarder.rows()
        if as_json:
            print_json({"forwards": [r.to_json() for r in rows]})
        else:
            console().print(render(rows))
            typer.echo("Forwarding until Ctrl-C.", err=True)
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        forwarder.stop()


def render(rows: list[ForwardRow]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("TARGET", "PORT", "LOCAL", "CONNECT", "NOTE"):
        table.add_column(col, no_wrap=col != "NOTE")
    for r in rows:
        local = str(r.local_port) if r.state == "up" else f"[yellow]{r.local_port}[/]"
        note = r.note or ("" if r.state == "up" else r.state)
        table.add_row(escape(r.target), f"{r.port_name}/{r.remote_port}", local, escape(r.url), escape(note))
    return table
