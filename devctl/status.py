"""`devctl status`: one look at the cluster, registry, ingress, hosts entry and every service.

One kubectl call reads nodes, Deployments, Pods, ConfigMaps, the admission webhook and EndpointSlices
of all namespaces together; it runs beside the two docker reads of ``devctl.cluster.observe`` (the node
containers, the registry container) and the hosts-file check. Everything is then judged by pure
functions, so each verdict is testable without a process.

Judgements:
- cluster: node containers exist and run (kind.md §4), the API answers, every node is Ready, and the
  spec stamped at creation (kind.md §7, ``devctl.cluster.spec``) matches the configuration (drift);
- registry: its container runs, published where the configuration says;
- ingress "admitting": the controller is available, the webhook's caBundle is patched and the admission
  Service's EndpointSlice has a ready address (ingress-nginx.md §3, steps 2-4);
- hosts: ``devctl.entry.status``'s verdict (``_hosts``);
- service: Deployment ``<name>`` in ``default`` has all desired replicas ready.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devctl.context import Context
from devctl.errors import CommandError, CommandTimeout, DevctlError
from devctl.parallel import gather, here, start

NAMESPACE = "default"
INGRESS_NS = "ingress-nginx"
INGRESS_CONTROLLER = "ingress-nginx-controller"
INGRESS_WEBHOOK = "ingress-nginx-admission"
ADMISSION_SERVICE = "ingress-nginx-controller-admission"
# One read for everything in the cluster that status judges.
RESOURCES = "nodes,deployments,pods,configmaps,validatingwebhookconfigurations,endpointslices"
KUBECTL_TIMEOUT = 20.0

# API access, as the kubectl read found it (same words as devctl.cluster.observe).
API_OK = "ok"
API_NO_CONTEXT = "no-context"
API_UNREACHABLE = "unreachable"
API_UNKNOWN = "unknown"


@dataclass(frozen=True)
class ClusterStatus:
    name: str
    context: str
    exists: bool | None  # node containers exist; None = Docker did not answer
    running: bool | None  # every node container runs
    api: str  # ok | no-context | unreachable | unknown
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
class RegistryStatus:
    name: str
    exists: bool | None
    running: bool | None
    host_port: int | None
    drift: tuple[str, ...]
    detail: str

    @property
    def ok(self) -> bool:
        return bool(self.exists and self.running and not self.drift)


@dataclass(frozen=True)
class IngressStatus:
    installed: bool | None
    controller_ready: bool | None
    admitting: bool | None
    detail: str

    @property
    def ok(self) -> bool:
        return self.admitting is True


@dataclass(frozen=True)
class HostsStatus:
    host: str
    ip: str
    state: str  # ok | missing | elsewhere (devctl.hosts.entry) | unknown
    detail: str

    @property
    def ok(self) -> bool:
        return self.state == "ok"


@dataclass(frozen=True)
class ServiceRow:
    name: str
    ready: int | None  # None: not known (the API did not answer)
    desired: int | None
    restarts: int | None
    age_seconds: int | None  # of the newest pod (time since the last rollout or restart of a pod)
    image: str
    deployed: bool | None

    @property
    def ok(self) -> bool:
        return bool(self.deployed and self.desired and self.ready is not None and self.ready >= self.desired)


@dataclass(frozen=True)
class StatusReport:
    cluster: ClusterStatus
    registry: RegistryStatus
    ingress: IngressStatus
    hosts: HostsStatus
    services: tuple[ServiceRow, ...]

    @property
    def healthy(self) -> bool:
        parts = (self.cluster.ok, self.registry.ok, self.ingress.ok, self.hosts.ok)
        return all(parts) and all(s.ok for s in self.services)

    def to_json(self) -> dict[str, Any]:
        """Stable keys (documented in the README); ``null`` means "not known"."""
        c, r, i, h = self.cluster, self.registry, self.ingress, self.hosts
        return {
            "healthy": self.healthy,
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
                "drift": list(r.drift),
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
            "services": [
                {
                    "name": s.name,
                    "deployed": s.deployed,
                    "ready": s.ready,
                    "desired": s.desired,
                    "restarts": s.restarts,
                    "age_seconds": s.age_seconds,
                    "image": s.image,
                    "ok": s.ok,
                }
                for s in self.services
            ],
        }


# --- pure judgements -------------------------------------------------------------------------------


def _ts(text: Any) -> datetime.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _ns(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def by_kind(items: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for it in items:
        out.setdefault(str(it.get("kind") or ""), []).append(it)
    return out


def service_rows(
    items: Iterable[Mapping[str, Any]], services: Sequence[str], now: datetime.datetime
) -> tuple[ServiceRow, ...]:
    """One row per service from Deployments and Pods (namespace default, pod label ``app: <name>``)."""
    kinds = by_kind(items)
    deps = {_name(d): d for d in kinds.get("Deployment", []) if _ns(d) == NAMESPACE}
    pods: dict[str, list[Mapping[str, Any]]] = {}
    for p in kinds.get("Pod", []):
        if _ns(p) == NAMESPACE:
            app = ((p.get("metadata") or {}).get("labels") or {}).get("app")
            if isinstance(app, str):
                pods.setdefault(app, []).append(p)
    rows = []
    for name in services:
        dep = deps.get(name)
        if dep is None:
            rows.append(ServiceRow(name, 0, 0, None, None, "", False))
            continue
        spec = dep.get("spec") or {}
        status = dep.get("status") or {}
        containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
        mine = pods.get(name, [])
        restarts = sum(
            int(cs.get("restartCount") or 0)
            for p in mine
            for cs in ((p.get("status") or {}).get("containerStatuses") or [])
        )
        stamps = [t for p in mine if (t := _ts((p.get("metadata") or {}).get("creationTimestamp")))]
        born = max(stamps) if stamps else _ts((dep.get("metadata") or {}).get("creationTimestamp"))
        age = max(0, int((now - born).total_seconds())) if born else None
        rows.append(
            ServiceRow(
                name=name,
                ready=int(status.get("readyReplicas") or 0),
                desired=int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1),
                restarts=restarts,
                age_seconds=age,
                image=str(containers[0].get("image") or ""),
                deployed=True,
            )
        )
    return tuple(rows)


def unknown_rows(services: Sequence[str]) -> tuple[ServiceRow, ...]:
    return tuple(ServiceRow(n, None, None, None, None, "", None) for n in services)


def node_counts(items: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    nodes = by_kind(items).get("Node", [])
    ready = 0
    for n in nodes:
        conds = (n.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
            ready += 1
    return ready, len(nodes)


def ingress_status(items: Iterable[Mapping[str, Any]]) -> IngressStatus:
    """ingress-nginx.md §3 steps 2-4: controller available, caBundle patched, admission endpoint ready."""
    kinds = by_kind(items)
    ctrl = next(
        (d for d in kinds.get("Deployment", []) if _ns(d) == INGRESS_NS and _name(d) == INGRESS_CONTROLLER), None
    )
    hook = next((w for w in kinds.get("ValidatingWebhookConfiguration", []) if _name(w) == INGRESS_WEBHOOK), None)
    if ctrl is None and hook is None:
        return IngressStatus(False, False, False, "ingress-nginx is not installed")
    if ctrl is None:
        # ingress-nginx.md §3 "Stale webhook configuration": every Ingress apply fails.
        return IngressStatus(True, False, False, f"webhook {INGRESS_WEBHOOK} is left without its controller")
    want = int((ctrl.get("spec") or {}).get("replicas", 1) or 1)
    available = int((ctrl.get("status") or {}).get("availableReplicas") or 0)
    ready = available >= want
    if not ready:
        return IngressStatus(True, False, False, f"controller not available ({available}/{want})")
    bundles = [str(((w.get("clientConfig") or {}).get("caBundle")) or "") for w in (hook or {}).get("webhooks") or []]
    if hook is not None and not all(bundles):
        return IngressStatus(True, True, False, "admission webhook's caBundle is not patched yet")
    slices = [
        s
        for s in kinds.get("EndpointSlice", [])
        if _ns(s) == INGRESS_NS
        and ((s.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name") == ADMISSION_SERVICE
    ]
    endpoint_ready = any(
        (e.get("conditions") or {}).get("ready") is True for s in slices for e in (s.get("endpoints") or [])
    )
    if hook is not None and not endpoint_ready:
        return IngressStatus(True, True, False, "admission Service has no ready endpoint yet")
    return IngressStatus(True, True, True, "")


def stamp_drift(items: Iterable[Mapping[str, Any]], cfg: Any) -> tuple[str, ...] | None:
    """What differs between the spec stamped into the cluster and the configuration (None: no stamp)."""
    try:
        from devctl.cluster import spec as cluster_spec
    except ImportError:
        return None
    cm = next(
        (
            c
            for c in by_kind(items).get("ConfigMap", [])
            if _ns(c) == cluster_spec.STAMP_NAMESPACE and _name(c) == cluster_spec.STAMP_NAME
        ),
        None,
    )
    stamp = cluster_spec.read_stamp(dict(cm)) if cm is not None else None
    if stamp is None:
        return None
    wanted = cluster_spec.ClusterSpec.from_config(cfg)
    diffs = cluster_spec.diff(stamp, wanted, cluster_spec.CLUSTER_FIELDS, "cluster")
    return tuple(d.describe() for d in diffs)


# --- observation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Api:
    state: str
    detail: str
    items: tuple[Mapping[str, Any], ...] = ()


def read_cluster(ctx: Context, resources: str = RESOURCES, *, all_namespaces: bool = True) -> _Api:
    """The one kubectl call. Never raises for a missing context or an API that does not answer."""
    args = ["get", resources]
    args += ["-A"] if all_namespaces else ["-n", NAMESPACE]
    args += ["-o", "json", "--request-timeout", "10s"]
    try:
        res = ctx.kubectl.read(*args, timeout=KUBECTL_TIMEOUT)
    except CommandTimeout as err:
        return _Api(API_UNREACHABLE, str(err))
    except CommandError as err:
        tail = err.output_tail(1)
        try:
            from devctl.cluster.observe import is_context_missing, is_unreachable
        except ImportError:
            return _Api(API_UNREACHABLE, tail)
        if is_context_missing(err):
            return _Api(API_NO_CONTEXT, tail)
        if is_unreachable(err):
            return _Api(API_UNREACHABLE, tail)
        raise DevctlError(f"reading the cluster through {ctx.kubectl.context} failed") from err
    try:
        items = json.loads(res.stdout or "{}").get("items") or []
    except (json.JSONDecodeError, AttributeError) as err:
        raise DevctlError(f"kubectl printed something that is not a JSON List for {ctx.kubectl.context}") from err
    return _Api(API_OK, "", tuple(i for i in items if isinstance(i, dict)))


def _start_docker_reads(ctx: Context) -> Callable[[], tuple[Any, Any, str]]:
    """Start the two docker reads of devctl.cluster.observe; the returned function gives (nodes, registry,
    error), error saying why they failed."""
    try:
        from devctl.cluster.observe import observe_nodes, observe_registry
        from devctl.cluster.spec import ClusterSpec
    except ImportError:
        return lambda: (None, None, "cluster observation is not available")
    spec = ClusterSpec.from_config(ctx.cfg)
    reads = (start(lambda: observe_nodes(ctx, spec)), start(lambda: observe_registry(ctx, spec)))

    def wait() -> tuple[Any, Any, str]:
        try:
            nodes, registry = gather(*reads)
        except DevctlError as err:  # DockerDown: one line, the daemon's own words
            return None, None, str(err)
        return nodes, registry, ""

    return wait


def _hosts(cfg: Any) -> HostsStatus:
    """The verdict of ``devctl.entry.status`` on cfg's hosts file, from the same read and judgement.

    Not through that function: for the system's file it also asks the resolver (a DNS query that may
    take up to 5 s when the entry is missing) and reads WSL's settings, for warnings status does not
    show; and importing devctl.hosts.entry would add its own records and imports to every `devctl status`.
    """
    try:
        from devctl.hosts import block, safe_write
    except ImportError:
        return HostsStatus(cfg.host, cfg.host_ip, "unknown", "hosts-file check is not available")
    path = cfg.hosts_file
    try:
        state, detail, _ = block.judge(
            safe_write.read_hosts(path), cfg.host, cfg.host_ip, cfg.cluster, path_hint=str(path)
        )
    except DevctlError as err:
        return HostsStatus(cfg.host, cfg.host_ip, "unknown", str(err))
    return HostsStatus(cfg.host, cfg.host_ip, state, "" if state == "ok" else detail)


def cluster_status(ctx: Context, api: _Api, nodes: Any, docker_error: str) -> ClusterStatus:
    cfg = ctx.cfg
    ready, total = node_counts(api.items)
    exists = None if nodes is None else bool(nodes)
    running = None if nodes is None else bool(nodes) and all(n.running for n in nodes)
    drift = stamp_drift(api.items, cfg) if api.state == API_OK else None
    if docker_error:
        detail = docker_error
    elif not exists:
        detail = f"there is no kind cluster named {cfg.cluster}"
    elif not running:
        detail = "stopped node(s): " + ", ".join(f"{n.name} ({n.state})" for n in nodes if not n.running)
    elif api.state != API_OK:
        detail = api.detail or f"the API of {cfg.context} does not answer"
    elif ready != total:
        detail = f"{total - ready} of {total} node(s) not Ready"
    elif drift:
        detail = "differs from the configuration: " + "; ".join(drift)
    else:
        detail = ""
    return ClusterStatus(cfg.cluster, cfg.context, exists, running, api.state, ready, total, drift, detail)


def registry_status(ctx: Context, registry: Any, docker_error: str) -> RegistryStatus:
    name = ctx.cfg.registry_name
    if docker_error:
        return RegistryStatus(name, None, None, None, (), docker_error)
    if registry is None:
        return RegistryStatus(name, False, False, None, (), f"no container named {name}")
    drift: tuple[str, ...] = ()
    try:
        from devctl.cluster.spec import ClusterSpec, registry_drift

        drift = tuple(d.describe() for d in registry_drift(ClusterSpec.from_config(ctx.cfg), registry))
    except ImportError:
        pass
    detail = "" if registry.running else f"container {name} is {registry.state}"
    if registry.running and drift:
        detail = "differs from the configuration: " + "; ".join(drift)
    return RegistryStatus(name, True, bool(registry.running), registry.host_port, drift, detail)


def _stack_services() -> Sequence[str]:
    from devctl.stack import SERVICES

    return SERVICES


def collect(ctx: Context, services: Sequence[str] | None = None) -> StatusReport:
    """Observe everything at once (threads) and judge it."""
    # The kubectl read starts first, the docker reads as soon as this thread has imported what they need;
    # while their processes run, this thread checks the hosts file. Only this thread imports and judges:
    # on several threads, imports contend for the GIL and delay the threads that are reading the output.
    api, (nodes, registry, docker_error), hosts, services = gather(
        start(lambda: read_cluster(ctx)),
        _start_docker_reads(ctx),
        here(lambda: _hosts(ctx.cfg)),
        here(lambda: _stack_services() if services is None else services),
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    if api.state == API_OK:
        rows = service_rows(api.items, services, now)
        ingress = ingress_status(api.items)
    else:
        rows = unknown_rows(services)
        ingress = IngressStatus(None, None, None, "the cluster's API does not answer")
    return StatusReport(
        cluster=cluster_status(ctx, api, nodes, docker_error),
        registry=registry_status(ctx, registry, docker_error),
        ingress=ingress,
        hosts=hosts,
        services=rows,
    )


def pod_counts(ctx: Context, services: Sequence[str]) -> dict[str, tuple[int, int, int]]:
    """Ready, desired and restarts per Deployment in ``default`` (the dev loop's table), one kubectl call."""
    api = read_cluster(ctx, "deployments,pods", all_namespaces=False)
    if api.state != API_OK:
        return {}
    now = datetime.datetime.now(datetime.timezone.utc)
    names = list(services) + sorted(
        {_name(d) for d in by_kind(api.items).get("Deployment", []) if _name(d) not in services}
    )
    rows = service_rows(api.items, names, now)
    return {r.name: (r.ready or 0, r.desired or 0, r.restarts or 0) for r in rows if r.deployed}


def age_text(seconds: int | None) -> str:
    """kubectl's AGE column style: 45s, 12m, 5h, 3d."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
