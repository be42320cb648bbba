"""`devctl dev`: only the Skaffold dev loop, against a cluster `devctl up` made."""

from __future__ import annotations

import typer

from devctl.cli._common import console, exit_with, make_context

app = typer.Typer(rich_markup_mode=None, add_completion=False)


@app.command()
def dev(
    ctx: typer.Context,
    keep: bool = typer.Option(
        False, "--keep", help="Leave the deployed objects in the cluster on exit (skaffold --cleanup=false)."
    ),
    profile: str = typer.Option(
        None, "--profile", "-p", metavar="NAME", help="Skaffold profile(s) to activate [env DEVCTL_SKAFFOLD_PROFILE]."
    ),
    forward: bool = typer.Option(
        False, "--forward", help="Forward local ports to the stores and services while the loop runs (devctl forward)."
    ),
) -> None:
    """Run `skaffold dev` with a live view of every service; Ctrl-C stops it and cleans up."""
    from devctl.devloop.run import require_cluster, run_dev
    from devctl.report import PlainReporter

    # Plain progress lines: the dev loop draws its own Live view, and two live regions would fight.
    context = make_context(ctx, reporter=PlainReporter(), skaffold_profile=profile)
    if not context.cfg.dry_run:
        require_cluster(context)
    code = run_dev(context, keep=keep, profile=context.cfg.skaffold_profile or None, console=console(), forward=forward)
    exit_with(code)
