"""The dev loop with real processes: the real supervisor around the fake `skaffold dev` (skaffold.md §4).

Ctrl-C is simulated as the terminal does it: SIGINT to this process, whose handler the supervisor
installs while it runs. Every fake process carries this test's DEVCTL_FAKE_STATE in its environment,
so the process table tells whether anything devctl started is still alive.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devctl import config
from devctl.context import Context
from devctl.devloop.run import run_dev
from devctl.report import SilentReporter
from tests.conftest import REPO, FakeWorld, run_cli
from tests.stack_world import create_cluster, ctrl_c_when, dev_log, dev_ready, living, processes_with_env, write_project


@pytest.fixture
def project(fake_tools: FakeWorld, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    write_project(root)
    create_cluster()
    fake_tools.set_knob("skaffold_dev_delay", 0.02)
    return root


def context(root: Path, cleanup_timeout: float = 30.0) -> Context:
    cfg = config.load({"cleanup_timeout": cleanup_timeout}, env={}, cwd=root)
    return Context.create(cfg, reporter=SilentReporter())


def signals(world: FakeWorld) -> list[str]:
    return [e["signal"] for e in dev_log(world.state_dir) if e["event"] == "signal"]


def orphans(world: FakeWorld) -> list[int]:
    return processes_with_env(f"DEVCTL_FAKE_STATE={world.state_dir}")


def test_ctrl_c_forwards_one_sigint_and_skaffold_cleans_up(
    project: Path, fake_tools: FakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    ctrl_c_when(dev_ready(fake_tools.state_dir))
    assert run_dev(context(project)) == 0
    assert signals(fake_tools) == ["SIGINT"]
    log = [e["event"] for e in dev_log(fake_tools.state_dir) if e["event"] != "api"]
    assert log[-2:] == ["cleanup", "exit"]
    assert any(e.get("path") == "/v2/events" for e in dev_log(fake_tools.state_dir))  # the view read the API
    assert not [k for k in fake_tools.objects("kind-tour") if k.startswith("Deployment/")]
    err = capsys.readouterr().err
    assert "cleaning up: waiting up to 30 s" in err
    assert "stopped and cleaned up" in err
    assert orphans(fake_tools) == []


def test_skaffold_that_ignores_sigint_is_killed_after_the_cleanup_timeout(
    project: Path, fake_tools: FakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_tools.set_knob("skaffold_ignore_sigint", True)
    pressed: list[float] = []
    ready = dev_ready(fake_tools.state_dir)

    def ready_and_note() -> bool:
        if ready():
            pressed.append(time.monotonic())
            return True
        return False

    ctrl_c_when(ready_and_note)
    assert run_dev(context(project, cleanup_timeout=0.6)) == 130
    waited = time.monotonic() - pressed[0]
    assert 0.6 <= waited < 10  # the timeout, not the 30 s default, and not forever
    assert signals(fake_tools) == ["SIGINT"]
    assert "exit" not in [e["event"] for e in dev_log(fake_tools.state_dir)]  # it never got to finish
    err = capsys.readouterr().err
    assert "did not finish cleaning up within 0.6 s" in err
    assert orphans(fake_tools) == []


def test_a_second_ctrl_c_kills_at_once_and_forwards_nothing_more(
    project: Path, fake_tools: FakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_tools.set_knob("skaffold_ignore_sigint", True)
    ctrl_c_when(dev_ready(fake_tools.state_dir), presses=2)
    started = time.monotonic()
    assert run_dev(context(project, cleanup_timeout=30)) == 130
    assert time.monotonic() - started < 15  # far below the 30 s timeout
    assert signals(fake_tools) == ["SIGINT"]
    assert "second Ctrl-C" in capsys.readouterr().err
    assert orphans(fake_tools) == []


def test_a_child_skaffold_leaves_behind_is_killed_with_the_group(project: Path, fake_tools: FakeWorld) -> None:
    # Like a kubectl port-forward that outlives Skaffold (#2690): the fake never stops its child.
    fake_tools.set_knob("skaffold_spawn_child", True)
    ctrl_c_when(dev_ready(fake_tools.state_dir))
    assert run_dev(context(project)) == 0
    child = next(e["child"] for e in dev_log(fake_tools.state_dir) if e["event"] == "child")
    deadline = time.monotonic() + 3
    while living(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not living(child)
    assert orphans(fake_tools) == []


def test_a_failed_first_iteration_exits_1_and_shows_which_deployment_failed_and_why(
    project: Path, fake_tools: FakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_tools.set_knob("skaffold_fail_deploy", "auth")
    assert run_dev(context(project)) == 1
    out, err = capsys.readouterr()
    assert "skaffold dev failed (exit 1): deployment/auth: container auth is waiting to start: csup96/tour-auth:" in err
    assert "can't be pulled" in err
    assert "1/3 deployment(s) failed" in err  # Skaffold's own words, from its stderr
    assert "Cleaning up..." in out
    assert orphans(fake_tools) == []


def test_without_the_event_api_the_console_lines_drive_the_view(
    project: Path, fake_tools: FakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_tools.set_knob("skaffold_api_missing", True)
    ctrl_c_when(dev_ready(fake_tools.state_dir))
    assert run_dev(context(project)) == 0
    err = capsys.readouterr().err
    assert "ready (iteration 1): http://tour.xyz" in err


def test_a_port_taken_before_skaffold_binds_it_means_one_more_try_on_another(
    project: Path, fake_tools: FakeWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from devctl.devloop import api, run

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    ports = iter([busy.getsockname()[1], api.free_port()])
    monkeypatch.setattr(run, "free_port", lambda: next(ports))
    fake_tools.set_knob("skaffold_fail_deploy", "auth")  # the second run ends by itself
    try:
        assert run_dev(context(project)) == 1
    finally:
        busy.close()
    starts = [e for e in dev_log(fake_tools.state_dir) if e["event"] == "start"]
    assert len(starts) == 2
    err = capsys.readouterr().err
    assert "creating listener" in err and "starting Skaffold again on another port" in err
    assert "can't be pulled" in err  # the second run's reason, not the port's


def test_dev_fails_fast_with_the_fix_when_the_cluster_is_missing(fake_tools: FakeWorld, tmp_path: Path) -> None:
    write_project(tmp_path)
    os.chdir(tmp_path)
    res = run_cli("dev")
    assert res.exit_code == 1
    assert "is not ready" in res.stderr and "devctl up" in res.stderr
    assert fake_tools.calls("skaffold") == []
    assert len(fake_tools.calls("kubectl", probes=False)) == 1


def test_ctrl_c_to_devctl_dev_itself(project: Path, fake_tools: FakeWorld) -> None:
    """The real thing: `devctl dev` as a process, Ctrl-C sent to it, its output piped (no control codes)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "DEVCTL_CLEANUP_TIMEOUT": "10"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "devctl", "dev"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    err_lines: list[str] = []
    out_lines: list[str] = []
    ready = threading.Event()

    def read_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err_lines.append(line)
            if "ready (iteration 1)" in line:
                ready.set()

    def read_out() -> None:
        assert proc.stdout is not None
        out_lines.extend(proc.stdout)

    readers = [threading.Thread(target=f, daemon=True) for f in (read_err, read_out)]
    for r in readers:
        r.start()
    try:
        assert ready.wait(30), "".join(err_lines)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    for r in readers:
        r.join(5)
    out = "".join(out_lines)
    err = "".join(err_lines)
    assert proc.returncode == 0, err
    assert signals(fake_tools) == ["SIGINT"]
    assert "cleaning up" in err and "stopped and cleaned up" in err
    assert "auth       | Server listening on 3000" in out
    assert "\x1b" not in out and "\x1b" not in err
    assert orphans(fake_tools) == []
