"""kind's nodes as Docker shows them (devctl.cluster.observe, .plan, .steps, devctl.status): containers
carrying kind's labels (kind.md §4) are found, a stopped one is started, `status` tells running from
stopped, all from the real `docker ps` output. busybox containers stand in for the nodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devctl.cluster.observe import NodeState, observe_cluster, observe_nodes
from devctl.cluster.plan import plan_cluster
from devctl.cluster.run import ClusterRun
from devctl.cluster.steps import ClusterStep, PlanStep
from devctl.errors import ToolNotFound
from devctl.workflows.steps import StepFailed, run_steps
from tests.conftest import run_cli
from tests.docker import parts
from tests.docker.conftest import Devctl
from tests.docker.engine import Engine
from tests.docker.images import Images


def test_containers_with_kinds_labels_are_the_clusters_nodes(devctl: Devctl, engine: Engine, images: Images) -> None:
    s = parts.spec()
    control = parts.node(engine, images.busybox)
    worker = parts.node(engine, images.busybox, f"{s.name}-worker", running=False)
    second = parts.node(engine, images.busybox, f"{s.name}-control-plane2")
    other_cluster = engine.name("c")
    engine.container(
        images.busybox, "sleep", "3600", name=f"{other_cluster}-control-plane",
        options=["--label", f"io.x-k8s.kind.cluster={other_cluster}"],
    )  # fmt: skip

    nodes = observe_nodes(parts.context(), s)

    assert nodes == (NodeState(control, "running"), NodeState(second, "running"), NodeState(worker, "exited"))
    assert devctl.docker_calls()[-1] == [
        "docker", "ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={s.name}", "--format", "{{.Names}}\t{{.State}}",
    ]  # fmt: skip


def test_a_stopped_node_is_started_by_the_repair_path(
    devctl: Devctl, engine: Engine, images: Images, tool_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = parts.node(engine, images.busybox, running=False)
    ctx = parts.context()
    assert plan_cluster(parts.spec(), observe_cluster(ctx, parts.spec())).start_nodes == (node,)

    # Only docker on PATH: the repair starts the node, then needs the cluster's API (kubectl), which a
    # busybox node has not. That is where this test stops.
    docker_only = devctl.work / "docker-only"
    docker_only.mkdir()
    (docker_only / "docker").symlink_to(tool_bin / "docker")
    monkeypatch.setenv("PATH", str(docker_only))
    devctl.mark()
    with pytest.raises(StepFailed) as failed:
        run = ClusterRun(False)
        run_steps([PlanStep(run), ClusterStep(run)], parts.context())

    assert isinstance(failed.value.__cause__, ToolNotFound) and failed.value.__cause__.tool == "kubectl"
    assert ["docker", "start", node] in devctl.docker_calls()
    assert engine.state(node) == "running"


def test_status_tells_running_from_stopped_nodes(devctl: Devctl, engine: Engine, images: Images) -> None:
    node = parts.node(engine, images.busybox, running=False)

    res = run_cli("status", "--json")
    assert res.exit_code == 1
    cluster = json.loads(res.stdout)["cluster"]
    assert (cluster["exists"], cluster["running"]) == (True, False)
    assert cluster["detail"] == f"stopped node(s): {node} (exited)"

    engine.ok("start", node)
    res = run_cli("status", "--json")
    cluster = json.loads(res.stdout)["cluster"]
    assert (cluster["exists"], cluster["running"]) == (True, True)
    assert "stopped" not in cluster["detail"]
    assert res.exit_code == 1  # no API behind a busybox node
