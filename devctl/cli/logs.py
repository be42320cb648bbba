"""`devctl logs [SERVICE...]`: multiplexed service logs, read through kubectl."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from devctl.cli._context import make_context
from devctl.cli._edge import command_app
from devctl.errors import Verdict

app = command_app()


@app.command()
def logs(
    ctx: typer.Context,
    services: Annotated[
        list[str] | None, typer.Argument(metavar="[SERVICE]...", help="Services to show (default: all).")
    ] = None,
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep following, across pod restarts and new pods, until Ctrl-C."
    ),
    since: str = typer.Option(None, "--since", metavar="DURATION", help="Only lines newer than this (5s, 2m, 3h)."),
    tail: int = typer.Option(None, "--tail", metavar="N", help="Only the last N lines of each container."),
    no_prefix: bool = typer.Option(False, "--no-prefix", help="Do not put the service name before each line."),
) -> None:
    """Print (or follow) the logs of one, several or all services, each line behind its service's name.

    Read through kubectl, so it works with or without a dev loop running. -f follows across pod restarts
    and new pods until Ctrl-C. The names are coloured on a terminal and plain when piped.
    """
    from devctl import logs as logs_mod
    from devctl.report import PlainReporter
    from devctl.stack import SERVICES

    chosen = logs_mod.choose(services or [], SERVICES)
    opts = logs_mod.LogOptions(
        services=chosen,
        follow=follow,
        since=logs_mod.check_since(since),
        tail=logs_mod.check_tail(tail),
        prefix=not no_prefix,
        # Plain when piped (no control codes) and under NO_COLOR.
        colour=sys.stdout.isatty() and not os.environ.get("NO_COLOR"),
    )
    context = make_context(ctx, reporter=PlainReporter())
    out = sys.stdout.buffer
    try:
        code = logs_mod.show_logs(context, opts, out, sys.stderr)
        logs_mod.flush_fully(out)
    except BrokenPipeError:
        code = 0
    if code == 0 and _stdout_closed():
        # The reader left (`devctl logs | head`): that is not an error, and the interpreter must not
        # complain while flushing a dead pipe at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if code:
        raise Verdict(
            "kubectl could not read the logs of every service (its messages are above)",
            hint="`devctl status` shows which services are not ready",
        )


def _stdout_closed() -> bool:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        return True
    return False
