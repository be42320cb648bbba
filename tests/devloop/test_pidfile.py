"""`devctl down` ends a running dev loop first; a second `devctl dev` for the same cluster is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devctl.devloop import pidfile
from tests.conftest import REPO, FakeWorld, run_cli
from tests.stack_world import create_cluster, dev_log, processes_with_env, write_project


@pytest.fixture
def project(fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    write_project(root)
    create_cluster()
    fake_tools.set_knob("skaffold_dev_delay", 0.02)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def running_dev(project: Path, fake_tools: FakeWorld, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    # Its temp folder is the test's: a devctl killed with SIGKILL leaves its Skaffold config behind.
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "DEVCTL_CLEANUP_TIMEOUT": "10", "TMPDIR": str(temp)}
    proc = subprocess.Popen([sys.executable, "-m", "devctl", "dev"], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ready = threading.Event()
    lines: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "ready (iteration 1)" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(30), "".join(lines)
        yield proc
    finally:
        # Stop it as a user would (Ctrl-C), so Skaffold cleans up: a SIGKILL would orphan the fake Skaffold.
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    assert processes_with_env(f"DEVCTL_FAKE_STATE={fake_tools.state_dir}") == []


def test_the_running_loop_is_recorded_and_a_second_one_is_refused(running_dev: subprocess.Popen[str]) -> None:
    loop = pidfile.find("tour")
    assert loop is not None and loop.pid == running_dev.pid
    res = run_cli("dev")
    assert res.exit_code == 1
    assert f"a dev loop for cluster tour is already running (devctl pid {running_dev.pid})" in res.stderr


def test_down_stops_the_dev_loop_gracefully_then_deletes_the_cluster(
    running_dev: subprocess.Popen[str], fake_tools: FakeWorld
) -> None:
    res = run_cli("down")
    assert res.exit_code == 0, res.stderr
    assert running_dev.wait(5) == 0  # devctl dev ended as after Ctrl-C: Skaffold's exit code 0
    signals = [e["signal"] for e in dev_log(fake_tools.state_dir) if e["event"] == "signal"]
    assert signals == ["SIGINT"]  # one graceful stop, Skaffold cleaned up
    assert f"removed the running dev loop (devctl pid {running_dev.pid})" in res.stdout
    assert "tour-control-plane" not in fake_tools.containers()
    assert pidfile.find("tour") is None
    assert processes_with_env(f"DEVCTL_FAKE_STATE={fake_tools.state_dir}") == []


def test_a_stale_record_is_ignored(project: Path) -> None:
    path = pidfile.path_for("tour")
    path.parent.mkdir(parents=True, exist_ok=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path.write_text(f'{{"pid": {int(dead.stdout)}, "cluster": "tour", "started": 0}}')
    assert pidfile.find("tour") is None
    assert not path.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_killed_devctl_takes_skaffold_with_it(running_dev: subprocess.Popen[str], fake_tools: FakeWorld) -> None:
    # SIGKILL runs none of devctl's cleanup: only the kernel's parent-death signal can reach Skaffold.
    running_dev.kill()
    running_dev.wait(10)
    marker = f"DEVCTL_FAKE_STATE={fake_tools.state_dir}"
    deadline = time.monotonic() + 20
    while processes_with_env(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = processes_with_env(marker)
    for pid in survivors:  # so a failure here leaves no orphan behind for the next tests
        os.kill(pid, signal.SIGKILL)
    assert survivors == [], "Skaffold (or a child of it) outlived the devctl that started it"
    log = dev_log(fake_tools.state_dir)
    # SIGTERM from the kernel, first. It may come more than once (the kernel signals each thread that
    # inherited the setting), and the cleanup's output then meets the closed stdout (SIGPIPE): like Ctrl-C
    # presses after the first, later signals change nothing (skaffold.md §4).
    signals = [e["signal"] for e in log if e["event"] == "signal"]
    assert signals[0] == "SIGTERM" and set(signals) <= {"SIGTERM", "SIGPIPE"}, signals
    assert [e["deleted"] for e in log if e["event"] == "cleanup"] == [True]  # as after Ctrl-C: it cleaned up
