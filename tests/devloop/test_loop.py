"""`devctl dev` (devctl.devloop.run) against the fake `skaffold dev`, beyond the first iteration: a late
first event, later iterations that rebuild or fail, and the cluster's local registry, the path every
user takes (skaffold.md §3, §5, §6).

The loop runs in this process with its real supervisor; a thread plays the user: it edits files, and
presses Ctrl-C (SIGINT to this process) once the fake's own log shows what it waits for.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devctl import config
from devctl.context import Context
from devctl.devloop.api import free_port
from devctl.devloop.run import run_dev
from devctl.report import SilentReporter
from tests.conftest import FakeWorld, run_cli
from tests.stack_world import create_cluster, dev_log, link_registry, write_app_project

SERVICES = ("auth", "tour")
WAIT = 60.0  # a bound for a hang, never reached when all goes well


@pytest.fixture
def project(fake_tools: FakeWorld, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    write_app_project(root, SERVICES)
    create_cluster()
    fake_tools.set_knob("skaffold_dev_delay", 0.02)
    return root


@pytest.fixture
def registry(project: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    port = free_port()
    link_registry(port)
    monkeypatch.setenv("DEVCTL_REGISTRY_PORT", str(port))
    return port


def context(root: Path) -> Context:
    return Context.create(config.load({}, cwd=root), reporter=SilentReporter())


def iterations(world: FakeWorld) -> list[dict[str, Any]]:
    return [e for e in dev_log(world.state_dir) if e["event"] == "iteration"]


class User:
    """A script of steps, each run once its condition on the fake's log holds; then Ctrl-C."""

    def __init__(self, world: FakeWorld) -> None:
        self.world = world
        self.steps: list[tuple[Callable[[], bool], Callable[[], None]]] = []
        self.error: str | None = None

    def when(self, ready: Callable[[], bool], act: Callable[[], None]) -> User:
        self.steps.append((ready, act))
        return self

    def start(self) -> None:
        threading.Thread(target=self._play, daemon=True).start()

    def _play(self) -> None:
        for ready, act in self.steps:
            deadline = time.monotonic() + WAIT
            while not ready():
                if time.monotonic() > deadline or "exit" in [e["event"] for e in dev_log(self.world.state_dir)]:
                    self.error = f"gave up waiting at step {self.steps.index((ready, act))}"
                    os.kill(os.getpid(), signal.SIGINT)
                    return
                time.sleep(0.05)
            act()
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C


def after_iterations(world: FakeWorld, n: int) -> Callable[[], bool]:
    return lambda: len(iterations(world)) >= n


def first_ready(world: FakeWorld) -> Callable[[], bool]:
    return lambda: "ready" in [e["event"] for e in dev_log(world.state_dir)]


def edit(path: Path, text: str) -> Callable[[], None]:
    return lambda: path.write_text(text)


# -- the event API's late answer (skaffold.md §5) -----------------------------------------------------------


def test_the_view_waits_for_a_first_event_that_comes_long_after_the_connection(
    project: Path, fake_tools: FakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_tools.set_knob("skaffold_first_event_delay", 3)  # longer than any per-request timeout of old
    User(fake_tools).when(first_ready(fake_tools), lambda: None).start()
    assert run_dev(context(project)) == 0
    requests = [e for e in dev_log(fake_tools.state_dir) if e["event"] == "api"]
    assert len(requests) == 1, requests  # one request, answered with the first event: never given up on
    assert "ready (iteration 1)" in capsys.readouterr().err


# -- later iterations (skaffold.md §3 "Later iterations"; runner/dev.go doDev) --------------------------------


@pytest.mark.parametrize("source", ["events", "console"])
def test_a_failed_iteration_shows_the_service_and_skaffolds_reason_and_the_next_good_one_recovers(
    project: Path, fake_tools: FakeWorld, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    if source == "console":
        fake_tools.set_knob("skaffold_api_missing", True)
    dockerfile = project / "app" / "Dockerfile"

    def break_the_build() -> None:
        fake_tools.set_knob("skaffold_fail_build", "csup96/tour-auth")
        dockerfile.write_text("FROM python:3.12-alpine\nRUN exit 1\n")

    def fix_the_build() -> None:
        fake_tools.set_knob("skaffold_fail_build", None)
        dockerfile.write_text("FROM python:3.12-alpine\nCOPY *.py /app/\n")

    user = User(fake_tools)
    user.when(first_ready(fake_tools), break_the_build).when(after_iterations(fake_tools, 1), fix_the_build)
    user.when(after_iterations(fake_tools, 2), lambda: None).start()

    code = run_dev(context(project))

    assert user.error is None
    assert [(e["kind"], e["ok"]) for e in iterations(fake_tools)] == [("rebuild", False), ("rebuild", True)]
    assert code == 0  # Ctrl-C: Skaffold's own exit code after a graceful stop (skaffold.md §4)
    err = capsys.readouterr().err
    failed = re.search(r"^devctl +\| iteration (\d+) failed: (.*)$", err, re.MULTILINE)
    assert failed, err
    assert failed.group(2) == (
        "build auth: docker build failure: The command '/bin/sh -c exit 1' returned a non-zero code: 1"
    )
    recovered = err.index("ready (iteration 3)") if source == "events" else err.rindex("ready")
    assert recovered > failed.end()
    assert "stopped and cleaned up" in err


# -- the local registry (skaffold.md §6) --------------------------------------------------------------------


def test_with_the_local_registry_the_view_status_and_logs_name_services_from_renamed_images(
    project: Path, registry: int, fake_tools: FakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    User(fake_tools).when(first_ready(fake_tools), lambda: None).start()
    assert run_dev(context(project), keep=True) == 0
    out, err = capsys.readouterr()
    assert "ready (iteration 1)" in err
    # Application lines are named by service, from pods that run localhost:<port>/csup96_tour-<service>.
    assert re.search(r"^auth +\| Server listening on 3000$", out, re.MULTILINE), out
    assert re.search(r"^tour +\| Server listening on 3000$", out, re.MULTILINE), out
    assert f"The push refers to repository [localhost:{registry}/csup96_tour-auth]" in out

    os.chdir(project)
    fake_tools.set_logs({"auth": ["auth answers"]})
    status = run_cli("status", "--json")
    import json

    rows = {s["name"]: s for s in json.loads(status.stdout)["services"]}
    for name in SERVICES:
        assert rows[name]["deployed"] and rows[name]["ready"] == 1, rows[name]
        assert rows[name]["image"].startswith(f"localhost:{registry}/csup96_tour-{name}:"), rows[name]
    logs = run_cli("logs", "auth", "tour")
    assert logs.exit_code == 0 and logs.stdout.splitlines() == ["auth | auth answers"], logs.stdout
    assert logs.stderr == ""  # tour has a pod; it only wrote nothing


def test_a_registry_that_went_away_fails_the_first_build_with_its_name_and_the_fix(
    project: Path, registry: int, fake_tools: FakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_tools.stop_container("kind-registry")
    assert run_dev(context(project)) == 1  # skaffold.md §4: a first-iteration failure ends it, exit 1
    err = capsys.readouterr().err
    summary = [line for line in err.splitlines() if "skaffold dev failed" in line]
    assert len(summary) == 1, err
    assert re.search(
        rf"skaffold dev failed \(exit 1\): build auth: could not push image \"localhost:{registry}/csup96_tour-auth:"
        rf"\w+\": .*connection refused — the local registry kind-registry \(localhost:{registry}\) does not answer: "
        r"run `devctl up`, which starts it again$",
        summary[0],
    ), summary[0]


def test_a_registry_that_goes_away_during_the_loop_fails_that_iteration_with_the_fix(
    project: Path, registry: int, fake_tools: FakeWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    def lose_the_registry() -> None:
        fake_tools.stop_container("kind-registry")
        (project / "app" / "Dockerfile").write_text("FROM python:3.12-alpine\nCOPY *.py /srv/\n")

    User(fake_tools).when(first_ready(fake_tools), lose_the_registry).when(
        after_iterations(fake_tools, 1), lambda: None
    ).start()
    assert run_dev(context(project)) == 0
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if "iteration 2 failed" in line]
    assert len(failed) == 1, err
    assert "could not push image" in failed[0]
    assert failed[0].endswith(
        f"— the local registry kind-registry (localhost:{registry}) does not answer: run `devctl up`, which starts "
        "it again"
    )
