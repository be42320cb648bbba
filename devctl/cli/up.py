"""`devctl up`."""

from __future__ import annotations

import typer

from devctl.cli._common import console, err_console, exit_with, make_context, print_line

app = typer.Typer(help="Create everything and start the dev loop.")


@app.command()
def up(
    ctx: typer.Context,
    no_dev: bool = typer.Option(False, "--no-dev", help="Stop after the secrets step and print the URL."),
    keep: bool = typer.Option(False, "--keep", help="Leave deployed objects when the dev loop ends (--cleanup=false)."),
    recreate: bool = typer.Option(False, "--recreate", help="Delete and re-create the cluster when its spec drifted."),
    only: str = typer.Option(
        None, "--only", metavar="STEP", help="Run one part: hosts, cluster, ingress, infra, secrets or build."
    ),
    profile: str = typer.Option(None, "--profile", "-p", metavar="NAME", help="Skaffold profile (e.g. services)."),
    ingress_manifest: str = typer.Option(
        None, "--ingress-manifest", metavar="PATH", help="A local copy of the ingress-nginx kind manifest."
    ),
    no_sudo: bool = typer.Option(
        False, "--no-sudo", help="If the hosts file needs sudo, print the command instead of running it."
    ),
    no_build: bool = typer.Option(False, "--no-build", help="Skip the image pre-build (Skaffold builds in dev)."),
    forward: bool = typer.Option(
        False, "--forward", help="Forward local ports to the stores and services while the loop runs (devctl forward)."
    ),
    no_install: bool = typer.Option(
        False,
        "--no-install",
        envvar="DEVCTL_NO_TOOL_INSTALL",
        help="Do not download the pinned kind, kubectl and skaffold into devctl's store; use what is there or on "
        "PATH [env DEVCTL_NO_TOOL_INSTALL=1].",
    ),
) -> None:
    """Hosts entry, registry + kind cluster, ingress-nginx admitting, dev secrets, then `skaffold dev`.

    Each step is idempotent: run it again after a failure or Ctrl-C and it continues from where things are.
    """
    from devctl.workflows import up as workflow

    c = make_context(ctx, skaffold_profile=profile, ingress_manifest=ingress_manifest)
    opts = workflow.UpOptions(
        no_dev=no_dev,
        keep=keep,
        recreate=recreate,
        only=only,
        no_sudo=no_sudo,
        skip_build=no_build,
        install_tools=not no_install,
    )
    try:
        if c.cfg.dry_run:
            out = console()
            out.print("Plan (--dry-run: nothing is changed):", highlight=False)
            for line in workflow.describe(c, opts):
                out.print(line, highlight=False, markup=False)
            return
        workflow.run(c, opts)
    finally:
        c.reporter.close()
    if no_dev or only is not None:
        print_line(f"Ready: {c.cfg.url}  (run `devctl dev` for the dev loop)")
        return
    from devctl.devloop.run import run_dev

    exit_with(run_dev(c, keep=keep, profile=c.cfg.skaffold_profile or None, console=err_console(), forward=forward))
