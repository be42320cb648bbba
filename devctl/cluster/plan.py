"""Pure decisions: from the wanted spec and what was observed to named actions, each with its reason.

No I/O here (tested with parametrize tables). Three planners, one per step, and ``plan`` joining them:

- ``plan_cluster``: create, start stopped nodes, wait for the API, export the kubeconfig, stamp, or
  report drift. It is called again after each action that reveals more (a stopped node cannot tell
  its stamp), with ``after`` naming what was already done in this run.
- ``plan_registry``: run, start or (only with --recreate) replace the registry container.
- ``plan_link``: connect the registry to the ``kind`` network, write hosts.toml into the nodes and
  publish the KEP-1755 ConfigMap.

Never destructive without a reason the user allowed: drift is reported and rebuilt only with
--recreate. The one exception is a cluster devctl never finished creating (see ``plan_cluster``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from devctl.cluster.observe import NodeState, Observed, RegistryState
from devctl.cluster.spec import (
    CLUSTER_FIELDS,
    REGISTRY_CONTAINER_PORT,
    REGISTRY_LISTEN_ADDRESS,
    STAMP_NAME,
    STAMP_NAMESPACE,
    ClusterSpec,
    FieldDiff,
    diff,
)
from devctl.tools.kubectl import API_OK, NO_CONTEXT

# docker states `docker start` brings back (kind.md §4 lists them all).
STARTABLE = ("exited", "created")
RECREATE_HINT = "`devctl up --recreate` deletes and recreates it"


@dataclass(frozen=True)
class ClusterPlan:
    """The cluster's next actions and why."""

    create: bool = False
    delete: bool = False  # delete the existing nodes first (before create)
    recreate: bool = False  # that delete rebuilds a cluster the user asked to rebuild (--recreate)
    start_nodes: tuple[str, ...] = ()
    wait_api: bool = False
    export_kubeconfig: bool = False
    reobserve: bool = False  # act, then look and plan again (a stopped node cannot tell its stamp)
    stamp: bool = False
    drift: tuple[FieldDiff, ...] = ()
    blocked: str | None = None  # a state devctl will not fix on its own
    hint: str | None = None
    reasons: tuple[str, ...] = ()

    @property
    def actions(self) -> bool:
        return bool(
            self.create or self.delete or self.start_nodes or self.wait_api or self.export_kubeconfig or self.stamp
        )


@dataclass(frozen=True)
class RegistryPlan:
    """The registry container's next action and why."""

    run_registry: bool = False
    start_registry: bool = False
    replace_registry: bool = False
    drift: tuple[FieldDiff, ...] = ()
    blocked: str | None = None
    hint: str | None = None
    reasons: tuple[str, ...] = ()

    @property
    def actions(self) -> bool:
        return self.run_registry or self.start_registry or self.replace_registry


@dataclass(frozen=True)
class LinkPlan:
    """What wires the registry into the cluster, and why."""

    connect_registry: bool = False
    configure_nodes: tuple[str, ...] = ()
    publish_configmap: bool = False
    reasons: tuple[str, ...] = ()

    @property
    def actions(self) -> bool:
        return self.connect_registry or bool(self.configure_nodes) or self.publish_configmap


@dataclass(frozen=True)
class Plan:
    """The three plans for one observation: what `devctl up` would do (``cluster status`` shows it)."""

    cluster: ClusterPlan
    registry: RegistryPlan
    link: LinkPlan

    @property
    def drift(self) -> tuple[FieldDiff, ...]:
        return self.cluster.drift + self.registry.drift

    @property
    def blocked(self) -> str | None:
        return "; ".join(b for b in (self.cluster.blocked, self.registry.blocked) if b) or None

    @property
    def hint(self) -> str | None:
        return "; ".join(h for h in (self.cluster.hint, self.registry.hint) if h) or None

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.cluster.reasons + self.registry.reasons + self.link.reasons

    @property
    def noop(self) -> bool:
        return not (self.cluster.actions or self.registry.actions or self.link.actions or self.blocked)

    def to_json(self) -> dict[str, Any]:
        cluster, registry, link = asdict(self.cluster), asdict(self.registry), asdict(self.link)
        return {
            **{k: v for k, v in cluster.items() if k not in ("drift", "blocked", "hint", "reasons")},
            **{k: v for k, v in registry.items() if k not in ("drift", "blocked", "hint", "reasons")},
            **{k: v for k, v in link.items() if k != "reasons"},
            "drift": [d.to_json() for d in self.drift],
            "blocked": self.blocked,
            "hint": self.hint,
            "reasons": list(self.reasons),
            "noop": self.noop,
        }


def _rebuild(reason: str, *, recreate: bool = False) -> ClusterPlan:
    return ClusterPlan(delete=True, create=True, stamp=True, recreate=recreate, reasons=(reason,))


def _rebuild_or_block(problem: str, recreate: bool, drift: tuple[FieldDiff, ...] = ()) -> ClusterPlan:
    if recreate:
        return replace(_rebuild(f"{problem}: rebuilding it (--recreate)", recreate=True), drift=drift)
    return ClusterPlan(blocked=problem, hint=RECREATE_HINT, drift=drift)


def _names(nodes: Iterable[NodeState]) -> str:
    return ", ".join(f"{n.name} ({n.state})" for n in nodes)


def plan_cluster(
    wanted: ClusterSpec, obs: Observed, *, recreate: bool = False, after: frozenset[str] = frozenset()
) -> ClusterPlan:
    """The cluster's next actions. ``after``: what this run already did ("start_nodes", "wait_api",
    "export_kubeconfig", "create_race"), so a state that persists after its fix is not fixed twice."""
    name = wanted.name
    if not obs.nodes:
        return ClusterPlan(create=True, stamp=True, reasons=(f"there is no kind cluster named {name}",))

    stopped = tuple(n for n in obs.nodes if n.state in STARTABLE)
    stuck = tuple(n for n in obs.nodes if not n.running and n.state not in STARTABLE)
    if stuck:
        return _rebuild_or_block(f"node container(s) of cluster {name} are {_names(stuck)}", recreate)
    if stopped:
        if "start_nodes" in after:
            # kind.md §8, kind#148: clusters do not always survive a Docker restart.
            return _rebuild_or_block(f"node container(s) of cluster {name} stopped again after start", recreate)
        return ClusterPlan(
            start_nodes=tuple(n.name for n in stopped),
            reobserve=True,
            reasons=(f"node container(s) of cluster {name} are stopped (was Docker restarted?): {_names(stopped)}",),
        )

    if obs.access == NO_CONTEXT:
        if "export_kubeconfig" in after:
            # kind could not give us a kubeconfig: kubeadm never finished. See the stamp rule below.
            return _rebuild(f"cluster {name} was left half-created by an interrupted create; creating it again")
        return ClusterPlan(
            export_kubeconfig=True,
            reobserve=True,
            reasons=(f"the kube context {wanted.context} is missing from the kubeconfig",),
        )
    if obs.access != API_OK:  # unreachable (or, defensively, not asked although every node runs)
        if "wait_api" in after:
            detail = f" ({obs.access_detail})" if obs.access_detail else ""
            return _rebuild_or_block(f"the API server of cluster {name} does not answer{detail}", recreate)
        return ClusterPlan(
            wait_api=True, reobserve=True, reasons=(f"the API server of cluster {name} does not answer yet",)
        )

    if obs.stamp is None:
        if "export_kubeconfig" in after:
            # Interrupted create: nodes exist, kind never wrote the context, and devctl never stamped the
            # cluster. devctl stamps right after `kind create` succeeds, so this cluster was never finished:
            # deleting it rebuilds nothing the user has; it is not a silent recreate.
            return _rebuild(f"cluster {name} was left half-created by an interrupted create (no devctl stamp)")
        if "create_race" in after:
            # Our create lost a race with a concurrent `devctl up`; it stamps the same spec moments later.
            return ClusterPlan(stamp=True, reasons=(f"cluster {name} was just created by another devctl",))
        unstamped = (FieldDiff("stamp", "missing", f"made by devctl {wanted.devctl_version}", "cluster"),)
        if recreate:
            rebuild = _rebuild(f"cluster {name} was not created by devctl: rebuilding it (--recreate)", recreate=True)
            return replace(rebuild, drift=unstamped)
        return ClusterPlan(
            drift=unstamped,
            reasons=(f"cluster {name} was not created by devctl (no {STAMP_NAMESPACE}/{STAMP_NAME}): ports unknown",),
        )

    drift = tuple(diff(obs.stamp, wanted, CLUSTER_FIELDS, "cluster"))
    if drift:
        if recreate:
            rebuild = _rebuild(
                f"cluster {name} differs from the wanted spec: rebuilding it (--recreate)", recreate=True
            )
            return replace(rebuild, drift=drift)
        return ClusterPlan(drift=drift, reasons=(f"cluster {name} differs from the wanted spec; kept as it is",))
    # Registry fields are not compared: the registry is rewired without a new cluster (plan_link), and
    # the stamp keeps recording what the cluster was created with.
    return ClusterPlan(reasons=(f"cluster {name}: running, as wanted",))


def registry_drift(wanted: ClusterSpec, reg: RegistryState) -> tuple[FieldDiff, ...]:
    """How the registry container that exists differs from the wanted one (image, published address)."""
    out = []
    if reg.image != wanted.registry_image:
        out.append(FieldDiff("registry_image", reg.image or "unknown", wanted.registry_image, "registry"))
    published = f"{reg.host_ip}:{reg.host_port}" if reg.host_port else "not published"
    if reg.host_port != wanted.registry_port or reg.host_ip != REGISTRY_LISTEN_ADDRESS:
        out.append(
            FieldDiff("registry_port", published, f"{REGISTRY_LISTEN_ADDRESS}:{wanted.registry_port}", "registry")
        )
    return tuple(out)


def plan_registry(wanted: ClusterSpec, reg: RegistryState | None, *, recreate: bool = False) -> RegistryPlan:
    name = wanted.registry_name
    if reg is None:
        return RegistryPlan(run_registry=True, reasons=(f"there is no container named {name}",))
    drift = registry_drift(wanted, reg)
    if drift and recreate:
        return RegistryPlan(
            replace_registry=True,
            drift=drift,
            reasons=(f"registry {name} differs from the wanted spec: replacing it (--recreate)",),
        )
    kept = f" (differs from the wanted spec; kept as it is: {RECREATE_HINT})" if drift else ""
    if reg.running:
        return RegistryPlan(drift=drift, reasons=(f"registry {name} is running{kept}",))
    if reg.state in STARTABLE:
        return RegistryPlan(start_registry=True, drift=drift, reasons=(f"registry {name} is {reg.state}{kept}",))
    if recreate:
        return RegistryPlan(
            replace_registry=True, drift=drift, reasons=(f"registry {name} is {reg.state}: replacing it",)
        )
    return RegistryPlan(
        blocked=f"registry container {name} is {reg.state}",
        hint=f"`docker rm -f {name}` and run devctl again, or {RECREATE_HINT}",
        drift=drift,
    )


def wanted_hosting(wanted: ClusterSpec, port: int) -> dict[str, str]:
    """KEP-1755 fields devctl publishes, as ctlptl does (kind.md §6 step 5, §7)."""
    return {
        "host": f"localhost:{port}",
        "hostFromClusterNetwork": f"{wanted.registry_name}:{REGISTRY_CONTAINER_PORT}",
    }


def plan_link(wanted: ClusterSpec, obs: Observed) -> LinkPlan:
    """Wire a running registry into a reachable cluster. The KEP ConfigMap is written last, so a
    matching one means the nodes' hosts.toml were written too (no extra read of the nodes)."""
    reg = obs.registry
    if reg is None or not obs.nodes or obs.access != API_OK:
        return LinkPlan(reasons=("registry link: waits for a running registry and a reachable cluster",))
    connect = "kind" not in reg.networks  # kind.md §6 step 4: connecting twice is an error
    # A registry kept with drift stays reachable where it really is published.
    port = reg.host_port or wanted.registry_port
    want = wanted_hosting(wanted, port)
    have = obs.hosting or {}
    publish = any(str(have.get(k)) != v for k, v in want.items())
    reasons = []
    if connect:
        reasons.append(f"registry {reg.name} is not on the kind network")
    if publish:
        reasons.append(f"the nodes do not know the registry as localhost:{port} yet")
    if not reasons:
        reasons.append(f"registry {reg.name} is wired in as localhost:{port}")
    return LinkPlan(
        connect_registry=connect,
        configure_nodes=tuple(n.name for n in obs.nodes) if publish else (),
        publish_configmap=publish,
        reasons=tuple(reasons),
    )


def predict(wanted: ClusterSpec, obs: Observed, cluster: ClusterPlan, registry: RegistryPlan) -> Observed:
    """What will be observed after the cluster and registry actions (for the link's plan under
    --dry-run and in `status`)."""
    reg = obs.registry
    if registry.run_registry or registry.replace_registry:
        reg = RegistryState(
            wanted.registry_name,
            "running",
            wanted.registry_image,
            ("bridge",),  # kind.md §6 step 1: run on bridge, connect to kind afterwards
            REGISTRY_LISTEN_ADDRESS,
            wanted.registry_port,
        )
    elif registry.start_registry and reg is not None:
        reg = replace(reg, state="running")
    if cluster.create:
        return Observed((NodeState(wanted.control_plane, "running"),), reg, API_OK, "", wanted.to_json(), None)
    return replace(obs, registry=reg)


def plan(wanted: ClusterSpec, obs: Observed, *, recreate: bool = False, after: frozenset[str] = frozenset()) -> Plan:
    """All decisions for the current observation (the link's predicted from the other two)."""
    cluster = plan_cluster(wanted, obs, recreate=recreate, after=after)
    registry = plan_registry(wanted, obs.registry, recreate=recreate)
    if cluster.reobserve or cluster.blocked:
        link = LinkPlan(reasons=("registry link: decided once the cluster answers",))
    else:
        link = plan_link(wanted, predict(wanted, obs, cluster, registry))
    return Plan(cluster, registry, link)
