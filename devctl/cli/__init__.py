"""The devctl command line: a thin typer front end.

Command modules are imported when their command runs (``LazyGroup``); the top-level help is written
from ``COMMANDS``. Errors become messages here and nowhere else (``LazyGroup.invoke``).
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer import _click
from typer.core import TyperGroup

from devctl import __version__

# name -> (module under devctl.cli, one-line help for `devctl --help`).
COMMANDS: dict[str, tuple[str, str]] = {
    "up": (
        "up",
        "Create everything (hosts entry, cluster, registry, ingress, databases, secrets) and start the dev loop.",
    ),
    "down": ("down", "Stop the dev loop and delete the cluster (--registry, --hosts remove those too)."),
    "dev": ("dev", "Run only the Skaffold dev loop against an existing cluster."),
    "status": ("status", "Show cluster, registry, ingress, hosts entry and every service at a glance."),
    "logs": ("logs", "Follow the logs of one, several or all services, prefixed by service name."),
    "data": ("data", "Empty, seed or dump the services' databases (their data survives Ctrl-C and `up`)."),
    "forward": ("forward", "Forward local ports to the databases, Redis, NATS and services until Ctrl-C."),
    "shell": ("shell", "Open a shell (or run a command) in a service's running container."),
    "hosts": ("hosts", "Add, remove or check the tour.xyz entry in the hosts file."),
    "routes": ("routes", "Show which service each URL reaches, computed the way ingress-nginx does."),
    "verify": ("verify", "Prove every Ingress route end to end against the running stack."),
    "secrets": ("secrets", "Show the dev secrets devctl created (names; values with --reveal)."),
    "doctor": ("doctor", "Check this machine: tools, Docker, ports, hosts entry, memory."),
    "cluster": ("cluster", "Create (`up [--recreate]`) or inspect (`status`) just the kind cluster and registry."),
    "tools": ("tools", "Install, list, lock or prune the pinned kind, kubectl and Skaffold devctl runs."),
}


class LazyGroup(TyperGroup):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"devctl.cli.{entry[0]}")
        command = typer.main.get_command(module.app)
        command.name = cmd_name
        return command

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _click.echo("\nInterrupted.", err=True)
            raise typer.Exit(130) from None
        except Exception as err:
            from devctl.errors import DevctlError

            if not isinstance(err, DevctlError):
                raise  # a bug: let the traceback show
            from devctl.cli._common import report_error

            report_error(err, verbose=bool(ctx.obj and getattr(ctx.obj, "verbose", False)))
            raise typer.Exit(err.exit_code) from None


app = typer.Typer(
    cls=LazyGroup,
    name="devctl",
    help="The tour project's local environment: a kind cluster, ingress-nginx and Skaffold's dev loop.",
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"devctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    cluster: str = typer.Option(
        None, "--cluster", metavar="NAME", help="kind cluster name [env DEVCTL_CLUSTER; default: tour]"
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print every external command before it runs."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the plan and the commands that would change state; change nothing."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print devctl's version and exit."
    ),
) -> None:
    from devctl.cli._common import GlobalOptions

    ctx.obj = GlobalOptions(cluster=cluster, verbose=verbose, dry_run=dry_run)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    app(args=argv, prog_name="devctl")
