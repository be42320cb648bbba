"""devctl.tools.kind against the fake kind: kind's failures that are Docker's are said as Docker's (one
judge of that fact, devctl.tools.docker), whichever way kind wraps them (kind.md §2; kind's create says
"failed to get docker info", delete "error listing nodes")."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devctl import config
from devctl.cluster import actions
from devctl.cluster.spec import ClusterSpec
from devctl.context import Context
from devctl.errors import DevctlError
from devctl.report import SilentReporter
from devctl.runner import Runner
from devctl.tools.docker import DockerAccessDenied, DockerDown
from devctl.tools.kind import Kind
from tests.conftest import FakeWorld
from tests.stack_world import create_cluster

CALLS: dict[str, Callable[[Kind], object]] = {
    "create": lambda k: k.create_cluster("tour", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n"),
    "delete": lambda k: k.delete_cluster("tour"),
    "export": lambda k: k.export_kubeconfig("tour"),
    "get clusters": lambda k: k.get_clusters(),
}


@pytest.mark.parametrize("call", CALLS, ids=list(CALLS))
def test_docker_down_behind_any_kind_command_is_docker_down(fake_tools: FakeWorld, call: str) -> None:
    fake_tools.docker_down()
    with pytest.raises(DockerDown) as down:
        CALLS[call](Kind(Runner()))
    assert "Cannot connect to the Docker daemon" in down.value.message


def test_no_access_to_the_socket_behind_kind_is_access_denied(fake_tools: FakeWorld) -> None:
    fake_tools.docker_denied()
    with pytest.raises(DockerAccessDenied):
        Kind(Runner()).delete_cluster("tour")


def test_a_node_that_stopped_while_its_context_was_restored_is_not_taken_for_a_half_created_cluster(
    fake_tools: FakeWorld,
) -> None:
    create_cluster()
    fake_tools.stop_container("tour-control-plane")
    ctx = Context.create(config.load({}, cwd=fake_tools.root), reporter=SilentReporter())
    with pytest.raises(DevctlError) as refused:
        actions.export_kubeconfig(ctx, ClusterSpec.from_config(ctx.cfg))
    assert refused.value.message == "the node of cluster tour stopped while its kube context was being restored"
    assert refused.value.hint == "run `devctl up` again: it starts stopped nodes first"
