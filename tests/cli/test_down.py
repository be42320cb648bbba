"""`devctl down`: deletes the cluster (idempotent); --registry and --hosts remove those too; nothing else."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from devctl import config
from devctl.cluster.run import ClusterRun
from devctl.cluster.steps import cluster_steps
from devctl.context import Context
from devctl.devloop.api import free_port
from devctl.report import SilentReporter
from devctl.workflows.steps import run_steps
from tests.conftest import FAKES, FakeWorld, run_cli

_SNAPSHOT: dict[str, Any] = {}
PORT_ENVS = ("DEVCTL_HTTP_PORT", "DEVCTL_HTTPS_PORT", "DEVCTL_REGISTRY_PORT")


@pytest.fixture
def world(fake_tools: FakeWorld, monkeypatch: pytest.MonkeyPatch) -> FakeWorld:
    """A machine after `devctl up`'s cluster part, with another kind cluster and a foreign context.
    Built once through the real steps and fakes, then copied into each test's own fake world."""
    if not _SNAPSHOT:
        ports = {env: str(free_port()) for env in PORT_ENVS}
        for env, port in ports.items():
            monkeypatch.setenv(env, port)
        fake_tools.add_foreign_context("prod", current=True)
        ctx = Context.create(config.load({}, cwd=fake_tools.root), reporter=SilentReporter())
        run_steps(cluster_steps(ClusterRun(False)), ctx)
        # Someone else's kind cluster: `down` must leave it alone.
        subprocess.run([str(FAKES / "kind"), "create", "cluster", "--name", "other"], check=True, capture_output=True)
        _SNAPSHOT.update(
            ports=ports,
            state=(fake_tools.state_dir / "state.json").read_text(),
            kubeconfig=fake_tools.kubeconfig.read_text(),
        )
    else:
        for env, port in _SNAPSHOT["ports"].items():
            monkeypatch.setenv(env, port)
        (fake_tools.state_dir / "state.json").write_text(_SNAPSHOT["state"])
        fake_tools.kubeconfig.write_text(_SNAPSHOT["kubeconfig"])
    fake_tools.clear_calls()
    return fake_tools


def contexts(world: FakeWorld) -> set[str]:
    return {c["name"] for c in yaml.safe_load(world.kubeconfig.read_text())["contexts"]}


def test_down_deletes_the_cluster_and_nothing_else(world: FakeWorld) -> None:
    res = run_cli("down")
    assert res.exit_code == 0, res.output
    assert "removed kind cluster tour" in res.stdout
    # The stores keep their volumes in the node: they go with it, and down says so.
    assert "and with it the stack's data: the databases, Redis and NATS" in " ".join(res.stdout.split())
    assert world.argvs("kind", probes=False) == [["delete", "cluster", "--name", "tour"]]
    left = world.containers()
    assert "tour-control-plane" not in left
    assert {"other-control-plane", "kind-registry"} <= set(left)  # the registry stays without --registry
    assert contexts(world) == {"prod", "kind-other"}


def test_a_second_down_exits_0_and_says_there_was_nothing_to_delete(world: FakeWorld) -> None:
    assert run_cli("down").exit_code == 0
    world.clear_calls()
    res = run_cli("down")
    assert res.exit_code == 0
    assert "nothing to delete: no kind cluster named tour" in res.stdout
    assert not [a for a in world.argvs("kind") if a[:1] == ["delete"]]


def test_registry_flag_also_removes_the_registry_container_once(world: FakeWorld) -> None:
    res = run_cli("down", "--registry")
    assert res.exit_code == 0
    assert "removed registry container kind-registry" in res.stdout
    assert "kind-registry" not in world.containers()
    assert ["rm", "-f", "kind-registry"] in world.argvs("docker")
    again = run_cli("down", "--registry")
    assert again.exit_code == 0
    assert "nothing to delete: no kind cluster named tour and no registry container kind-registry" in again.stdout


def test_hosts_flag_also_removes_the_hosts_entry(world: FakeWorld) -> None:
    hosts = Path(os.environ["DEVCTL_HOSTS_FILE"])
    before = hosts.read_bytes()
    assert run_cli("hosts", "add").exit_code == 0
    assert b"tour.xyz" in hosts.read_bytes()

    res = run_cli("down", "--hosts")

    assert res.exit_code == 0, res.output
    assert f"removed the tour.xyz entry from {hosts}" in res.stdout
    assert hosts.read_bytes() == before
    again = run_cli("down", "--hosts")
    assert again.exit_code == 0 and "nothing to remove" in again.stdout


def test_dry_run_removes_nothing(world: FakeWorld) -> None:
    res = run_cli("--dry-run", "down", "--registry")
    assert res.exit_code == 0
    assert "would remove kind cluster tour" in res.stdout and "would remove registry container" in res.stdout
    assert {"tour-control-plane", "kind-registry"} <= set(world.containers())
    assert not [a for a in world.argvs("kind") if a[:1] == ["delete"]]


def test_docker_down_is_one_error_line_and_exit_1(world: FakeWorld) -> None:
    world.docker_down()
    res = run_cli("down")
    assert res.exit_code == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]
    assert len(errors) == 1 and "Docker daemon is not reachable" in errors[0]


def test_no_permission_on_the_socket_is_one_error_line_with_its_fix(world: FakeWorld) -> None:
    world.docker_denied()
    res = run_cli("down", "--registry")
    assert res.exit_code == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]
    assert len(errors) == 1 and "may not use the Docker daemon" in errors[0]
    assert {"tour-control-plane", "kind-registry"} <= set(world.containers())
