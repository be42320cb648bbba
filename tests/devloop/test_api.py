"""The client of Skaffold's GET /v2/events against the fake's real HTTP server (skaffold.md §5)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from devctl.devloop import events
from devctl.devloop import updates as u
from devctl.devloop.api import EventStream, free_port
from devctl.runner import Runner
from tests.conftest import FakeWorld
from tests.stack_world import create_cluster, write_project

IMAGES = {"csup96/tour-auth": "auth", "csup96/tour-tour": "tour", "csup96/tour-client": "client"}


def test_reads_the_replayed_and_live_stream_until_ready(fake_tools: FakeWorld, tmp_path: Path) -> None:
    write_project(tmp_path)
    create_cluster()
    fake_tools.set_knob("skaffold_dev_delay", 0.02)
    port = free_port()
    lines: list[str] = []
    got_ready = threading.Event()

    def on_line(line: str) -> None:
        lines.append(line)
        if u.LoopState(u.LOOP_READY, 1) in events.parse_line(line, IMAGES):
            got_ready.set()

    proc = Runner().start(
        ["skaffold", "dev", "--kube-context", "kind-tour", "--rpc-http-port", str(port), "-f",
         str(tmp_path / "skaffold.yaml")],
        on_stdout=lambda s: None,
        on_stderr=lambda s: None,
    )  # fmt: skip
    try:
        # Connect late on purpose: the stream replays from the start, nothing is lost.
        time.sleep(0.3)
        stream = EventStream(port, on_line, alive=proc.alive).start()
        assert got_ready.wait(15), lines[-3:]
        assert stream.connected.is_set()
    finally:
        proc.signal_group(signal.SIGINT)
        proc.wait(10)
    parsed = [up for line in lines for up in events.parse_line(line, IMAGES)]
    assert parsed[0] == u.LoopState(u.RUNNING, 1)  # the replay starts at the beginning
    assert {up.service for up in parsed if isinstance(up, u.BuildState) and up.state == u.BUILT} == set(IMAGES.values())
    assert {up.name for up in parsed if isinstance(up, u.DeployState) and up.state == u.READY} == set(IMAGES.values())


def test_gives_up_without_a_server_so_the_console_stays_the_source() -> None:
    port = free_port()  # nobody listens here
    lines: list[str] = []
    stream = EventStream(port, lines.append, alive=lambda: True, connect_timeout=0.5).start()
    stream.join(5)
    assert not stream.connected.is_set() and lines == []


def test_stops_retrying_when_skaffold_has_exited() -> None:
    stream = EventStream(free_port(), lambda s: None, alive=lambda: False, connect_timeout=30).start()
    t = time.monotonic()
    stream.join(5)
    assert time.monotonic() - t < 2 and not stream.connected.is_set()
