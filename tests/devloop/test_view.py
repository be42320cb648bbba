"""Drawing the dev loop: the Live table and footer on a terminal, plain lines without control codes elsewhere."""

from __future__ import annotations

import io
import re

from rich.console import Console

from devctl.devloop import updates as u
from devctl.devloop.live import LiveView
from devctl.devloop.model import CONSOLE, DevModel
from devctl.devloop.supervisor import Outcome
from devctl.devloop.texts import Frame
from devctl.devloop.view import PlainView, make_view

SERVICES = ("auth", "expiration", "tour")
FRAME = Frame("http://tour.xyz", False, SERVICES)


def model() -> DevModel:
    m = DevModel(SERVICES, {f"csup96/tour-{s}": s for s in SERVICES})
    m.apply(
        [
            u.LoopState(u.RUNNING, 1),
            u.BuildState("auth", u.BUILT),
            u.DeployState("auth", u.READY, ready=1, desired=1),
            u.AppLog("auth-5d8f7c9b6d-x2x7q", "auth", "listening on 3000"),
            u.DeployState("tour", u.DEPLOY_FAILED, "container tour is waiting to start: img can't be pulled"),
            u.LoopState(u.LOOP_READY, 1),
        ],
        source=CONSOLE,
    )
    return m


def terminal(no_color: bool = False) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=True, width=140, no_color=no_color, color_system="standard"), buf


def test_the_live_region_has_a_row_per_service_and_a_footer_with_url_state_and_keys() -> None:
    con, buf = terminal()
    view = LiveView(con, model(), FRAME)
    con.print(view._render())
    text = buf.getvalue()
    for word in ("SERVICE", "BUILD", "DEPLOY", "PODS", "RESTARTS", *SERVICES, "listening on 3000",
                 "can't be pulled", "http://tour.xyz", "ready (iteration 1)", "Ctrl-C"):  # fmt: skip
        assert word in text, word
    assert "\x1b[" in text  # coloured on a terminal


def test_no_color_keeps_the_view_but_drops_colours() -> None:
    con, buf = terminal(no_color=True)
    LiveView(con, model(), FRAME)._print("auth", "hello")
    assert "auth" in buf.getvalue() and "hello" in buf.getvalue()
    assert "\x1b[3" not in buf.getvalue()  # no foreground colour codes


def test_a_terminal_gets_the_live_view_anything_else_plain_lines() -> None:
    con, _ = terminal()
    assert isinstance(make_view(model(), FRAME, con), LiveView)
    piped = Console(file=io.StringIO())
    assert isinstance(make_view(model(), FRAME, piped), PlainView)
    assert isinstance(make_view(model(), FRAME, None), PlainView)


def test_plain_lines_are_aligned_prefixed_and_free_of_control_codes() -> None:
    out, err = io.StringIO(), io.StringIO()
    m = model()
    view = PlainView(m, FRAME, out, err)
    view.start()
    view.skaffold_line("Watching for changes...")
    view.app_line("auth", "GET /api 200")
    view.skaffold_line("1/3 deployment(s) failed", err=True)
    view.refresh()
    view.finish(Outcome(1, 1, False, False, False))
    assert out.getvalue().splitlines() == [
        "skaffold   | Watching for changes...",
        "auth       | GET /api 200",
    ]
    errs = err.getvalue()
    assert "ready (iteration 1): http://tour.xyz" in errs
    assert "skaffold dev failed (exit 1): deployment/tour: container tour is waiting to start" in errs
    assert "\x1b" not in out.getvalue() + errs


def test_the_last_line_says_how_it_ended() -> None:
    out, err = io.StringIO(), io.StringIO()
    PlainView(model(), Frame("http://tour.xyz", True, SERVICES), out, err).finish(Outcome(0, 0, True, False, False))
    assert "deployed objects left in place (--keep)" in err.getvalue()
    err = io.StringIO()
    PlainView(model(), FRAME, out, err).finish(Outcome(130, -9, True, True, True))
    assert "killed Skaffold's process group (the cleanup timed out)" in err.getvalue()


def test_a_failed_iteration_shows_why_under_the_footer_with_the_fix_for_a_registry_that_went_away() -> None:
    con, buf = terminal()
    m = model()
    push = 'could not push image "localhost:5001/csup96_tour-auth:1": Get "http://localhost:5001/v2/": dial tcp ' \
        "127.0.0.1:5001: connect: connection refused"  # fmt: skip
    m.apply([u.LoopState(u.RUNNING, 2), u.BuildState("auth", u.BUILD_FAILED, push)], source=CONSOLE)
    m.apply([u.LoopState(u.LOOP_FAILED, 2, f"build [csup96/tour-auth] failed: {push}")], source=CONSOLE)
    con.print(LiveView(con, m, FRAME)._render())
    text = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", buf.getvalue()).split())
    assert "iteration 2 failed" in text
    assert "the local registry kind-registry (localhost:5001) does not answer: run `devctl up`" in text
