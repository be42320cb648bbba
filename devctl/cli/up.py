"""`devctl up`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import typer

from devctl.cli._context import make_context
from devctl.cli._edge import command_app, console, err_console, exit_with, print_line

app = command_app(help="Create everything and start the dev loop.")

Only = Annotated[
    str | None,
    typer.Option("--only", metavar="STEP", help="Run one part: hosts, cluster, ingress, infra, secrets or build."),
]
IngressManifest = Annotated[
    str | None,
    typer.Option("--ingress-manifest", metavar="PATH", help="A local copy of the ingress-nginx kind manifest."),
]
NoSudo = Annotated[
    bool, typer.Option("--no-sudo", help="If the hosts file needs sudo, print the command instead of running it.")
]
Forward = Annotated[
    bool,
    typer.Option(
        "--forward", help="Forward local ports to the stores and services while the loop runs (devctl forward)."
    ),
]
NoInstall = Annotated[
    bool,
    typer.Option(
        "--no-install",
        envvar="DEVCTL_NO_TOOL_INSTALL",
        help="Do not download the pinned kind, kubectl and skaffold into devctl's store; use what is there or on PATH.",
    ),
]


@app.command()
def up(
    ctx: typer.Context,
    no_dev: bool = typer.Option(False, "--no-dev", help="Stop after the secrets step and print the URL."),
    keep: bool = typer.Option(False, "--keep", help="Leave deployed objects when the dev loop ends (--cleanup=false)."),
    recreate: bool = typer.Option(False, "--recreate", help="Delete and re-create the cluster when its spec drifted."),
    only: Only = None,
    profile: str = typer.Option(None, "--profile", "-p", metavar="NAME", help="Skaffold profile (e.g. services)."),
    ingress_manifest: IngressManifest = None,
    no_sudo: NoSudo = False,
    no_build: bool = typer.Option(False, "--no-build", help="Skip the image pre-build (Skaffold builds in dev)."),
    forward: Forward = False,
    no_install: NoInstall = False,
) -> None:
    """Create everything and start the dev loop.

    In order: the pinned kind, kubectl and Skaffold into devctl's store when missing; preflight (the tools
    usable, the Docker daemon answering); the hosts entry (a sudo prompt comes now, not after minutes of
    work); the local registry and the kind cluster, side by side, wired together; ingress-nginx installed
    and admitting Ingresses, with the images built and the databases, Redis and NATS applied meanwhile
    (k8s/infra/, on volumes, outside Skaffold's cleanup); the dev secrets; then `skaffold dev` with a
    live view of every service (see `devctl dev`). Each step is idempotent: run it again after a failure or
    Ctrl-C and it continues from where things are; on a machine where all is up, it changes nothing.
    --dry-run prints the plan, the kind config and the commands instead.
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
            _print_plan(workflow.describe(c, opts))
            return
        workflow.run(c, opts)
    finally:
        c.reporter.close()
    if no_dev or only is not None:
        print_line(f"Ready: {c.cfg.url}  (run `devctl dev` for the dev loop)")
        return
    from devctl.devloop.run import run_dev

    exit_with(run_dev(c, keep=keep, profile=c.cfg.skaffold_profile or None, console=err_console(), forward=forward))


def _print_plan(lines: Iterable[str]) -> None:
    out = console()
    out.print("Plan (--dry-run: nothing is changed):", highlight=False)
    for line in lines:
        out.print(line, highlight=False, markup=False)
