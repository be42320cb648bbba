"""The fake kind's texts where kind's source words them by situation (kind.md §2-§3; paths in
kubernetes-sigs/kind): Docker down wrapped per command, the blank line before `Command Output:`, a stopped
node's kubeconfig, and a node port taken, in the words of whoever holds it."""

from __future__ import annotations

import socket

import pytest

from devctl.devloop.api import free_port
from tests.conftest import FakeWorld
from tests.fidelity.conftest import fake
from tests.stack_world import create_cluster

DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
NODES = "docker ps -a --filter label=io.x-k8s.kind.cluster=tour --format '{{.Names}}'"


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        # pkg/cluster/internal/create/create.go validates the provider first: providers/docker/provider.go info().
        (
            ["create", "cluster", "--name", "tour"],
            "failed to create cluster: failed to get docker info: command \"docker info --format '{{json .}}'\"",
        ),
        # pkg/cmd/kind/delete/cluster wraps pkg/cluster/internal/delete/delete.go's "error listing nodes".
        (
            ["delete", "cluster", "--name", "tour"],
            f'failed to delete cluster "tour": error listing nodes: failed to list nodes: command "{NODES}"',
        ),
        (["get", "nodes", "--name", "tour"], f'failed to list nodes: command "{NODES}"'),
        (["export", "kubeconfig", "--name", "tour"], f'failed to list nodes: command "{NODES}"'),
        (
            ["get", "clusters"],
            'failed to list clusters: command "docker ps -a --filter label=io.x-k8s.kind.cluster --format '
            '\'{{.Label "io.x-k8s.kind.cluster"}}\'"',
        ),
    ],
)
def test_docker_down_is_wrapped_as_each_command_wraps_it(fake_tools: FakeWorld, argv: list[str], error: str) -> None:
    fake_tools.docker_down()
    res = fake("kind", *argv)
    assert res.returncode == 1 and res.stdout == ""
    # cmd/kind/app/main.go logError: the error, then a blank line and the command's output.
    assert res.stderr == f"ERROR: {error} failed with error: exit status 1\n\nCommand Output: {DOWN}\n"


def test_export_kubeconfig_of_a_stopped_node_fails_reading_it_from_the_node(fake_tools: FakeWorld) -> None:
    create_cluster()
    fake_tools.stop_container("tour-control-plane")
    res = fake("kind", "export", "kubeconfig", "--name", "tour")
    assert res.returncode == 1
    # pkg/cluster/internal/kubeconfig/kubeconfig.go get(): `cat /etc/kubernetes/admin.conf` in the node.
    head, _, output = res.stderr.partition("\n\nCommand Output: ")
    assert head == (
        'ERROR: failed to get cluster internal kubeconfig: command "docker exec --privileged tour-control-plane '
        'cat /etc/kubernetes/admin.conf" failed with error: exit status 1'
    )
    assert output.startswith("Error response from daemon: Container ") and output.endswith(" is not running\n")


@pytest.mark.parametrize(
    ("engine", "words"),
    [
        ("28", "failed to bind host port for 127.0.0.1:{port}:"),
        ("20.10", "Error starting userland proxy: listen tcp4 127.0.0.1:{port}: bind: address already in use"),
        ("desktop", "Ports are not available: exposing port TCP 127.0.0.1:{port} -> "),
    ],
)
def test_a_node_port_a_host_process_holds_fails_in_the_engines_words(
    fake_tools: FakeWorld, tmp_path: object, engine: str, words: str
) -> None:
    fake_tools.docker_engine(engine)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        res = fake("kind", "create", "cluster", "--name", "tour", "--config", "-", input=_config(port))
    assert res.returncode == 1
    assert (
        ' ✗ Preparing nodes 📦\nERROR: failed to create cluster: command "docker run --name tour-control-plane'
        in res.stderr
    )
    assert "failed with error: exit status 125\n\nCommand Output: docker: Error response from daemon: " in res.stderr
    assert words.format(port=port) in res.stderr
    assert fake_tools.containers() == {}  # kind.md §3.1 item 3: the nodes are deleted (no --retain)


def test_a_node_port_another_container_publishes_is_already_allocated(fake_tools: FakeWorld) -> None:
    port = free_port()
    fake("docker", "run", "-d", "--name", "holder", "-p", f"127.0.0.1:{port}:80", "busybox")
    res = fake("kind", "create", "cluster", "--name", "tour", "--config", "-", input=_config(port))
    assert res.returncode == 1
    assert f"Bind for 127.0.0.1:{port} failed: port is already allocated" in res.stderr
    assert set(fake_tools.containers()) == {"holder"}


def _config(port: int) -> str:
    return (
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n"
        f"  - {{containerPort: 80, hostPort: {port}, listenAddress: 127.0.0.1}}\n"
    )
