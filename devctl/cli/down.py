"""`devctl down`: delete the kind cluster; --registry and --hosts remove those too. Idempotent."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from devctl.cli._context import make_context
from devctl.cli._edge import command_app, console, err_console

if TYPE_CHECKING:
    from devctl.context import Context

app = command_app()


@app.command()
def down(
    ctx: typer.Context,
    registry: bool = typer.Option(
        False, "--registry", help="Also remove the registry container (default kind-registry) and its images."
    ),
    hosts: bool = typer.Option(False, "--hosts", help="Also remove devctl's entry for the host from the hosts file."),
) -> None:
    """Stop the dev loop and delete the kind cluster (and its kube context).

    A dev loop still running for the cluster is ended first (Skaffold cleans up). Running it again is
    fine: it says there was nothing to delete and exits 0. Nothing else on the machine is touched: other
    clusters, contexts, containers and the `kind` network stay. --dry-run prints what would be removed.
    """
    from devctl.cluster.teardown import teardown

    c = make_context(ctx)
    out = console()
    try:
        removed = _stop_dev_loop(c) + teardown(c, registry=registry)
    finally:
        c.reporter.close()
    verb = "would remove" if c.cfg.dry_run else "removed"
    for item in removed:
        out.print(f"{verb} {item}", markup=False, highlight=False)
    if not removed:
        what = f"no kind cluster named {c.cfg.cluster}"
        if registry:
            what += f" and no registry container {c.cfg.registry_name}"
        out.print(f"nothing to delete: {what}", markup=False, highlight=False)
    if hosts:
        _remove_hosts_entry(c)


def _stop_dev_loop(c: Context) -> list[str]:
    """A dev loop still running for this cluster is ended first (Skaffold cleans up), then the cluster goes."""
    from devctl.devloop import pidfile

    running = pidfile.find(c.cfg.cluster)
    if running is None:
        return []
    if c.cfg.dry_run:
        return [f"the running dev loop (devctl pid {running.pid})"]
    pidfile.stop(c.cfg.cluster, timeout=c.cfg.cleanup_timeout, notify=c.reporter.info)
    return [f"the running dev loop (devctl pid {running.pid})"]


def _remove_hosts_entry(c: Context) -> None:
    from devctl.hosts import entry

    change = entry.remove_entry(c.cfg, c.runner, notify=lambda m: err_console().print(m, markup=False, highlight=False))
    out = console()
    for note in change.notes:
        err_console().print("note: " + note, markup=False, highlight=False)
    if not change.changed:
        out.print(f"hosts entry: {change.reason}; nothing to remove", markup=False, highlight=False)
    elif change.dry_run:
        out.print(change.diff, markup=False, highlight=False)
        out.print(f"would remove the {c.cfg.host} entry from {change.path}", markup=False, highlight=False)
    else:
        out.print(f"removed the {c.cfg.host} entry from {change.path}", markup=False, highlight=False)
