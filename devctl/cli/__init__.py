"""The devctl command line: a thin typer front end.

One module per command (``COMMANDS``), imported when its command runs or its help is shown. What every
command shares lives here, once:

- the global options ``--cluster``, ``-v/--verbose`` and ``--dry-run``, accepted before the command and
  after it (``devctl down --dry-run``), as kubectl, kind and Skaffold take theirs;
- errors become messages here and nowhere else: one ``ERROR:`` line saying what is wrong and what to do,
  the documented exit code, and with ``--json`` one JSON object on stdout as well;
- a mistyped command gets a suggestion; bare ``devctl`` prints the help and exits 0.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import replace
from typing import Any

import typer
from typer import _click
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup, TyperOption

from devctl import __version__
from devctl.cli._edge import JSON_PRINTED, JSON_REQUESTED, GlobalOptions, print_json, report_error
from devctl.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, DevctlError, chain
from devctl.host_checks import NATIVE_WINDOWS

# name -> (module under devctl.cli, one-line help for `devctl --help`).
COMMANDS: dict[str, tuple[str, str]] = {
    "up": (
        "up",
        "Create everything (hosts entry, cluster, registry, ingress, databases, secrets) and start the dev loop.",
    ),
    "down": ("down", "Stop the dev loop and delete the cluster (--registry, --hosts remove those too)."),
    "dev": ("dev", "Run only the Skaffold dev loop against an existing cluster."),
    "status": ("status", "Show cluster, registry, ingress, hosts entry and every service at a glance."),
    "logs": ("logs", "Print or follow the logs of one, several or all services, prefixed by service name."),
    "data": ("data", "Empty, seed or dump the services' databases (their data survives Ctrl-C and `up`)."),
    "forward": ("forward", "Forward local ports to the databases, Redis, NATS and services until Ctrl-C."),
    "shell": ("shell", "Open a shell (or run a command) in a service's running container."),
    "hosts": ("hosts", "Add, remove or check the tour.xyz entry in the hosts file."),
    "routes": ("routes", "Show which service each URL reaches, computed the way ingress-nginx does."),
    "verify": ("verify", "Prove every Ingress route end to end against the running stack."),
    "secrets": ("secrets", "Show the dev secrets devctl created (names; values with --reveal)."),
    "doctor": (
        "doctor",
        "Check this machine: tools, the Docker engine and its memory, ports, hosts entry, proxy, network.",
    ),
    "cluster": ("cluster", "Create (`up [--recreate]`) or inspect (`status`) just the kind cluster and registry."),
    "tools": ("tools", "Install, list, lock or prune the pinned kind, kubectl and Skaffold devctl runs."),
}

_GLOBAL_HELP = {
    "cluster": "kind cluster name [env DEVCTL_CLUSTER; default: tour]",
    "verbose": "Print every external command before it runs.",
    "dry_run": "Print the plan and the commands that would change state; change nothing.",
}


def _remember(name: str) -> Any:
    """A callback that records a global option given after the command (it wins over one given before)."""

    def record(ctx: _click.Context, param: _click.Parameter, value: Any) -> None:
        if value is None or value is False:
            return
        root = ctx.find_root()
        root.obj = replace(root.obj if isinstance(root.obj, GlobalOptions) else GlobalOptions(), **{name: value})

    return record


def _global_params() -> list[_click.Parameter]:
    return [
        TyperOption(
            param_decls=["--cluster"],
            metavar="NAME",
            expose_value=False,
            callback=_remember("cluster"),
            help=_GLOBAL_HELP["cluster"],
        ),
        TyperOption(
            param_decls=["--verbose", "-v"],
            is_flag=True,
            expose_value=False,
            callback=_remember("verbose"),
            help=_GLOBAL_HELP["verbose"],
        ),
        TyperOption(
            param_decls=["--dry-run"],
            is_flag=True,
            expose_value=False,
            callback=_remember("dry_run"),
            help=_GLOBAL_HELP["dry_run"],
        ),
    ]


def _accept_global_options(command: _click.Command) -> None:
    """Give a command, and every subcommand of a group, the global options (once)."""
    names = {opt for p in command.params for opt in getattr(p, "opts", [])}
    if "--dry-run" not in names:
        command.params.extend(_global_params())
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _accept_global_options(sub)


class DevctlGroup(TyperGroup):
    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"devctl.cli.{entry[0]}")
        command = typer.main.get_command(module.app)
        command.name = cmd_name
        _accept_global_options(command)
        return command

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            from difflib import get_close_matches  # the typo path only, as click does for options

            close = get_close_matches(name, list(COMMANDS), n=1)
            hint = f"; did you mean `devctl {close[0]}`?" if close else ""
            raise UsageError(f"no such command {name!r}{hint}", ctx)
        return super().resolve_command(ctx, args)

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """A usage error (an unknown option, a missing argument) is one ERROR line naming the command's
        --help, exit 2 (with --json, also one JSON object on stdout); a group given no subcommand prints
        its help and succeeds."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        args = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except NoArgsIsHelpError as err:
            typer.echo(err.ctx.get_help() if err.ctx is not None else "")
            sys.exit(0)
        except UsageError as err:
            where = err.ctx.command_path if err.ctx is not None else prog_name or "devctl"
            message = err.format_message().rstrip(".")
            typer.echo(f"ERROR: {message[:1].lower()}{message[1:]} — see `{where} --help`", err=True)
            if "--json" in args:
                print_json({"ok": False, "error": message, "hint": f"see `{where} --help`", "exit_code": EXIT_USAGE})
            sys.exit(EXIT_USAGE)
        except typer.Abort:
            typer.echo("\nInterrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)  # a command's Exit(code) comes back as its value

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _click.echo("\nInterrupted.", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except DevctlError as err:
            verbose = isinstance(ctx.obj, GlobalOptions) and ctx.obj.verbose
            report_error(err, verbose=verbose)
            if ctx.meta.get(JSON_REQUESTED) and not ctx.meta.get(JSON_PRINTED):
                print_json({"ok": False, "error": ": ".join(chain(err)), "hint": err.hint, "exit_code": err.exit_code})
            raise typer.Exit(err.exit_code) from None


app = typer.Typer(
    cls=DevctlGroup,
    name="devctl",
    help="The tour project's local environment: a kind cluster, ingress-nginx and Skaffold's dev loop.",
    rich_markup_mode=None,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"devctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    cluster: str = typer.Option(None, "--cluster", metavar="NAME", help=_GLOBAL_HELP["cluster"]),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=_GLOBAL_HELP["verbose"]),
    dry_run: bool = typer.Option(False, "--dry-run", help=_GLOBAL_HELP["dry_run"]),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print devctl's version and exit."
    ),
) -> None:
    ctx.obj = GlobalOptions(cluster=cluster, verbose=verbose, dry_run=dry_run)
    if ctx.invoked_subcommand is None:  # bare `devctl`: the help, like kubectl and kind, and success
        typer.echo(ctx.get_help())
        raise typer.Exit()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    if sys.platform == "win32":
        sys.stderr.write(NATIVE_WINDOWS + "\n")
        raise SystemExit(EXIT_FAILURE)
    app(args=argv, prog_name="devctl")
