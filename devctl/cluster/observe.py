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

# No `from __future__ import annotations` here: typing.NamedTuple compiles each string annotation into a
# ForwardRef, ~10 ms of CPU for the records every `devctl status` imports (measured); these are real.

import json
import re
from typing import Any, NamedTuple

from devctl.cluster.spec import REGISTRY_CONTAINER_PORT, STAMP_NAME, STAMP_NAMESPACE, ClusterSpec, read_stamp
from devctl.context import Context
from devctl.errors import CommandError, CommandTimeout, DevctlError

# API access, as the kubectl read found it.
OK = "ok"
NO_CONTEXT = "no-context"  # kubeconfig has no kind-<name> context (kind.md §8 "Kubeconfig entry lost")
UNREACHABLE = "unreachable"  # the context exists but the API server does not answer
UNKNOWN = "unknown"  # not asked: no nodes, or not all of them run

HOSTING_NAME = "local-registry-hosting"  # KEP-1755 (kind.md §6 step 5)
HOSTING_KEY = "localRegistryHosting.v1"

KUBECTL_READ_TIMEOUT = 20.0


# The records here are NamedTuples, not frozen dataclasses: every `devctl status` and `up` imports this
# module, and a dataclass costs ~1 ms to create at import (its methods are generated with exec).


class NodeState(NamedTuple):
    name: str
    state: str  # docker's State: running, exited, created, paused, restarting, removing, dead (kind.md §4)

    @property
    def running(self) -> bool:
        return self.state == "running"


class RegistryState(NamedTuple):
    name: str
    state: str
    image: str
    networks: tuple[str, ...]
    host_ip: str | None  # where container port 5000 is published; None = not published
    host_port: int | None

    @property
    def running(self) -> bool:
        return self.state == "running"


class Observed(NamedTuple):
    nodes: tuple[NodeState, ...] = ()
    registry: RegistryState | None = None
    access: str = UNKNOWN
    access_detail: str = ""
    stamp: dict[str, Any] | None = None  # the spec devctl stamped, when the API answered and it exists
    hosting: dict[str, Any] | None = None  # the KEP-1755 value, when the API answered and it exists

    def to_json(self) -> dict[str, Any]:
        return {
            "exists": bool(self.nodes),
            "nodes": [n._asdict() for n in self.nodes],
            "api": self.access,
            "api_detail": self.access_detail,
            "stamp": self.stamp,
            "registry": self.registry._asdict() if self.registry else None,
            "registry_hosting": self.hosting,
        }


# --- kubectl's failure texts, in one place (style.md Avoid 4) ----------------------------------------

# client-go's clientcmd says "context was not found for specified context: X" (kind#3034 shows it from
# kubectl); `context "X" does not exist` is the other wording clientcmd has; both are accepted.
# A pattern, compiled on first use (re caches it): only a failed read needs it.
_CONTEXT_MISSING = (
    r"context was not found for specified context"
    r'|context "[^"]*" does not exist'
    r"|no context exists with the name"
)
# kind.md §8 / the fake: "The connection to the server 127.0.0.1:NNNN was refused"; the others are
# kubectl's wordings for an address that does not answer at all.
_UNREACHABLE = (
    "The connection to the server",
    "Unable to connect to the server",
    "connection refused",
    "i/o timeout",
    "deadline exceeded",
    "handshake timeout",
)


def is_context_missing(err: CommandError) -> bool:
    return bool(re.search(_CONTEXT_MISSING, err.stderr + err.stdout))


def is_unreachable(err: CommandError) -> bool:
    text = err.stderr + err.stdout
    return any(m in text for m in _UNREACHABLE)


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


class ClusterObjects(NamedTuple):
    access: str
    detail: str = ""
    stamp: dict[str, Any] | None = None
    hosting: dict[str, Any] | None = None


def read_hosting(configmap: dict[str, Any]) -> dict[str, Any] | None:
    raw = (configmap.get("data") or {}).get(HOSTING_KEY)
    if not isinstance(raw, str):
        return None
    simple = _quoted_lines(raw)
    if simple is not None:
        return simple
    import yaml

    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return None
    return value if isinstance(value, dict) else None


_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}  # keys YAML 1.1 reads as non-strings


def _quoted_lines(raw: str) -> dict[str, Any] | None:
    """``key: "value"`` lines, as devctl writes the KEP value (and kind's docs show it), read without a
    YAML parser (importing PyYAML was ~10 ms of every warm `devctl up`); None for anything else. A JSON
    string is a YAML double-quoted scalar with the same meaning, so both parsers agree on what this takes."""
    out: dict[str, Any] = {}
    for line in raw.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(": ")
        if not sep or not _PLAIN_KEY.fullmatch(key) or key.lower() in _YAML_WORDS or not value.startswith('"'):
            return None
        try:
            out[key] = json.loads(value)
        except ValueError:
            return None
    return out or None


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
        tail = err.output_tail(1)
        if is_context_missing(err):
            return ClusterObjects(NO_CONTEXT, tail)
        if is_unreachable(err):
            return ClusterObjects(UNREACHABLE, tail)
        raise DevctlError(f"reading the ConfigMaps in {STAMP_NAMESPACE} of {ctx.kubectl.context} failed") from err
    try:
        items = json.loads(res.stdout or "{}").get("items") or []
    except json.JSONDecodeError as err:
        raise DevctlError(f"kubectl printed something that is not JSON for {ctx.kubectl.context}") from err
    by_name = {str((i.get("metadata") or {}).get("name")): i for i in items if isinstance(i, dict)}
    stamp = read_stamp(by_name[STAMP_NAME]) if STAMP_NAME in by_name else None
    hosting = read_hosting(by_name[HOSTING_NAME]) if HOSTING_NAME in by_name else None
    return ClusterObjects(OK, "", stamp, hosting)


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
    from devctl.parallel import in_parallel

    cluster, registry = in_parallel(lambda: observe_cluster(ctx, spec), lambda: observe_registry(ctx, spec))
    seen: Observed = cluster._replace(registry=registry)
    return seen


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
