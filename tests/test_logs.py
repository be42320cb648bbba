"""`devctl logs`: multiplexed service logs through kubectl, aligned prefixes, plain when piped."""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devctl import config
from devctl import logs as lg
from devctl.context import Context
from devctl.errors import UsageError
from devctl.report import SilentReporter
from devctl.stack import SERVICES
from tests.conftest import FakeWorld, run_cli
from tests.stack_world import create_cluster, deploy, processes_with_env

# --- pure ------------------------------------------------------------------------------------------


def test_all_services_by_default_else_the_ones_named_in_order_once() -> None:
    assert lg.choose([], SERVICES) == SERVICES
    assert lg.choose(["tour", "auth", "tour"], SERVICES) == ("tour", "auth")


def test_an_unknown_service_is_a_usage_error_listing_the_known_ones() -> None:
    with pytest.raises(UsageError) as err:
        lg.choose(["auth", "nope"], SERVICES)
    assert str(err.value) == "unknown service 'nope'; known services: " + ", ".join(SERVICES)
    assert err.value.exit_code == 2


@pytest.mark.parametrize("since", ["5s", "2m", "3h", "1h30m", "500ms"])
def test_kubectl_durations_are_accepted(since: str) -> None:
    assert lg.check_since(since) == since


@pytest.mark.parametrize("since", ["5", "yesterday", "-5s", "5 s"])
def test_other_durations_are_refused(since: str) -> None:
    with pytest.raises(UsageError):
        lg.check_since(since)


def test_tail_below_minus_one_is_refused() -> None:
    assert lg.check_tail(-1) == -1
    with pytest.raises(UsageError):
        lg.check_tail(-2)


def test_prefixes_align_to_the_longest_chosen_name() -> None:
    names = ("auth", "expiration")
    assert lg.prefix_bytes("auth", names, colour=False) == b"auth       | "
    assert lg.prefix_bytes("expiration", names, colour=False) == b"expiration | "
    coloured = lg.prefix_bytes("auth", names, colour=True)
    assert coloured.startswith(b"\x1b[") and coloured.endswith(b"\x1b[0m ")


def test_chunks_that_split_lines_still_give_whole_prefixed_lines() -> None:
    buf = io.BytesIO()
    lines = lg.Lines(lg.Output(buf, flush=False), b"p | ")
    for chunk in (b"one\ntw", b"o\n", b"thr", b"ee\nfour"):
        lines.feed(chunk)
    assert buf.getvalue() == b"p | one\np | two\np | three\n"
    lines.end()  # the last line had no newline
    assert buf.getvalue().endswith(b"p | four\n")


class _ShortWrites(io.RawIOBase):
    """A raw stream that takes at most 1,000 bytes a write, as a pipe does when a signal interrupts a write."""

    def __init__(self) -> None:
        self.got = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        taken = memoryview(b)[:1000]
        self.got += taken
        return len(taken)


def test_short_writes_of_an_unbuffered_stdout_lose_nothing() -> None:
    # Under PYTHONUNBUFFERED sys.stdout.buffer is a raw FileIO, whose write may take only part of the data.
    raw = _ShortWrites()
    lines = lg.Lines(lg.Output(raw, flush=False), b"p | ")  # type: ignore[arg-type]
    text = b"".join(b"line %d\n" % i for i in range(5000))
    for i in range(0, len(text), 4096):
        lines.feed(text[i : i + 4096])
    assert bytes(raw.got) == b"".join(b"p | line %d\n" % i for i in range(5000))


@pytest.mark.parametrize("buffering", [0, -1], ids=["raw", "buffered"])
def test_a_full_non_blocking_stdout_is_waited_for_not_dropped(buffering: int) -> None:
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    out = open(write_fd, "wb", buffering=buffering)
    got = bytearray()

    def drain() -> None:
        with open(read_fd, "rb", buffering=0) as r:
            while chunk := r.read(65536):
                got.extend(chunk)
                time.sleep(0.001)  # slower than the writer: the pipe fills up

    reader = threading.Thread(target=drain)
    reader.start()
    data = bytes(range(256)) * 4096  # 1 MiB, many times a pipe's capacity
    lg.Output(out, flush=False).write(data)
    lg.flush_fully(out)  # what a BufferedWriter still holds
    out.close()
    reader.join(10)
    assert bytes(got) == data


def test_the_final_flush_waits_for_a_full_non_blocking_stdout() -> None:
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    filled = 0
    with contextlib.suppress(BlockingIOError):
        while True:  # the pipe is full: nobody reads yet
            filled += os.write(write_fd, b"x" * 4096)
    out = open(write_fd, "wb")
    out.write(b"the last line\n")  # fits the BufferedWriter's buffer: no write yet
    got = bytearray()

    def drain_later() -> None:
        time.sleep(0.2)
        with open(read_fd, "rb", buffering=0) as r:
            while chunk := r.read(65536):
                got.extend(chunk)

    reader = threading.Thread(target=drain_later, daemon=True)
    reader.start()
    try:
        lg.flush_fully(out)  # a plain flush raises BlockingIOError here, and the line is lost
    finally:
        with contextlib.suppress(BlockingIOError):
            out.close()
    reader.join(10)
    assert len(got) == filled + len(b"the last line\n") and got.endswith(b"the last line\n")


# --- through the fake kubectl ------------------------------------------------------------------------


@pytest.fixture
def cluster(fake_tools: FakeWorld, repo_cwd: Path) -> FakeWorld:
    create_cluster()
    deploy(SERVICES)
    fake_tools.set_logs({s: [f"{s} line {i}" for i in range(15)] for s in ("auth", "tour", "expiration")})
    fake_tools.clear_calls()
    return fake_tools


def by_prefix(stdout: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        name, sep, text = line.partition(" | ")
        assert sep, f"line without a prefix: {line!r}"
        out.setdefault(name.rstrip(), []).append(text)
    return out


def test_all_services_are_multiplexed_each_in_order_behind_an_aligned_name(cluster: FakeWorld) -> None:
    res = run_cli("logs")
    assert res.exit_code == 0, res.stderr
    got = by_prefix(res.stdout)
    # 15 lines each: with a selector kubectl would stop at 10 unless asked for all (--tail=-1).
    assert got == {s: [f"{s} line {i}" for i in range(15)] for s in ("auth", "tour", "expiration")}
    width = max(len(s) for s in SERVICES)
    assert all(line.index(" | ") == width for line in res.stdout.splitlines())
    assert "\x1b" not in res.stdout and "\x1b" not in res.stderr  # not a terminal: plain
    assert cluster.assert_pinned() == len(SERVICES)  # one kubectl call per service, all pinned


def test_chosen_services_only_with_tail_and_no_prefix(cluster: FakeWorld) -> None:
    res = run_cli("logs", "tour", "auth", "--tail", "2", "--no-prefix")
    assert res.exit_code == 0, res.stderr
    assert sorted(res.stdout.splitlines()) == ["auth line 13", "auth line 14", "tour line 13", "tour line 14"]
    assert len(cluster.calls("kubectl", probes=False)) == 2


def test_since_only_shows_newer_lines(cluster: FakeWorld) -> None:
    now = time.time()
    cluster.set_logs({"auth": ["old", {"at": now - 3600, "text": "an hour ago"}, {"at": now - 5, "text": "recent"}]})
    res = run_cli("logs", "auth", "--since", "1m")
    assert res.stdout.splitlines() == ["auth | recent"]


def test_an_unknown_service_is_one_line_listing_the_known_ones_and_exit_2(cluster: FakeWorld) -> None:
    res = run_cli("logs", "auth", "bookings")
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [
        "ERROR: unknown service 'bookings'; known services: " + ", ".join(SERVICES)
    ]
    assert cluster.calls("kubectl") == []


def test_without_a_cluster_it_says_so_with_the_fix(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    res = run_cli("logs", "auth")
    assert res.exit_code == 1
    assert "cannot read the logs" in res.stderr and "devctl up" in res.stderr


def test_an_unreachable_api_is_said_with_kubectls_last_line_not_its_retries(
    fake_tools: FakeWorld, repo_cwd: Path
) -> None:
    create_cluster()
    fake_tools.stop_container("tour-control-plane")
    res = run_cli("logs", "auth", "tour")
    assert res.exit_code == 1
    (error,) = [line for line in res.stderr.splitlines() if line.startswith("ERROR:")]
    # docker-kubectl.md §3: client-go's `E... memcache.go:265] ...` retries come before kubectl's last line.
    assert error.startswith("ERROR: cannot read the logs: The connection to the server 127.0.0.1:"), error
    assert "memcache" not in error and error.endswith("run `devctl up`")


def test_follow_survives_restarts_without_repeating_and_picks_up_new_pods(cluster: FakeWorld, tmp_path: Path) -> None:
    cluster.set_logs({"auth": ["boot 1", "boot 2"]})
    cluster.set_knob("logs_follow_seconds", 0.3)  # each `kubectl logs -f` ends after 0.3 s, like a restart
    ctx = Context.create(config.load({}), reporter=SilentReporter())
    out = io.BytesIO()
    err = io.StringIO()
    stop = threading.Event()
    opts = lg.LogOptions(services=("auth",), follow=True)
    follower = threading.Thread(target=lg.show_logs, args=(ctx, opts, out, err), kwargs={"poll": 0.2, "stop": stop})
    follower.start()

    def lines() -> list[str]:
        return out.getvalue().decode().splitlines()

    def wait_for(cond: Callable[[], bool], timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not cond() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cond(), lines()

    try:
        wait_for(lambda: "auth | boot 2" in lines())
        time.sleep(1.0)  # several restarts of the stream happen meanwhile
        cluster.set_logs({"auth": ["boot 1", "boot 2", {"at": time.time(), "text": "after restart"}]})
        wait_for(lambda: "auth | after restart" in lines())
        time.sleep(1.0)
        assert lines().count("auth | boot 1") == 1  # restarts did not repeat old lines
        assert lines().count("auth | after restart") == 1
        deploy(("auth",), replicas=2)  # a second pod appears
        wait_for(lambda: lines().count("auth | boot 1") == 2)  # the new pod is followed from its first line
    finally:
        stop.set()
        follower.join(10)
    assert not follower.is_alive()
    assert processes_with_env(f"DEVCTL_FAKE_STATE={cluster.state_dir}") == []


def test_services_without_a_pod_are_said_not_deployed_not_shown_as_errors(
    fake_tools: FakeWorld, repo_cwd: Path
) -> None:
    # docker-kubectl.md §3: `kubectl logs -l app=X` with no pod says "No resources found in default namespace."
    # on stderr and exits 0.
    create_cluster()
    deploy(("auth",))
    fake_tools.set_logs({"auth": ["auth line"]})
    res = run_cli("logs", "auth", "tour", "client")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines() == ["auth   | auth line"]
    assert res.stderr == "not deployed: tour, client (no pod in namespace default); `devctl up` starts the stack\n"

    nothing = run_cli("logs", "tour")
    assert (nothing.exit_code, nothing.stdout) == (0, "")
    assert nothing.stderr == "nothing is deployed (no pod in namespace default); `devctl up` starts the stack\n"
