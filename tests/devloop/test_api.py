"""The client of Skaffold's GET /v2/events against the fake's real HTTP server (skaffold.md §5)."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from devctl.devloop import events
from devctl.devloop import updates as u
from devctl.devloop.api import EventStream, free_port
from devctl.runner import Background, Runner
from tests.conftest import FakeWorld
from tests.stack_world import create_cluster, dev_log, write_project

IMAGES = {"csup96/tour-auth": "auth", "csup96/tour-tour": "tour", "csup96/tour-client": "client"}


class _Lines:
    """The event lines the stream hands over, and whether the first DevLoop has succeeded."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        if u.LoopState(u.LOOP_READY, 1) in events.parse_line(line, IMAGES):
            self.ready.set()


def _start_dev(tmp_path: Path, port: int) -> Background:
    return Runner().start(
        ["skaffold", "dev", "--kube-context", "kind-tour", "--rpc-http-port", str(port), "-f",
         str(tmp_path / "skaffold.yaml")],
        on_stdout=lambda s: None,
        on_stderr=lambda s: None,
    )  # fmt: skip


def _wait_until_listening(port: int, proc_alive: Callable[[], bool]) -> None:
    while proc_alive():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the fake skaffold ended before it listened")


def test_reads_the_replayed_and_live_stream_until_ready(fake_tools: FakeWorld, tmp_path: Path) -> None:
    write_project(tmp_path)
    create_cluster()
    fake_tools.set_knob("skaffold_dev_delay", 0.02)
    port = free_port()
    seen = _Lines()
    proc = _start_dev(tmp_path, port)
    try:
        # Connect late on purpose: the stream replays from the start, nothing is lost.
        time.sleep(0.3)
        stream = EventStream(port, seen, alive=proc.alive).start()
        assert seen.ready.wait(15), seen.lines[-3:]
        assert stream.connected.is_set()
    finally:
        proc.signal_group(signal.SIGINT)
        proc.wait(10)
    parsed = [up for line in seen.lines for up in events.parse_line(line, IMAGES)]
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


def test_an_accepted_connection_is_waited_on_for_the_first_event_past_the_connect_deadline(
    fake_tools: FakeWorld, tmp_path: Path
) -> None:
    # skaffold.md §5: no status line until the first event; here it comes seconds after the port accepts,
    # long after the 0.5 s the stream may spend on refused connections.
    write_project(tmp_path)
    create_cluster()
    fake_tools.set_knob("skaffold_dev_delay", 0.02)
    fake_tools.set_knob("skaffold_first_event_delay", 3)
    port = free_port()
    seen = _Lines()
    proc = _start_dev(tmp_path, port)
    try:
        _wait_until_listening(port, proc.alive)
        stream = EventStream(port, seen, alive=proc.alive, connect_timeout=0.5).start()
        assert seen.ready.wait(60), seen.lines[-3:]
        assert stream.connected.is_set()
    finally:
        proc.signal_group(signal.SIGINT)
        proc.wait(10)
    requests = [e for e in dev_log(fake_tools.state_dir) if e["event"] == "api"]
    assert len(requests) == 1  # one request, which waited for its answer (the probe above sent none)


def test_a_skaffold_that_ends_before_its_first_event_leaves_the_console_as_the_source(
    fake_tools: FakeWorld, tmp_path: Path
) -> None:
    write_project(tmp_path)
    create_cluster()
    fake_tools.set_knob("skaffold_first_event_delay", 600)
    port = free_port()
    proc = _start_dev(tmp_path, port)
    try:
        _wait_until_listening(port, proc.alive)
        stream = EventStream(port, lambda s: None, alive=proc.alive).start()
        deadline = time.monotonic() + 30
        while not [e for e in dev_log(fake_tools.state_dir) if e["event"] == "api"]:
            assert time.monotonic() < deadline, "the stream sent no request"
            time.sleep(0.05)
        proc.signal_group(signal.SIGINT)
        assert proc.wait(30) == 0
        stream.join(10)
    finally:
        proc.signal_group(signal.SIGKILL)
    assert not stream.connected.is_set()
