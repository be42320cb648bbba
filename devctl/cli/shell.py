"""`devctl shell SERVICE [COMMAND...]`: a shell, or a command, in the service's running container."""

from __future__ import annotations

from typing import Annotated

import typer

from devctl.cli._context import make_context
from devctl.cli._edge import command_app, exit_with

app = command_app()


@app.command(context_settings={"allow_interspersed_args": False})
def shell(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(metavar="SERVICE", help="A service or a store: auth, auth-mongo, nats...")],
    command: Annotated[
        list[str] | None, typer.Argument(metavar="[COMMAND]...", help="What to run instead of sh.")
    ] = None,
) -> None:
    """Open `sh` in SERVICE's running container (kubectl exec -it), or run COMMAND there; exits with its code.

    Everything after SERVICE is the command (`devctl shell auth-mongo mongosh auth`). When no pod of SERVICE runs,
    says why (CrashLoopBackOff, Pending, ...) instead."""
    from devctl import topology
    from devctl.pods import running_pod

    c = make_context(ctx)
    topo = topology.load(c.cfg)
    (name,) = topology.choose([service], [w.name for w in topo.workloads], "service")
    workload = topo.workload(name)
    assert workload is not None  # choose() checked the name
    hint = "`devctl status` says what it is doing; the services run while `devctl up` (or `devctl dev`) does"
    pod = running_pod(c, workload, start_hint=hint)
    # Options end at SERVICE, so a `--` before the command arrives as an argument: it only separates.
    wanted = command[1:] if command and command[0] == "--" else command
    argv = ["exec", "-it", pod, "-n", topology.NAMESPACE, "-c", workload.container, "--", *(wanted or ["sh"])]
    exit_with(c.kubectl.interactive(*argv))
