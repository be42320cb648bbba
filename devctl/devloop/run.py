"""``run_dev``: the Skaffold dev loop (called as ``devctl.devloop.argv`` says), supervised and shown."""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from devctl import forward as fw
from devctl import topology
from devctl.config import Config
from devctl.context import Context
from devctl.devloop import console as console_parser
from devctl.devloop import events, pidfile
from devctl.devloop.api import EventStream, free_port
from devctl.devloop.argv import dev_args
from devctl.devloop.model import CONSOLE, EVENTS, DevModel, PodCounts
from devctl.devloop.supervisor import Outcome, Supervisor
from devctl.devloop.texts import Frame
from devctl.devloop.updates import AppLog
from devctl.devloop.view import PlainView, View, make_view
from devctl.errors import DevctlError, command_line
from devctl.runner import Background
from devctl.stack import SERVICES, image_name
from devctl.status import pod_counts
from devctl.tools.skaffold import Skaffold, write_global_config

if TYPE_CHECKING:
    from rich.console import Console

# skaffold.md §2: a busy --rpc-http-port ends Skaffold at once with this text; devctl then picks another.
API_PORT_TAKEN = "initializing api server"
PORT_ATTEMPTS = 3
POD_POLL_SECONDS = 5.0


def require_cluster(ctx: Context) -> None:
    """Fail fast, with the fix, when the cluster's API does not answer (one kubectl call)."""
    res = ctx.kubectl.read("get", "--raw", "/readyz", timeout=15, ok_codes=range(256))
    if res.exit_code == 0 and res.stdout.strip() == "ok":
        return
    lines = (res.stderr or res.stdout).strip().splitlines()
    why = lines[-1] if lines else f"kubectl exited {res.exit_code}"
    raise DevctlError(
        f"the cluster {ctx.cfg.cluster} is not ready ({why})",
        hint="run `devctl up` (it creates or repairs the cluster, then starts the dev loop)",
    )


def _images() -> tuple[tuple[str, ...], dict[str, str]]:
    return SERVICES, {image_name(s): s for s in SERVICES}


class _Session:
    """One ``skaffold dev`` process with its parsers, event stream and view wired together."""

    def __init__(self, ctx: Context, model: DevModel, view: View, skaffold: Skaffold, args: list[str]) -> None:
        self.ctx = ctx
        self.model = model
        self.view = view
        self.skaffold = skaffold
        self.args = args
        self.port = int(args[args.index("--rpc-http-port") + 1])
        self.stderr: list[str] = []
        self.stream: EventStream | None = None
        self._stop = threading.Event()

    def on_stdout(self, line: str) -> None:
        line = line.rstrip("\r\n")
        updates = console_parser.parse_stdout(line, self.model.images)
        self.model.apply(updates, source=CONSOLE)
        app = next((up for up in updates if isinstance(up, AppLog)), None)
        if app is not None:
            self.view.app_line(self.model.service_of(app.pod, app.container) or app.container, app.text)
        else:
            self.view.skaffold_line(line)
        self.view.refresh()

    def on_stderr(self, line: str) -> None:
        line = line.rstrip("\r\n")
        self.stderr.append(line)
        self.model.apply(console_parser.parse_stderr(line, self.model.images), source=CONSOLE)
        self.view.skaffold_line(line, err=True)
        self.view.refresh()

    def on_event(self, line: str) -> None:
        self.model.apply(events.parse_line(line, self.model.images), source=EVENTS)
        self.view.refresh()

    def start(self) -> Background:
        proc = self.skaffold.start(
            "dev",
            *self.args,
            on_stdout=self.on_stdout,
            on_stderr=self.on_stderr,
            cwd=str(self.ctx.cfg.require_repo()),
        )
        self.stream = EventStream(
            self.port,
            self.on_event,
            alive=proc.alive,
            on_connected=self.model.use_events,
            on_lost=self.model.use_console,
        ).start()
        return proc

    def poll_pods(self, names: tuple[str, ...]) -> None:
        """Ready/desired/restarts for the table: the event stream does not carry them."""

        while not self._stop.wait(POD_POLL_SECONDS):
            try:
                counts = pod_counts(self.ctx, names)
            except DevctlError:
                continue
            self.model.set_pods({n: PodCounts(*c) for n, c in counts.items()})
            self.view.refresh()

    def close(self) -> None:
        self._stop.set()
        if self.stream is not None:
            self.stream.stop()
            self.stream.join(2.0)

    def port_was_taken(self, outcome: Outcome) -> bool:
        return (
            outcome.skaffold_code == 1
            and not outcome.interrupted
            and any(API_PORT_TAKEN in line for line in self.stderr)
            and self.model.loop == "starting"
        )


class _ForwardFeed:
    """What the port forwards running with the loop (``--forward``) tell the current run's model and view."""

    def __init__(self) -> None:
        self.forwarder: fw.Forwarder | None = None
        self.model: DevModel | None = None
        self.view: View | None = None

    def __call__(self, line: str) -> None:
        if self.forwarder is None or self.model is None or self.view is None:
            return
        self.model.set_forwards(self.forwarder.summary())  # the live view's footer
        if isinstance(self.view, PlainView) or ": retrying" in line:
            self.view.notice(line)


@contextlib.contextmanager
def _forwarding(ctx: Context, enabled: bool, feed: _ForwardFeed) -> Iterator[None]:
    """``devctl forward``'s forwards for as long as the loop runs."""
    if not enabled:
        yield
        return
    feed.forwarder = fw.Forwarder(ctx, fw.plan(topology.load(ctx.cfg)), on_change=feed).start()
    try:
        yield
    finally:
        feed.forwarder.stop()


def run_dev(
    ctx: Context,
    *,
    keep: bool = False,
    profile: str | None = None,
    console: Console | None = None,
    forward: bool = False,
) -> int:
    """Run ``skaffold dev`` until it ends or Ctrl-C; return the exit code devctl should exit with.

    ``console``: the stdout console; a Live view is drawn on it when it is a terminal, plain lines otherwise.
    ``forward``: also forward the stack's ports (``devctl forward``) while the loop runs.
    """
    cfg = ctx.cfg
    profile = profile if profile is not None else (cfg.skaffold_profile or None)
    services, images = _images()
    with tempfile.TemporaryDirectory(prefix="devctl-skaffold-") as tmp:
        config_path = write_global_config(Path(tmp))
        skaffold = ctx.skaffold.with_global_config(str(config_path))
        if cfg.dry_run:
            argv = skaffold.argv("dev", *dev_args(cfg, free_port(), keep=keep, profile=profile))
            ctx.reporter.info("would run: " + command_line(argv))
            return 0
        feed = _ForwardFeed()
        # `devctl down` finds and ends this loop; a second `dev` is refused
        with pidfile.claim(cfg), _forwarding(ctx, forward, feed):
            for attempt in range(1, PORT_ATTEMPTS + 1):
                model = feed.model = DevModel(services, images)
                frame = Frame(cfg.url, keep, services, cfg.registry_name, cfg.registry_port)
                view = feed.view = make_view(model, frame, console)
                feed("")
                args = dev_args(cfg, free_port(), keep=keep, profile=profile)
                session = _Session(ctx, model, view, skaffold, args)
                outcome = _run_session(session, view, model, cfg, live=not isinstance(view, PlainView))
                if not session.port_was_taken(outcome) or attempt == PORT_ATTEMPTS:
                    view.finish(outcome)
                    return outcome.exit_code
                view.notice("the event API's port was taken meanwhile; starting Skaffold again on another port")
    raise AssertionError("unreachable")


def _run_session(session: _Session, view: View, model: DevModel, cfg: Config, *, live: bool) -> Outcome:
    def stopping(timeout: float) -> None:
        model.set_loop("cleaning up")
        what = "stopping (deployed objects stay)" if "--cleanup=false" in session.args else "cleaning up"
        view.notice(f"{what}: waiting up to {timeout:g} s for Skaffold (Ctrl-C again to kill it now)")

    supervisor = Supervisor(
        session.start,
        cleanup_timeout=cfg.cleanup_timeout,
        on_stopping=stopping,
        on_killing=lambda why: view.notice(f"killing Skaffold's process group: {why}"),
    )
    view.start()
    poller = None
    if live:
        poller = threading.Thread(target=session.poll_pods, args=(tuple(model.images.values()),), daemon=True)
        poller.start()
    try:
        return supervisor.run()
    finally:
        session.close()
        view.stop()
