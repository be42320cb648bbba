"""`devctl status`: one look at the cluster, registry, ingress, hosts entry and every service.

One kubectl call reads nodes, Deployments, Pods, Services, ConfigMaps, EndpointSlices and the admission
webhook of all namespaces together; it runs beside the two docker reads of ``devctl.cluster.observe``
(the node containers, the registry container) and the hosts-file check. Each part is then judged by
the module that owns the fact, from that one reading:

- cluster: node containers exist and run (kind.md §4), the API answers, every node is Ready, and the
  spec stamped at creation (kind.md §7, ``devctl.cluster.spec``) matches the configuration (drift);
- registry: its container runs, published where the configuration says (``devctl.cluster.plan``);
- ingress: the controller's own verdict (``devctl.ingress``), the one ``devctl up`` waits for;
- hosts: ``devctl.hosts.entry``'s verdict on the file;
- service: Deployment ``<name>`` in ``default`` has all desired replicas ready (and so has every other Deployment
  there: the infrastructure ``devctl up`` applies, MongoDB, Redis, NATS); when not, ``reason`` says why
  (``devctl.pod_reasons``, from the same reading, plus the crashed containers' last log lines and failing
  probes' events for those services only: a healthy stack costs one kubectl call).
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from devctl.cluster.observe import NodeState, RegistryState, observe_nodes, observe_registry
from devctl.cluster.plan import registry_drift
from devctl.cluster.spec import CLUSTER_FIELDS, STAMP_NAME, STAMP_NAMESPACE, ClusterSpec, diff, read_stamp
from devctl.config import Config
from devctl.context import Context
from devctl.deployment_health import (
    NAMESPACE,
    ServiceRow,
    by_kind,
    name_of,
    namespace_of,
    other_deployments,
    service_rows,
    unknown_rows,
    with_reasons,
)
from devctl.engine import products
from devctl.errors import CommandError, CommandTimeout, DevctlError
from devctl.hosts import entry as hosts_entry
from devctl.ingress import controller_for
from devctl.stack import SERVICES
from devctl.tools.docker import DockerInfo
from devctl.tools.kubectl import API_OK, UNREACHABLE, ApiAccess, cluster_unreachable

# One read for everything in the cluster that status judges.
RESOURCES = "nodes,deployments,pods,services,configmaps,validatingwebhookconfigurations,endpointslices"
KUBECTL_TIMEOUT = 20.0


@dataclass(frozen=True)
class ClusterHealth:
    name: str
    context: str
    exists: bool | None  # node containers exist; None = Docker did not answer
    running: bool | None  # every node container runs
    api: ApiAccess
    nodes_ready: int
    nodes_total: int
    drift: tuple[str, ...] | None  # differences from the configuration; None = not known (no stamp)
    detail: str

    @property
    def ok(self) -> bool:
        return bool(
            self.exists
            and self.running
            and self.api == API_OK
            and self.nodes_total > 0
            and self.nodes_ready == self.nodes_total
            and not self.drift
        )


@dataclass(frozen=True)
class RegistryHealth:
    name: str
    exists: bool | None
    running: bool | None
    host_port: int | None
    drift: tuple[str, ...] | None  # None: not known (no registry, or Docker did not answer)
    detail: str

    @property
    def ok(self) -> bool:
        return bool(self.exists and self.running and not self.drift)


@dataclass(frozen=True)
class IngressHealth:
    installed: bool | None
    controller_ready: bool | None
    admitting: bool | None
    detail: str

    @property
    def ok(self) -> bool:
        return self.admitting is True


@dataclass(frozen=True)
class HostsHealth:
    host: str
    ip: str
    state: str  # ok | missing | elsewhere (devctl.hosts.entry) | unknown
    detail: str

    @property
    def ok(self) -> bool:
        return self.state == "ok"


@dataclass(frozen=True)
class StatusReport:
    cluster: ClusterHealth
    registry: RegistryHealth
    ingress: IngressHealth
    hosts: HostsHealth
    services: tuple[ServiceRow, ...]
    infrastructure: tuple[ServiceRow, ...] = ()  # the other Deployments in the namespace (MongoDB, Redis, NATS)
    engine: EngineName | None = None  # None: the engine did not answer

    @property
    def healthy(self) -> bool:
        parts = (self.cluster.ok, self.registry.ok, self.ingress.ok, self.hosts.ok)
        return all(parts) and all(s.ok for s in (*self.services, *self.infrastructure))

    @property
    def next_step(self) -> str | None:
        """What to run about the first part that is not healthy; None when all is."""
        if not (self.cluster.ok and self.registry.ok and self.ingress.ok):
            return "run `devctl up`: it creates or repairs the cluster, the registry and the ingress"
        if not self.hosts.ok:
            return "run `devctl hosts add` to map the host in the hosts file (`devctl up` does it too)"
        if any(s.deployed is False for s in self.services):
            return "run `devctl up` (or `devctl dev` on this cluster) to deploy the services"
        failing = [s.name for s in self.services if not s.ok]
        if failing:
            return f"see why with `devctl logs {' '.join(failing)}`"
        if any(not s.ok for s in self.infrastructure):
            return "run `devctl up` to apply the databases, Redis and NATS (each row says why it waits)"
        return None

    def to_json(self) -> dict[str, Any]:
        """Stable keys (documented in the README); ``null`` means "not known"."""
        c, r, i, h = self.cluster, self.registry, self.ingress, self.hosts
        return {
            "healthy": self.healthy,
            "next_step": self.next_step,
            "cluster": {
                "name": c.name,
                "context": c.context,
                "exists": c.exists,
                "running": c.running,
                "api": c.api,
                "nodes_ready": c.nodes_ready,
                "nodes_total": c.nodes_total,
                "drift": None if c.drift is None else list(c.drift),
                "ok": c.ok,
                "detail": c.detail,
            },
            "registry": {
                "name": r.name,
                "exists": r.exists,
                "running": r.running,
                "host_port": r.host_port,
                "drift": None if r.drift is None else list(r.drift),
                "ok": r.ok,
                "detail": r.detail,
            },
            "ingress": {
                "installed": i.installed,
                "controller_ready": i.controller_ready,
                "admitting": i.admitting,
                "ok": i.ok,
                "detail": i.detail,
            },
            "hosts": {"host": h.host, "ip": h.ip, "state": h.state, "ok": h.ok, "detail": h.detail},
            "services": [s.to_json() for s in self.services],
            "infrastructure": [s.to_json() for s in self.infrastructure],
            "engine": None if self.engine is None else {"name": self.engine.name, "context": self.engine.context},
        }


# --- pure judgements -------------------------------------------------------------------------------


def node_counts(items: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    nodes = by_kind(items).get("Node", [])
    ready = 0
    for n in nodes:
        conds = (n.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
            ready += 1
    return ready, len(nodes)


def stamp_drift(items: Iterable[Mapping[str, Any]], cfg: Config) -> tuple[str, ...] | None:
    """What differs between the spec stamped into the cluster and the configuration (None: no stamp)."""
    maps = by_kind(items).get("ConfigMap", [])
    cm = next((c for c in maps if namespace_of(c) == STAMP_NAMESPACE and name_of(c) == STAMP_NAME), None)
    stamp = read_stamp(dict(cm)) if cm is not None else None
    if stamp is None:
        return None
    return tuple(d.describe() for d in diff(stamp, ClusterSpec.from_config(cfg), CLUSTER_FIELDS, "cluster"))


# --- observation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiReading:
    access: ApiAccess
    detail: str
    items: tuple[Mapping[str, Any], ...] = ()


def read_cluster(ctx: Context, resources: str = RESOURCES, *, all_namespaces: bool = True) -> ApiReading:
    """The one kubectl call. Never raises for a missing context or an API that does not answer."""
    args = ["get", resources]
    args += ["-A"] if all_namespaces else ["-n", NAMESPACE]
    args += ["-o", "json", "--request-timeout", "10s"]
    try:
        res = ctx.kubectl.read(*args, timeout=KUBECTL_TIMEOUT)
    except CommandTimeout as err:
        return ApiReading(UNREACHABLE, str(err))
    except CommandError as err:
        access = cluster_unreachable(err.stderr + err.stdout)
        if access is not None:
            return ApiReading(access, err.output_tail(1))
        raise DevctlError(f"reading the cluster through {ctx.kubectl.context} failed") from err
    try:
        items = json.loads(res.stdout or "{}").get("items") or []
    except (json.JSONDecodeError, AttributeError) as err:
        raise DevctlError(f"kubectl printed something that is not a JSON List for {ctx.kubectl.context}") from err
    return ApiReading(API_OK, "", tuple(i for i in items if isinstance(i, dict)))


@dataclass(frozen=True)
class EngineName:
    """The engine `docker info` names (devctl.engine.products) and the docker CLI's context."""

    name: str
    context: str

    @classmethod
    def of(cls, info: DockerInfo) -> EngineName:
        kind = products.classify(
            "", info.context, sys.platform, (info.operating_system, info.name, info.product_license)
        )
        return cls(products.NAMES[kind], info.context)


def read_engine(ctx: Context) -> EngineName | None:
    try:
        return EngineName.of(ctx.docker.info())
    except DevctlError:
        return None  # the node and registry reads say why, in the daemon's words


@dataclass(frozen=True)
class DockerReading:
    nodes: tuple[NodeState, ...] | None  # None: Docker did not answer (``error`` says why)
    registry: RegistryState | None
    error: str = ""


def read_docker(ctx: Context, pool: ThreadPoolExecutor) -> DockerReading:
    """The node containers and the registry container, the same two reads ``devctl up`` makes."""
    spec = ClusterSpec.from_config(ctx.cfg)
    nodes, registry = pool.submit(observe_nodes, ctx, spec), pool.submit(observe_registry, ctx, spec)
    try:
        return DockerReading(nodes.result(), registry.result())
    except DevctlError as err:  # DockerDown: one line, the daemon's own words
        return DockerReading(None, None, str(err))


def hosts_health(cfg: Config) -> HostsHealth:
    """The hosts file's verdict (``devctl.hosts.entry.status``) without asking the resolver: a DNS query
    may take seconds when the entry is missing, and status shows the file's verdict only."""
    try:
        st = hosts_entry.status(cfg, resolver=None)
    except DevctlError as err:
        return HostsHealth(cfg.host, cfg.host_ip, "unknown", str(err))
    return HostsHealth(cfg.host, cfg.host_ip, st.state, "" if st.ok else st.detail)


def cluster_health(cfg: Config, api: ApiReading, docker: DockerReading) -> ClusterHealth:
    ready, total = node_counts(api.items)
    nodes = docker.nodes
    exists = None if nodes is None else bool(nodes)
    running = None if nodes is None else bool(nodes) and all(n.running for n in nodes)
    drift = stamp_drift(api.items, cfg) if api.access == API_OK else None
    if docker.error:
        detail = docker.error
    elif not nodes:
        detail = f"there is no kind cluster named {cfg.cluster}"
    elif not running:
        detail = "stopped node(s): " + ", ".join(f"{n.name} ({n.state})" for n in nodes if not n.running)
    elif api.access != API_OK:
        detail = api.detail or f"the API of {cfg.context} does not answer"
    elif ready != total:
        detail = f"{total - ready} of {total} node(s) not Ready"
    elif drift:
        detail = "differs from the configuration: " + "; ".join(drift)
    else:
        detail = ""
    return ClusterHealth(cfg.cluster, cfg.context, exists, running, api.access, ready, total, drift, detail)


def registry_health(cfg: Config, docker: DockerReading) -> RegistryHealth:
    name = cfg.registry_name
    registry = docker.registry
    if docker.error:
        return RegistryHealth(name, None, None, None, None, docker.error)
    if registry is None:
        return RegistryHealth(name, False, False, None, None, f"no container named {name}")
    drift = tuple(d.describe() for d in registry_drift(ClusterSpec.from_config(cfg), registry))
    detail = "" if registry.running else f"container {name} is {registry.state}"
    if registry.running and drift:
        detail = "differs from the configuration: " + "; ".join(drift)
    return RegistryHealth(name, True, registry.running, registry.host_port, drift, detail)


def ingress_health(cfg: Config, api: ApiReading) -> IngressHealth:
    if api.access != API_OK:
        return IngressHealth(None, None, None, "the cluster's API does not answer")
    state = controller_for(cfg).judge(api.items, cfg.ingress_version)
    return IngressHealth(state.installed, state.controller_ready, state.admitting, state.detail)


def collect(ctx: Context, services: Sequence[str] = SERVICES) -> StatusReport:
    """Observe everything at once and judge it."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        api = pool.submit(read_cluster, ctx)
        engine = pool.submit(read_engine, ctx)
        docker = read_docker(ctx, pool)
        hosts = hosts_health(ctx.cfg)
        reading = api.result()
    now = datetime.datetime.now(datetime.timezone.utc)
    rows = unknown_rows(services)
    stores: tuple[ServiceRow, ...] = ()
    if reading.access == API_OK:
        others = other_deployments(reading.items, services)
        judged = with_reasons(ctx, service_rows(reading.items, [*services, *others], now), reading.items)
        rows, stores = judged[: len(services)], judged[len(services) :]
    return StatusReport(
        cluster=cluster_health(ctx.cfg, reading, docker),
        registry=registry_health(ctx.cfg, docker),
        ingress=ingress_health(ctx.cfg, reading),
        hosts=hosts,
        services=rows,
        infrastructure=stores,
        engine=engine.result(),
    )


def pod_counts(ctx: Context, services: Sequence[str]) -> dict[str, tuple[int, int, int, str | None]]:
    """Ready, desired, restarts and the reason it is not ready per Deployment in ``default`` (the dev loop's
    table): one kubectl call, plus the reasons' reads while a service is not ready."""
    api = read_cluster(ctx, "deployments,pods,nodes", all_namespaces=False)
    if api.access != API_OK:
        return {}
    now = datetime.datetime.now(datetime.timezone.utc)
    names = [*services, *other_deployments(api.items, services)]
    rows = with_reasons(ctx, service_rows(api.items, names, now), api.items)
    return {r.name: (r.ready or 0, r.desired or 0, r.restarts or 0, r.reason) for r in rows if r.deployed}
