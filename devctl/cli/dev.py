"""`devctl dev`: only the Skaffold dev loop, against a cluster `devctl up` made."""

from __future__ import annotations

import typer

from devctl.cli._context import make_context
from devctl.cli._edge import command_app, console, exit_with

app = command_app()


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
    """Run only the dev loop, `skaffold dev`, against the cluster `devctl up` made.

    Skaffold runs pinned to kind-<cluster>, with a private global config and the SKAFFOLD_* variables
    removed; devctl shows one row per service (build, deploy, ready pods, restarts, last line or error;
    a failed later iteration with Skaffold's reason) with the applications' logs scrolling above. The rows
    come from Skaffold's event API, which answers with its first event (devctl waits for it as long as
    Skaffold runs), or from its console lines when that port never accepts a connection. Ctrl-C: one
    SIGINT to Skaffold, which cleans up within cleanup_timeout (30 s), else its process group is killed; a
    second Ctrl-C kills at once. Exit code: Skaffold's (0 after Ctrl-C; 130 when devctl had to kill it).
    One dev loop per cluster.
    """
    from devctl.devloop.run import require_cluster, run_dev
    from devctl.report import PlainReporter

    # Plain progress lines: the dev loop draws its own Live view, and two live regions would fight.
    context = make_context(ctx, reporter=PlainReporter(), skaffold_profile=profile)
    context.cfg.require_repo()  # skaffold.yaml lives there
    if not context.cfg.dry_run:
        require_cluster(context)
    code = run_dev(context, keep=keep, profile=context.cfg.skaffold_profile or None, console=console(), forward=forward)
    exit_with(code)
