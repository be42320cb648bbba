"""The fake `skaffold dev` against Skaffold's own behaviour (skaffold.md §3-§6; paths in
GoogleContainerTools/skaffold): the event API's first answer, the task events and their order, and the
path every devctl user takes: the cluster's local registry (KEP-1755 ConfigMap) -> renamed images, pushed,
pulled by the node through its hosts.toml."""

from __future__ import annotations

import json
import re
import select
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devctl.devloop.api import free_port
from tests.conftest import FakeWorld
from tests.fidelity.conftest import fake
from tests.fidelity.skaffold_run import SkaffoldRun
from tests.stack_world import create_cluster, link_registry, write_app_project


@pytest.fixture
def project(fake_tools: FakeWorld, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    write_app_project(root, ("auth", "tour"))
    create_cluster()
    fake_tools.set_knob("skaffold_dev_delay", 0.02)
    return root


@pytest.fixture
def registry(project: Path) -> int:
    port = free_port()
    link_registry(port)
    return port


@pytest.fixture
def runs() -> Iterator[list[SkaffoldRun]]:
    started: list[SkaffoldRun] = []
    yield started
    for run in started:
        run.kill()


def start(runs: list[SkaffoldRun], project: Path, *extra: str, events: bool = True) -> SkaffoldRun:
    run = SkaffoldRun(project, *extra, events=events)
    runs.append(run)
    return run


def ready(run: SkaffoldRun, iteration: int = 1) -> None:
    run.wait_for(
        lambda: run.task(f"DevLoop-{iteration}", "Succeeded") or run.task(f"DevLoop-{iteration}", "Failed"),
        f"end of DevLoop-{iteration}",
    )


def deployed_image(world: FakeWorld, name: str) -> str:
    dep = world.objects("kind-tour")[f"Deployment/default/{name}"]
    return str(dep["spec"]["template"]["spec"]["containers"][0]["image"])


# -- the event API -----------------------------------------------------------------------------------


def test_a_busy_rpc_http_port_says_starting_http_server(project: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = fake("skaffold", "dev", "--kube-context", "kind-tour", "-f", str(project / "skaffold.yaml"),
                   "--rpc-http-port", str(port))  # fmt: skip
    assert res.returncode == 1
    assert res.stderr == (
        f"initializing api server: starting HTTP server: creating listener: listen tcp 127.0.0.1:{port}: bind: "
        "address already in use\n"
    )


def test_the_event_api_answers_nothing_before_the_first_event(
    project: Path, fake_tools: FakeWorld, runs: list[SkaffoldRun]
) -> None:
    fake_tools.set_knob("skaffold_first_event_delay", 600)  # Skaffold still reading its config
    run = start(runs, project, events=False)
    sock = _connect(run.port)
    sock.sendall(b"GET /v2/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    # Accepted, and silent: the status line comes only with the first event, minutes away here.
    assert select.select([sock], [], [], 1.0)[0] == []
    assert run.interrupt() == 0
    assert sock.recv(100) == b""  # it ended before its first event: the connection closes unanswered
    sock.close()


def test_the_event_api_answers_with_the_first_event_and_replays_from_it(
    project: Path, fake_tools: FakeWorld, runs: list[SkaffoldRun]
) -> None:
    fake_tools.set_knob("skaffold_first_event_delay", 0.5)
    run = start(runs, project)
    ready(run)
    assert run.tasks()[0] == ("DevLoop-1", "InProgress", "")
    assert "metaEvent" in run.events[0]  # Dev() logs its meta event right after DevLoop-1 InProgress
    assert run.interrupt() == 0


def test_task_descriptions_and_the_order_of_the_first_iteration(project: Path, runs: list[SkaffoldRun]) -> None:
    run = start(runs, project)
    ready(run)
    assert [t for t in run.tasks() if t[1] == "InProgress"] == [
        ("DevLoop-1", "InProgress", ""),
        ("Build-1", "InProgress", "Build containers"),  # runner/build.go
        ("Render-1", "InProgress", "Render Manifests"),  # runner/render.go
        ("Deploy-1", "InProgress", "Deploy to cluster"),  # runner/deploy.go
        ("StatusCheck-1", "InProgress", "Status Checking Deployed Artifacts"),  # kubernetes/status/status_check.go
    ]
    messages = [e.get("skaffoldLogEvent", {}).get("message") for e in run.events]
    succeeded = next(i for i, e in enumerate(run.events) if e.get("taskEvent", {}).get("id") == "DevLoop-1"
                     and e["taskEvent"]["status"] == "Succeeded")  # fmt: skip
    # trigger/fsnotify: `Watching for changes...` comes after the task event, not before.
    assert messages.index("Watching for changes...\n") > succeeded
    out = run.stdout()
    assert out.index("Press Ctrl+C to exit") < out.index("Watching for changes...")
    assert run.interrupt() == 0


# -- the local registry (skaffold.md §6) ----------------------------------------------------------------


def test_with_the_clusters_registry_images_are_renamed_pushed_and_pulled_through_hosts_toml(
    project: Path, registry: int, fake_tools: FakeWorld, runs: list[SkaffoldRun]
) -> None:
    run = start(runs, project)
    ready(run)
    assert run.task("DevLoop-1", "Succeeded"), run.stderr()
    out = run.stdout()
    repo = f"localhost:{registry}/csup96_tour-auth"
    assert re.search(rf"^ - csup96/tour-auth -> {re.escape(repo)}:[0-9a-f]{{64}}$", out, re.MULTILINE), out
    assert f"The push refers to repository [{repo}]" in out
    assert "Loading images into kind cluster nodes..." not in out  # pushed, not loaded
    image = deployed_image(fake_tools, "auth")
    assert re.fullmatch(rf"{re.escape(repo)}:[0-9a-f]{{64}}@sha256:[0-9a-f]{{64}}", image), image
    assert re.search(rf"^ - csup96/tour-auth -> {re.escape(image)}$", out, re.MULTILINE)  # Tags used in deployment
    # build events name the artifact itself (build/scheduler.go: a.ImageName)
    built = {e["buildSubtaskEvent"]["artifact"] for e in run.events if "buildSubtaskEvent" in e}
    assert built == {"csup96/tour-auth", "csup96/tour-tour"}
    stored = fake_tools.containers()["kind-registry"]["registry"]
    assert image.split("@")[0] in stored
    # The info-level log of config/util.go is not shown at the default verbosity (warning).
    assert "using default-repo" not in run.stderr()
    assert run.interrupt() == 0


def test_the_registry_found_is_logged_at_info_level(project: Path, registry: int, runs: list[SkaffoldRun]) -> None:
    run = start(runs, project, "-v", "info")
    ready(run)
    assert re.search(
        rf'^time="[^"]+" level=info msg="using default-repo=localhost:{registry} from cluster configmap" '
        r"subtask=-1 task=DevLoop$",
        run.stderr(),
        re.MULTILINE,
    ), run.stderr()
    assert run.interrupt() == 0


def test_a_default_repo_flag_wins_over_the_configmap_and_images_are_loaded(
    project: Path, registry: int, fake_tools: FakeWorld, runs: list[SkaffoldRun]
) -> None:
    run = start(runs, project, "-d", "localhost:9999")
    ready(run)
    out = run.stdout()
    assert "Loading images into kind cluster nodes..." in out and "The push refers to" not in out
    assert deployed_image(fake_tools, "auth").startswith("localhost:9999/csup96_tour-auth:")
    assert run.interrupt() == 0


@pytest.mark.parametrize("how", ["stopped", "published elsewhere"])
def test_a_push_to_a_registry_that_does_not_answer_fails_the_first_build(
    project: Path, registry: int, fake_tools: FakeWorld, runs: list[SkaffoldRun], how: str
) -> None:
    if how == "stopped":
        fake_tools.stop_container("kind-registry")
    else:
        fake("docker", "rm", "-f", "kind-registry")
        fake("docker", "run", "-d", "--name", "kind-registry", "-p", f"127.0.0.1:{free_port()}:5000", "registry:2")
    run = start(runs, project)
    assert run.proc.wait(60) == 1
    err = run.stderr()
    assert re.search(
        rf'^build \[csup96/tour-auth\] failed: could not push image "localhost:{registry}/csup96_tour-auth:[0-9a-f]+": '
        rf'Get "http://localhost:{registry}/v2/": dial tcp 127\.0\.0\.1:{registry}: connect: connection refused$',
        err,
        re.MULTILINE,
    ), err
    failed = run.task("DevLoop-1", "Failed")
    assert failed and "could not push image" in failed["actionableErr"]["message"]
    cancelled = [e["buildSubtaskEvent"]["artifact"] for e in run.events
                 if e.get("buildSubtaskEvent", {}).get("status") == "Canceled"]  # fmt: skip
    assert cancelled == ["csup96/tour-tour"]  # one build at a time: the rest are cancelled


@pytest.mark.parametrize("broken", ["no hosts.toml", "registry off the kind network"])
def test_pods_wait_in_image_pull_back_off_unless_the_node_reaches_the_registry(
    fake_tools: FakeWorld, project: Path, runs: list[SkaffoldRun], broken: str
) -> None:
    port = free_port()
    link_registry(port, hosts_toml=broken != "no hosts.toml")
    if broken == "registry off the kind network":
        state = json.loads((fake_tools.state_dir / "state.json").read_text())
        state["docker"]["containers"]["kind-registry"]["networks"] = ["bridge"]
        (fake_tools.state_dir / "state.json").write_text(json.dumps(state))
    run = start(runs, project)
    assert run.proc.wait(60) == 1
    assert re.search(
        r"^ - deployment/auth: container auth is waiting to start: localhost:\d+/csup96_tour-auth:\S+ "
        r"can't be pulled$",
        run.stdout(),
        re.MULTILINE,
    ), run.stdout()
    assert "deployment(s) failed" in run.stderr()


def test_an_image_pull_back_off_pod_has_the_apis_shape(fake_tools: FakeWorld, project: Path) -> None:
    port = free_port()
    link_registry(port, hosts_toml=False)
    image = f"localhost:{port}/csup96_tour-auth:1"
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "auth"},
                "spec": {"selector": {"matchLabels": {"app": "auth"}}, "template": {
                    "metadata": {"labels": {"app": "auth"}},
                    "spec": {"containers": [{"name": "auth", "image": image}]}}}}  # fmt: skip
    fake("kubectl", "--context", "kind-tour", "apply", "-f", "-", input=json.dumps(manifest))
    pods = json.loads(fake("kubectl", "--context", "kind-tour", "get", "pods", "-o", "json").stdout)["items"]
    (pod,) = pods
    assert pod["status"]["phase"] == "Pending"
    (status,) = pod["status"]["containerStatuses"]
    assert status["ready"] is False
    assert status["state"] == {
        "waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
    }


# -- later iterations (runner/dev.go doDev) -------------------------------------------------------------


def test_a_dockerfile_change_rebuilds_and_redeploys_in_a_new_iteration(
    project: Path, registry: int, fake_tools: FakeWorld, runs: list[SkaffoldRun]
) -> None:
    run = start(runs, project)
    ready(run)
    before = deployed_image(fake_tools, "auth")
    (project / "app" / "Dockerfile").write_text("FROM python:3.12-alpine\nCOPY *.py /app/\nUSER 10001\n")
    ready(run, 2)
    assert [t for t in run.tasks() if t[0].endswith("-2")] == [
        ("DevLoop-2", "InProgress", ""),
        ("Build-2", "InProgress", "Build containers"),
        ("Build-2", "Succeeded", ""),
        ("Render-2", "InProgress", "Render Manifests"),
        ("Render-2", "Succeeded", ""),
        ("Deploy-2", "InProgress", "Deploy to cluster"),
        ("StatusCheck-2", "InProgress", "Status Checking Deployed Artifacts"),
        ("StatusCheck-2", "Succeeded", ""),
        ("Deploy-2", "Succeeded", ""),
        ("DevLoop-2", "Succeeded", ""),
    ]
    checks = {e["statusCheckSubtaskEvent"]["task_id"] for e in run.events if "statusCheckSubtaskEvent" in e}
    assert checks == {"Deploy-1", "Deploy-2"}
    after = deployed_image(fake_tools, "auth")
    assert after != before and after.split(":")[0] == before.split(":")[0]  # a new tag, same repository
    second = run.stdout().split("Watching for changes...", 1)[1]
    assert "Generating tags..." in second and " - deployment.apps/auth configured" in second
    assert second.rstrip().endswith("Watching for changes...")
    assert run.interrupt() == 0


def test_a_synced_file_is_a_sync_only_iteration(project: Path, runs: list[SkaffoldRun]) -> None:
    run = start(runs, project)
    ready(run)
    (project / "app" / "server.py").write_text("print('changed')\n")
    ready(run, 2)
    assert [t[0] for t in run.tasks() if t[0].endswith("-2")] == ["DevLoop-2", "DevLoop-2"]
    assert re.search(r"^Syncing 1 files for csup96/tour-auth:\S+$", run.stdout(), re.MULTILINE)
    assert run.interrupt() == 0


def test_a_failed_iteration_is_reported_and_skaffold_keeps_running(
    project: Path, registry: int, fake_tools: FakeWorld, runs: list[SkaffoldRun]
) -> None:
    run = start(runs, project)
    ready(run)
    fake_tools.set_knob("skaffold_fail_build", "csup96/tour-auth")
    (project / "app" / "Dockerfile").write_text("FROM python:3.12-alpine\nRUN exit 1\n")
    ready(run, 2)
    failed = run.task("DevLoop-2", "Failed")
    assert failed is not None and failed["actionableErr"]["errCode"] == "BUILD_USER_ERROR"
    text = (
        "build [csup96/tour-auth] failed: docker build failure: The command '/bin/sh -c exit 1' returned a "
        "non-zero code: 1"
    )
    assert failed["actionableErr"]["message"] == text
    # runner/dev.go: logrus' Warn joins its arguments without a space.
    assert re.search(
        rf'^time="[^"]+" level=warning msg="Skipping test and deploy due to build error:{re.escape(text)}" '
        r"subtask=-1 task=DevLoop$",
        run.stderr(),
        re.MULTILINE,
    ), run.stderr()
    run.wait_for(lambda: run.stdout().rstrip().endswith("Watching for changes..."), "watching again")
    assert run.proc.poll() is None  # from iteration 2 on, a failure does not end Skaffold
    fake_tools.set_knob("skaffold_fail_build", None)
    (project / "app" / "Dockerfile").write_text("FROM python:3.12-alpine\nCOPY *.py /app/\n")
    ready(run, 3)
    assert run.task("DevLoop-3", "Succeeded")
    assert run.interrupt() == 0


def _connect(port: int) -> socket.socket:
    for _ in range(300):
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            subprocess.run(["sleep", "0.1"], check=True)
    raise AssertionError(f"nothing listens on {port}")
