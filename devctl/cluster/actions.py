"""What the cluster step does to the cluster, one function per action (kind's create actions)."""

from __future__ import annotations

import re
import time
from enum import Enum

from devctl.cluster.host_ports import check_ports
from devctl.cluster.observe import Observed, observe_nodes
from devctl.cluster.plan import ClusterPlan
from devctl.cluster.spec import ClusterSpec, kind_config, knob
from devctl.context import Context
from devctl.errors import CommandError, DevctlError
from devctl.tools.docker import taken_port
from devctl.tools.kind import is_already_exists

API_WAIT_SECONDS = 120.0  # a node restarted by `docker start` boots kubelet and the API server again
API_POLL_INTERVAL = 1.0
KIND_CREATE_TIMEOUT = 900.0  # generous: the first create pulls the node image
RECREATE = "`devctl up --recreate` deletes and recreates the cluster"
# A failed export because of the user's kubeconfig file, not the cluster (never a reason to rebuild).
_KUBECONFIG_UNWRITABLE = re.compile(r"permission denied|read-only file system|lock", re.IGNORECASE)
# kind.md §3 / kind pkg/cluster/internal/kubeconfig: "failed to get cluster internal kubeconfig", with docker's
# "Container <id> is not running" (docker-kubectl.md §2) as the command's output when the node stopped.
_NODE_STOPPED = "is not running"


class Created(Enum):
    CREATED = "created"
    RACE = "race"  # another devctl created the same cluster first: use it


def delete(ctx: Context, spec: ClusterSpec, why: str) -> str:
    ctx.reporter.info(f"deleting cluster {spec.name}: {why}")
    ctx.kind.delete_cluster(spec.name)
    return "deleted the old cluster"


def show_create(ctx: Context, spec: ClusterSpec) -> None:
    """--dry-run: the kind config, and the create command (the runner prints it instead of running it)."""
    ctx.reporter.info(f"kind config for cluster {spec.name}:\n{kind_config(spec)}")
    ctx.kind.create_cluster(spec.name, kind_config(spec), image=spec.node_image)


def create(ctx: Context, spec: ClusterSpec) -> Created:
    """``kind create cluster``, after a last look that no cluster of that name exists."""
    # The docker ps probe already answered "does it exist" on every path (it reads the label kind reads,
    # kind.md §3); kind itself is asked only here, right before creating: it also sees a cluster kind runs
    # on another provider (KIND_EXPERIMENTAL_PROVIDER=podman|nerdctl, kind.md §2) that the probe cannot.
    if spec.name in ctx.kind.get_clusters():
        if observe_nodes(ctx, spec):
            return Created.RACE
        raise DevctlError(
            f"kind lists a cluster named {spec.name}, but Docker has no container for it",
            hint="kind is probably using another provider (KIND_EXPERIMENTAL_PROVIDER=podman or nerdctl): unset "
            f"it, or delete that cluster with `kind delete cluster --name {spec.name}`",
        )
    check_ports(ctx, spec, Observed(), ClusterPlan(create=True))  # again: our own old node may just have gone
    ctx.reporter.info(f"creating kind cluster {spec.name}; the first time this pulls the node image")
    try:
        ctx.kind.create_cluster(spec.name, kind_config(spec), image=spec.node_image, timeout=KIND_CREATE_TIMEOUT)
    except CommandError as err:
        if is_already_exists(err):  # kind.md §3.1 item 1: lost a race; treat as "exists"
            return Created.RACE
        raise create_failure(spec, err) from err
    return Created.CREATED


def create_failure(spec: ClusterSpec, err: CommandError) -> DevctlError:
    """kind's failed create, in one line: a node port taken since the check (kind.md §3.1 item 3: the node's
    `docker run` failed, in the words of whoever holds the port) names that port and its setting."""
    port = taken_port(err.stderr + err.stdout)
    fields = {spec.http_port: ("HTTP", "http_port"), spec.https_port: ("HTTPS", "https_port")}
    if port in fields:
        label, field = fields[port]
        return DevctlError(
            f"host port {port} ({label}) on {spec.listen_address} is already in use: kind could not publish it "
            f"for cluster {spec.name}",
            hint=f"stop what holds it, or pick another port with {knob(field)}=<port>",
        )
    return DevctlError(
        f"kind could not create cluster {spec.name}",
        hint=f"see kind's output below; if a port is taken, pick another with {knob('http_port')} / "
        f"{knob('https_port')}",
    )


def start_nodes(ctx: Context, nodes: tuple[str, ...]) -> str:
    try:
        ctx.docker.start(list(nodes))
    except CommandError as err:
        raise DevctlError(f"starting the stopped node(s) {', '.join(nodes)} failed", hint=RECREATE) from err
    return f"started {', '.join(nodes)}"


def wait_for_api(ctx: Context, spec: ClusterSpec) -> None:
    """Poll until the API answers or the deadline passes; the next observation judges the outcome."""
    ctx.reporter.info(f"waiting up to {API_WAIT_SECONDS:g} s for the API server of {spec.context}")
    deadline = time.monotonic() + API_WAIT_SECONDS
    while not ctx.kubectl.server_reachable(timeout=10.0) and time.monotonic() < deadline:
        time.sleep(API_POLL_INTERVAL)


def export_kubeconfig(ctx: Context, spec: ClusterSpec) -> str | None:
    """Restore the kube context; None when kind found no kubeconfig in the node (kubeadm never finished:
    the next plan treats the cluster as half-created)."""
    try:
        ctx.kind.export_kubeconfig(spec.name)
    except CommandError as err:
        text = err.stderr + err.stdout
        if _KUBECONFIG_UNWRITABLE.search(text):
            raise DevctlError(f"kind could not write {spec.context} into the kubeconfig") from err
        if _NODE_STOPPED in text:
            # kind reads the kubeconfig from the node (`docker exec ... cat /etc/kubernetes/admin.conf`): a node
            # that stopped meanwhile says nothing about an unfinished create, so nothing is rebuilt for it.
            raise DevctlError(
                f"the node of cluster {spec.name} stopped while its kube context was being restored",
                hint="run `devctl up` again: it starts stopped nodes first",
            ) from err
        return None
    return f"restored the kube context {spec.context}"
