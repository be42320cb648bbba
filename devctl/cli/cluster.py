"""`devctl cluster up|status`: just the cluster part of `devctl up` (kind cluster + local registry)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from devctl.cli._context import make_context
from devctl.cli._edge import command_app, console, json_option, print_json

if TYPE_CHECKING:
    from devctl.cluster.report import ClusterReport

app = command_app(
    help=(
        "The kind cluster and its local registry alone (the cluster part of `devctl up`). "
        "`up` creates what is missing and reuses what exists; `status` shows what exists and how it "
        "differs from the wanted spec. Ports, node image and registry come from DEVCTL_HTTP_PORT, "
        "DEVCTL_HTTPS_PORT, DEVCTL_NODE_IMAGE, DEVCTL_REGISTRY_PORT, DEVCTL_REGISTRY_IMAGE (or [tool.devctl])."
    ),
    no_args_is_help=True,
)


@app.command("up")
def up(
    ctx: typer.Context,
    recreate: bool = typer.Option(
        False,
        "--recreate",
        help="Rebuild the cluster (and replace the registry container) when they differ from the wanted spec. "
        "Without it, a difference is only reported.",
    ),
) -> None:
    """Create or reuse the kind cluster and the local registry. Under --dry-run, print the plan and the
    kind config instead."""
    from devctl.workflows import cluster as workflow

    c = make_context(ctx)
    try:
        if c.cfg.dry_run:
            for line in workflow.describe(c, recreate):
                typer.echo(line)
            return
        workflow.run(c, recreate)
    finally:
        c.reporter.close()
    cfg = c.cfg
    typer.echo(
        f"cluster {cfg.cluster} is up: kubectl --context {cfg.context}; images push to localhost:{cfg.registry_port}"
    )


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: bool = json_option("Print the observed state, drift and plan as JSON."),
) -> None:
    """What exists (node containers, API, stamp, registry), how it differs from the wanted spec, and
    what `devctl cluster up` would do. Reads only."""
    from devctl.cluster.report import report

    c = make_context(ctx)
    try:
        st = report(c)
    finally:
        c.reporter.close()
    if as_json:
        print_json(st.to_json())
    else:
        _render(st)


def _render(st: ClusterReport) -> None:
    from rich.table import Table

    obs, p = st.observed, st.plan
    table = Table(title=f"cluster {st.wanted.name}", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("state")
    nodes = ", ".join(f"{n.name} ({n.state})" for n in obs.nodes) or "none"
    table.add_row("nodes", nodes)
    table.add_row("API", obs.access + (f": {obs.access_detail}" if obs.access_detail else ""))
    table.add_row("stamp", "present" if obs.stamp else "missing")
    reg = obs.registry
    if reg is None:
        table.add_row("registry", "none")
    else:
        where = f"on {reg.host_ip}:{reg.host_port}" if reg.host_port else "not published"
        table.add_row("registry", f"{reg.name} {reg.state} {where}, networks {', '.join(reg.networks)}")
    table.add_row("drift", "; ".join(d.describe() for d in p.drift) or "none")
    table.add_row("next `up`", "nothing to do" if p.noop else "; ".join(p.reasons))
    console().print(table)
