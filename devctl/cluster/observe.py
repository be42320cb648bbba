"""What exists now: node containers, the registry container, and devctl's ConfigMaps in the cluster.

Three reads answer everything on a warm machine (the budget is 3 calls for the cluster part of `up`):

1. ``docker ps -a --filter label=io.x-k8s.kind.cluster=<name>`` (kind.md §4): whether the cluster exists
   and the state of each node. It reads the same label ``kind get clusters`` reads (kind.md §3), and it
   fails with Docker's own daemon-down text (kind.md §2).
2. ``docker inspect <registry>``: state, image, networks and published port in one call.
3. ``kubectl --context kind-<name> get configmaps -n kube-public -o json``: the stamp and the KEP-1755
   ConfigMap in one call; a failure says whether the context is missing or the API is not answering.
   Only asked when every node runs (a stopped node cannot answer).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import Any

import yaml

from devctl.cluster.spec import REGISTRY_CONTAINER_PORT, STAMP_NAME, STAMP_NAMESPACE, ClusterSpec, read_stamp
from devctl.context import Context
from devctl.errors import CommandError, CommandTimeout, DevctlError
from devctl.tools.kubectl import API_OK, NOT_ASKED, UNREACHABLE, ApiAccess, cluster_unreachable

HOSTING_NAME = "local-registry-hosting"  # KEP-1755 (kind.md §6 step 5)
HOSTING_KEY = "localRegistryHosting.v1"

KUBECTL_READ_TIMEOUT = 20.0


@dataclass(frozen=True)
class NodeState:
    name: str
    state: str  # docker's State: running, exited, created, paused, restarting, removing, dead (kind.md §4)

    @property
    def running(self) -> bool:
        return self.state == "running"


@dataclass(frozen=True)
class RegistryState:
    name: str
    state: str
    image: str
    networks: tuple[str, ...]
    host_ip: str | None  # where container port 5000 is published; None = not published
    host_port: int | None

    @property
    def running(self) -> bool:
        return self.state == "running"


@dataclass(frozen=True)
class Observed:
    nodes: tuple[NodeState, ...] = ()
    registry: RegistryState | None = None
    access: ApiAccess = NOT_ASKED
    access_detail: str = ""
    stamp: dict[str, Any] | None = None  # the spec devctl stamped, when the API answered and it exists
    hosting: dict[str, Any] | None = None  # the KEP-1755 value, when the API answered and it exists

    def to_json(self) -> dict[str, Any]:
        return {
            "exists": bool(self.nodes),
            "nodes": [asdict(n) for n in self.nodes],
            "api": self.access,
            "api_detail": self.access_detail,
            "stamp": self.stamp,
            "registry": asdict(self.registry) if self.registry else None,
            "registry_hosting": self.hosting,
        }


# --- the three reads --------------------------------------------------------------------------------


def observe_nodes(ctx: Context, spec: ClusterSpec) -> tuple[NodeState, ...]:
    """The cluster's node containers, stopped ones too (kind.md §4 probe). Raises DockerUnavailable."""
    rows = ctx.docker.containers(spec.node_label)
    return tuple(NodeState(name, state) for name, state in sorted(rows))


def registry_state(name: str, info: dict[str, Any]) -> RegistryState:
    st = info.get("State") or {}
    state = str(st.get("Status") or ("running" if st.get("Running") else "exited"))
    nets = tuple(sorted((info.get("NetworkSettings") or {}).get("Networks") or {}))
    host_ip: str | None = None
    host_port: int | None = None
    for key, bindings in ((info.get("HostConfig") or {}).get("PortBindings") or {}).items():
        if str(key).split("/")[0] != str(REGISTRY_CONTAINER_PORT):
            continue
        for b in bindings or []:
            if str(b.get("HostPort", "")).isdigit():
                host_ip, host_port = str(b.get("HostIp") or "0.0.0.0"), int(b["HostPort"])
                break
    image = str((info.get("Config") or {}).get("Image") or "")
    return RegistryState(name, state, image, nets, host_ip, host_port)


def observe_registry(ctx: Context, spec: ClusterSpec) -> RegistryState | None:
    """The registry container, or None when there is none. Raises DockerUnavailable."""
    info = ctx.docker.inspect(spec.registry_name)
    return None if info is None else registry_state(spec.registry_name, info)


@dataclass(frozen=True)
class ClusterObjects:
    access: ApiAccess
    detail: str = ""
    stamp: dict[str, Any] | None = None
    hosting: dict[str, Any] | None = None


def read_hosting(configmap: dict[str, Any]) -> dict[str, Any] | None:
    """The KEP-1755 value (a YAML document in the ConfigMap's data), or None when it is not a mapping."""
    raw = (configmap.get("data") or {}).get(HOSTING_KEY)
    if not isinstance(raw, str):
        return None
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return None
    return value if isinstance(value, dict) else None


def observe_objects(ctx: Context) -> ClusterObjects:
    """The stamp and the KEP-1755 ConfigMap, in one kubectl call pinned to kind-<name>."""
    try:
        res = ctx.kubectl.read(
            "get",
            "configmaps",
            "-n",
            STAMP_NAMESPACE,
            "-o",
            "json",
            "--request-timeout",
            "10s",
            timeout=KUBECTL_READ_TIMEOUT,
        )
    except CommandTimeout as err:
        return ClusterObjects(UNREACHABLE, str(err))
    except CommandError as err:
        access = cluster_unreachable(err.stderr + err.stdout)
        if access is not None:
            return ClusterObjects(access, err.output_tail(1))
        raise DevctlError(f"reading the ConfigMaps in {STAMP_NAMESPACE} of {ctx.kubectl.context} failed") from err
    try:
        items = json.loads(res.stdout or "{}").get("items") or []
    except json.JSONDecodeError as err:
        raise DevctlError(f"kubectl printed something that is not JSON for {ctx.kubectl.context}") from err
    by_name = {str((i.get("metadata") or {}).get("name")): i for i in items if isinstance(i, dict)}
    stamp = read_stamp(by_name[STAMP_NAME]) if STAMP_NAME in by_name else None
    hosting = read_hosting(by_name[HOSTING_NAME]) if HOSTING_NAME in by_name else None
    return ClusterObjects(API_OK, "", stamp, hosting)


def observe_cluster(ctx: Context, spec: ClusterSpec, registry: RegistryState | None = None) -> Observed:
    """Nodes, then (only when all of them run) what the API says."""
    nodes = observe_nodes(ctx, spec)
    if not nodes or not all(n.running for n in nodes):
        return Observed(nodes=nodes, registry=registry)
    objs = observe_objects(ctx)
    return Observed(nodes, registry, objs.access, objs.detail, objs.stamp, objs.hosting)


def observe(ctx: Context, spec: ClusterSpec) -> Observed:
    """Everything the plan needs: 2 calls without a running cluster, 3 with one. The registry read runs
    beside the cluster's (which may take two calls in a row): on a cold `up` this is the critical path."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        registry = pool.submit(observe_registry, ctx, spec)
        cluster = observe_cluster(ctx, spec)
        return replace(cluster, registry=registry.result())


def published_ports(ctx: Context, names: list[str]) -> set[int]:
    """Host ports published by these containers (to tell our own bindings from another process's)."""
    ports: set[int] = set()
    for name in names:
        try:
            info = ctx.docker.inspect(name)
        except CommandError:
            continue
        for bindings in ((info or {}).get("HostConfig", {}).get("PortBindings") or {}).values():
            for b in bindings or []:
                if str(b.get("HostPort", "")).isdigit():
                    ports.add(int(b["HostPort"]))
    return ports
