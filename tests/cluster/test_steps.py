"""The cluster part of `devctl up` against the fake kind, docker and kubectl (devctl.cluster.steps).

Every scenario runs the real steps through ``devctl.steps.run_steps``; the fakes keep state and log
every call, so the tests count calls and look at containers, files in nodes and cluster objects.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from devctl import config
from devctl.cluster.host_ports import check_ports
from devctl.cluster.observe import observe
from devctl.cluster.plan import ClusterPlan
from devctl.cluster.run import ClusterRun
from devctl.cluster.spec import STAMP_NAME, ClusterSpec, kind_config, read_stamp
from devctl.cluster.steps import cluster_steps
from devctl.context import Context
from devctl.devloop.api import free_port
from devctl.errors import DevctlError
from devctl.report import SilentReporter
from devctl.runner import Result, Runner
from devctl.workflows.steps import PlanResult, StepFailed, run_steps
from tests.conftest import FAKES, FakeWorld, run_cli

NODE = "tour-control-plane"
REGISTRY = "kind-registry"


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Unprivileged free ports for HTTP, HTTPS and the registry (the fakes and devctl really probe them)."""
    chosen = {"http": free_port(), "https": free_port(), "registry": free_port()}
    monkeypatch.setenv("DEVCTL_HTTP_PORT", str(chosen["http"]))
    monkeypatch.setenv("DEVCTL_HTTPS_PORT", str(chosen["https"]))
    monkeypatch.setenv("DEVCTL_REGISTRY_PORT", str(chosen["registry"]))
    return chosen


@pytest.fixture
def world(fake_tools: FakeWorld, ports: dict[str, int]) -> FakeWorld:
    return fake_tools


_WARM: dict[str, Any] = {}


@pytest.fixture
def warm(world: FakeWorld, ports: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> FakeWorld:
    """The world after a first `up` (its call log cleared). The first test to ask runs that `up`; later
    ones get a copy of the resulting state, ports included, which saves a second of fake calls each."""
    if not _WARM:
        up()
        _WARM.update(
            ports=dict(ports),
            state=(world.state_dir / "state.json").read_text(),
            kubeconfig=world.kubeconfig.read_text(),
        )
    else:
        ports.update(_WARM["ports"])
        for name, env in (
            ("http", "DEVCTL_HTTP_PORT"),
            ("https", "DEVCTL_HTTPS_PORT"),
            ("registry", "DEVCTL_REGISTRY_PORT"),
        ):
            monkeypatch.setenv(env, str(ports[name]))
        (world.state_dir / "state.json").write_text(_WARM["state"])
        world.kubeconfig.write_text(_WARM["kubeconfig"])
    world.clear_calls()
    return world


def context(runner: Runner | None = None, **flags: Any) -> Context:
    cfg = config.load(flags, cwd=Path(os.environ["DEVCTL_HOSTS_FILE"]).parent)
    return Context.create(cfg, reporter=SilentReporter(), runner=runner)


def up(recreate: bool = False, runner: Runner | None = None, **flags: Any) -> tuple[PlanResult, SilentReporter]:
    ctx = context(runner, **flags)
    result = run_steps(cluster_steps(ClusterRun(recreate)), ctx)
    assert isinstance(ctx.reporter, SilentReporter)
    return result, ctx.reporter


def status(result: PlanResult) -> dict[str, str]:
    return {o.name: o.status for o in result.outcomes}


def called(world: FakeWorld, tool: str, *prefix: str) -> list[list[str]]:
    return [a for a in world.argvs(tool) if a[: len(prefix)] == list(prefix)]


def changes(world: FakeWorld) -> list[list[str]]:
    """Every state-changing call: creates, deletes, runs, starts, connects, execs, applies, exports."""
    out = called(world, "kind", "create") + called(world, "kind", "delete") + called(world, "kind", "export")
    for verb in ("run", "start", "rm", "network", "exec"):
        out += called(world, "docker", verb)
    return out + [a for a in world.argvs("kubectl") if "apply" in a]


def spec() -> ClusterSpec:
    return ClusterSpec.from_config(context().cfg)


def stamp_of(world: FakeWorld) -> dict[str, Any]:
    cm = world.objects("kind-tour")[f"ConfigMap/kube-public/{STAMP_NAME}"]
    stamped = read_stamp(cm)
    assert stamped is not None
    return stamped


def drop_context(world: FakeWorld, name: str = "kind-tour") -> None:
    kc = yaml.safe_load(world.kubeconfig.read_text())
    for key in ("clusters", "contexts", "users"):
        kc[key] = [e for e in kc[key] if e["name"] != name]
    if kc.get("current-context") == name:
        kc["current-context"] = ""
    world.kubeconfig.write_text(yaml.safe_dump(kc))


# --- first and second up ---------------------------------------------------------------------------------


def test_a_first_up_creates_the_cluster_once_with_the_generated_config_and_starts_the_registry(
    world: FakeWorld, ports: dict[str, int]
) -> None:
    result, _ = up()
    assert set(status(result).values()) == {"done"}

    creates = called(world, "kind", "create", "cluster")
    assert len(creates) == 1
    assert creates[0][creates[0].index("--name") + 1] == "tour"
    assert creates[0][creates[0].index("--image") + 1] == config.DEFAULT_NODE_IMAGE
    node = world.containers()[NODE]
    assert node["kind_config"] == yaml.safe_load(kind_config(spec()))  # what kind got on stdin
    assert node["ports"]["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(ports["http"])}]
    assert node["ports"]["443/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(ports["https"])}]
    labels = world.objects("kind-tour")[f"Node//{NODE}"]["metadata"]["labels"]
    assert labels["ingress-ready"] == "true"

    reg = world.containers()[REGISTRY]
    assert reg["state"] == "running" and reg["restart"] == "always"
    assert reg["image"] == config.DEFAULT_REGISTRY_IMAGE
    assert list(reg["ports"].values()) == [[{"HostIp": "127.0.0.1", "HostPort": str(ports["registry"])}]]
    assert "kind" in reg["networks"]

    assert node["files"][f"/etc/containerd/certs.d/localhost:{ports['registry']}/hosts.toml"] == (
        '[host."http://kind-registry:5000"]\n'
    )
    hosting = world.objects("kind-tour")["ConfigMap/kube-public/local-registry-hosting"]
    assert yaml.safe_load(hosting["data"]["localRegistryHosting.v1"])["host"] == f"localhost:{ports['registry']}"
    assert stamp_of(world) == spec().to_json()
    assert world.assert_pinned() > 0


def test_after_its_own_create_the_cluster_step_reads_nothing_back_and_the_stamp_is_its_own_step(
    world: FakeWorld,
) -> None:
    # Everything after the cluster step waits for it on a first `up`: what kind just made is known
    # (kind.md §4 names the node), so no docker ps / kubectl get follows the create inside the step.
    result, _ = up()

    calls = [[c["tool"], *c["argv"]] for c in world.calls()]
    create = next(i for i, a in enumerate(calls) if a[:3] == ["kind", "create", "cluster"])
    after = calls[create + 1 :]
    assert not [a for a in after if a[:2] == ["docker", "ps"]], after
    assert not [a for a in after if "get" in a and "configmaps" in a], after
    assert status(result)["cluster-stamp"] == "done"
    assert stamp_of(world) == spec().to_json()
    steps = cluster_steps(ClusterRun(recreate=False))
    stamp_step = next(s for s in steps if s.name == "cluster-stamp")
    link_step = next(s for s in steps if s.name == "registry-link")
    assert stamp_step.needs == ("cluster",) and "cluster-stamp" not in link_step.needs


def test_a_second_up_creates_nothing_and_costs_at_most_three_calls(warm: FakeWorld) -> None:
    warm.add_foreign_context("prod", current=True)  # a call that escaped pinning would land here

    result, _ = up()

    calls = warm.calls(probes=False)
    assert len(calls) <= 3, [c["argv"] for c in calls]
    assert not called(warm, "kind", "create") and not called(warm, "kind", "get", "clusters")
    assert not called(warm, "docker", "run")
    assert changes(warm) == []
    assert status(result) == {
        "cluster-plan": "done",
        "registry": "skipped",
        "cluster": "skipped",
        "cluster-stamp": "skipped",
        "registry-link": "skipped",
    }
    assert warm.assert_pinned() == 1
    assert warm.objects("prod") == {}


# --- repairs -------------------------------------------------------------------------------------------


def test_stopped_nodes_are_started_and_nothing_is_created(warm: FakeWorld) -> None:
    warm.stop_container(NODE)  # Docker was restarted (kind.md §8)
    warm.add_foreign_context("prod", current=True)

    result, _ = up()

    assert called(warm, "docker", "start") == [["start", NODE]]
    assert warm.containers()[NODE]["state"] == "running"
    assert not called(warm, "kind", "create") and not called(warm, "kind", "delete")
    assert status(result)["cluster"] == "done"
    assert warm.assert_pinned() > 0 and warm.objects("prod") == {}


def test_a_stopped_registry_is_started_not_run_again(warm: FakeWorld) -> None:
    warm.stop_container(REGISTRY)

    up()

    assert called(warm, "docker", "start") == [["start", REGISTRY]]
    assert not called(warm, "docker", "run")
    assert warm.containers()[REGISTRY]["state"] == "running"


def test_a_missing_kube_context_is_restored_with_kind_export_kubeconfig(warm: FakeWorld) -> None:
    drop_context(warm)

    up()

    assert called(warm, "kind", "export", "kubeconfig") == [["export", "kubeconfig", "--name", "tour"]]
    assert not called(warm, "kind", "create") and not called(warm, "kind", "delete")
    assert "kind-tour" in yaml.safe_load(warm.kubeconfig.read_text())["current-context"]


def interrupted_create(world: FakeWorld) -> None:
    """Start the fake `kind create cluster` and Ctrl-C it once the node container exists (kind.md §3.1)."""
    world.set_knob("kind_create_delay", 30)
    proc = subprocess.Popen(
        [str(FAKES / "kind"), "create", "cluster", "--name", "tour", "--config", "-"],
        stdin=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None
    proc.stdin.write(kind_config(spec()).encode())
    proc.stdin.close()
    deadline = time.monotonic() + 10
    while NODE not in world.containers():
        assert time.monotonic() < deadline, "the fake kind never made its node"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) != 0
    world.set_knob("kind_create_delay", 0)


def test_an_interrupted_create_does_not_block_the_next_up(world: FakeWorld) -> None:
    world.add_foreign_context("prod", current=True)
    interrupted_create(world)
    assert NODE in world.containers() and "kind-tour" not in world.kubeconfig.read_text()
    world.clear_calls()

    _, rep = up()

    kind_calls = [a[:2] for a in world.argvs("kind", probes=False)]
    assert kind_calls == [["export", "kubeconfig"], ["delete", "cluster"], ["get", "clusters"], ["create", "cluster"]]
    assert any("interrupted create" in detail for kind_, detail, _ in rep.events if kind_ == "info")
    assert stamp_of(world) == spec().to_json()
    assert world.containers()[NODE]["state"] == "running"
    assert world.assert_pinned() > 0 and world.objects("prod") == {}


def test_losing_a_create_race_is_treated_as_exists(world: FakeWorld) -> None:
    class RacedRunner(Runner):
        """Another `devctl up` creates the same cluster just before ours does."""

        raced = False

        def run(self, argv: Sequence[str], **kw: Any) -> Result:
            if list(argv[:3]) == ["kind", "create", "cluster"] and not self.raced:
                self.raced = True
                super().run(argv, **kw)  # the competitor wins
            return super().run(argv, **kw)

    result, _ = up(runner=RacedRunner())

    assert len(called(world, "kind", "create")) == 2  # the competitor's and ours, which kind refused
    assert [n for n in world.containers() if n.startswith("tour-")] == [NODE]
    assert status(result)["cluster"] == "done"
    assert stamp_of(world) == spec().to_json()  # the cluster is stamped and linked as if we had made it
    assert "ConfigMap/kube-public/local-registry-hosting" in world.objects("kind-tour")


# --- drift -------------------------------------------------------------------------------------------


def test_drift_is_reported_with_each_field_and_not_acted_on(warm: FakeWorld, ports: dict[str, int]) -> None:
    warm.add_foreign_context("prod", current=True)
    new_port = free_port()

    result, rep = up(http_port=new_port, node_image="kindest/node:v1.35.1")

    warnings = [title for kind_, title, _ in rep.events if kind_ == "warn"]
    assert len(warnings) == 1
    assert f"http_port: {ports['http']} now, {new_port} wanted (set by DEVCTL_HTTP_PORT)" in warnings[0]
    assert "node_image" in warnings[0] and "kindest/node:v1.35.1 wanted" in warnings[0]
    assert "devctl up --recreate" in warnings[0]
    assert not called(warm, "kind", "delete") and not called(warm, "kind", "create")
    assert changes(warm) == []
    assert status(result)["cluster"] == "skipped"
    assert stamp_of(warm)["http_port"] == ports["http"]
    assert warm.assert_pinned() > 0 and warm.objects("prod") == {}


def test_recreate_rebuilds_a_drifted_cluster_with_the_new_spec(warm: FakeWorld, ports: dict[str, int]) -> None:
    new_port = free_port()

    up(recreate=True, http_port=new_port)

    kind_calls = [a[:2] for a in warm.argvs("kind", probes=False)]
    assert kind_calls == [["delete", "cluster"], ["get", "clusters"], ["create", "cluster"]]
    assert stamp_of(warm)["http_port"] == new_port
    assert warm.containers()[NODE]["ports"]["80/tcp"][0]["HostPort"] == str(new_port)
    assert not called(warm, "docker", "run")  # the registry did not drift: kept
    # The new node was linked to the registry again.
    assert f"/etc/containerd/certs.d/localhost:{ports['registry']}/hosts.toml" in warm.containers()[NODE]["files"]
    assert "ConfigMap/kube-public/local-registry-hosting" in warm.objects("kind-tour")


def test_recreate_on_a_cluster_without_drift_changes_nothing(warm: FakeWorld) -> None:
    up(recreate=True)
    assert changes(warm) == []


# --- preconditions --------------------------------------------------------------------------------------


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("ERROR:")]


def test_docker_down_is_one_line_exit_1_and_nothing_is_created(world: FakeWorld) -> None:
    world.docker_down()
    res = run_cli("cluster", "up")
    assert res.exit_code == 1
    errors = error_lines(res.stderr)
    assert len(errors) == 1 and "Docker daemon is not reachable" in errors[0] and "start Docker" in errors[0]
    assert "Traceback" not in res.output and "Command output" not in res.stderr
    assert changes(world) == []
    assert world.containers() == {}


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield s
    s.close()


@pytest.mark.parametrize(("which", "knob"), [("http", "DEVCTL_HTTP_PORT"), ("registry", "DEVCTL_REGISTRY_PORT")])
def test_a_busy_port_names_port_owner_and_knob_and_nothing_is_created(
    world: FakeWorld, monkeypatch: pytest.MonkeyPatch, listener: socket.socket, which: str, knob: str
) -> None:
    port = listener.getsockname()[1]
    monkeypatch.setenv(knob, str(port))

    res = run_cli("cluster", "up")

    assert res.exit_code == 1
    errors = error_lines(res.stderr)
    assert len(errors) == 1, res.stderr
    assert f"host port {port}" in errors[0] and f"{knob}=<port>" in errors[0]
    if Path("/proc/net/tcp").exists():
        assert f"pid {os.getpid()}" in errors[0]  # the owner, found through /proc
    assert changes(world) == []
    assert world.containers() == {}


def test_ports_published_by_our_running_node_are_ours_not_busy(warm: FakeWorld, ports: dict[str, int]) -> None:
    ctx = context()
    observed = observe(ctx, spec())
    rebuild = ClusterPlan(delete=True, create=True)
    # A real node's ports are held by docker-proxy; the fake only records them, so hold one here.
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports["http"]))
        s.listen()
        check_ports(ctx, spec(), observed, rebuild)  # a recreate frees them first: fine
        warm.stop_container(NODE)
        stopped = observe(ctx, spec())
        with pytest.raises(DevctlError, match=f"host port {ports['http']} \\(HTTP\\)"):
            check_ports(ctx, spec(), stopped, ClusterPlan(start_nodes=(NODE,)))  # a stopped node holds nothing


# --- dry run and status ---------------------------------------------------------------------------------


def test_dry_run_prints_the_kind_config_and_changes_nothing(world: FakeWorld, ports: dict[str, int]) -> None:
    res = run_cli("--dry-run", "cluster", "up")
    assert res.exit_code == 0, res.output
    assert "kind create cluster --name tour" in res.stdout
    assert f"hostPort: {ports['http']}" in res.stdout and "ingress-ready=true" in res.stdout
    assert 'config_path = "/etc/containerd/certs.d"' in res.stdout
    assert f"run container kind-registry from {config.DEFAULT_REGISTRY_IMAGE}" in res.stdout
    assert changes(world) == [] and world.containers() == {}


def test_dry_run_through_the_steps_prints_the_commands_and_the_config(world: FakeWorld) -> None:
    ctx = context(dry_run=True)
    run_steps(cluster_steps(ClusterRun(False)), ctx)
    assert isinstance(ctx.reporter, SilentReporter)
    said = "\n".join(title for kind_, title, _ in ctx.reporter.events if kind_ == "info")
    assert "would run: kind create cluster --name tour" in said
    assert "would run: docker run -d --restart=always" in said
    assert "would run: docker network connect kind kind-registry" in said
    assert "extraPortMappings" in said
    assert changes(world) == [] and world.containers() == {}


def test_status_json_shows_the_observed_state_and_the_drift(warm: FakeWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    res = run_cli("cluster", "status", "--json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["nodes"] == [{"name": NODE, "state": "running"}] and data["api"] == "ok"
    assert data["drift"] == [] and data["plan"]["noop"] is True

    monkeypatch.setenv("DEVCTL_NODE_IMAGE", "kindest/node:v1.35.1")
    data = json.loads(run_cli("cluster", "status", "--json").stdout)
    assert [d["field"] for d in data["drift"]] == ["node_image"]
    assert data["plan"]["create"] is False and data["plan"]["delete"] is False


def test_a_blocked_cluster_fails_with_what_to_do(warm: FakeWorld) -> None:
    warm._mutate(lambda d: d["docker"]["containers"][NODE].__setitem__("state", "dead"))
    with pytest.raises(StepFailed) as info:
        up()
    cause = info.value.__cause__
    assert isinstance(cause, DevctlError) and "dead" in cause.message
    assert "devctl up --recreate" in (info.value.hint or "")
    assert not called(warm, "kind", "delete")


def test_dry_run_of_a_recreate_shows_the_delete_and_the_create_and_changes_nothing(warm: FakeWorld) -> None:
    ctx = context(dry_run=True, http_port=free_port())
    run_steps(cluster_steps(ClusterRun(True)), ctx)
    assert isinstance(ctx.reporter, SilentReporter)
    said = "\n".join(title for kind_, title, _ in ctx.reporter.events if kind_ == "info")
    assert "would run: kind delete cluster --name tour" in said
    assert "would run: kind create cluster --name tour" in said
    assert changes(warm) == []
    assert stamp_of(warm)["http_port"] != ctx.cfg.http_port  # the old cluster is untouched
