"""The cluster part of `devctl up` as steps: look and plan once, then registry and cluster side by
side, then the link between them.

    cluster-plan ──┬── registry ──────┬── registry-link
                   └── cluster ───────┴── cluster-stamp

``cluster-plan`` makes the three reads (observe.py), plans, checks the host ports and reports drift
before anything is created, so a busy port or a stopped Docker leaves the machine as it was. The
other steps share its observation through ``ctx.cache`` and re-read only what they changed: on a warm
machine the whole part costs the three reads and nothing else.

``cluster-stamp`` records the spec a new cluster was made with. It is its own step so that what needs
only a running cluster (the image build, the ingress) starts the moment `kind create` returns.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field, replace

from devctl.cluster import registry as reg_ops
from devctl.cluster.observe import (
    Observed,
    RegistryState,
    observe,
    observe_cluster,
    observe_nodes,
    observe_registry,
    published_ports,
)
from devctl.cluster.plan import ClusterPlan, plan, plan_cluster, plan_link, plan_registry, predict
from devctl.cluster.spec import (
    REGISTRY_LISTEN_ADDRESS,
    STAMP_NAME,
    STAMP_NAMESPACE,
    ClusterSpec,
    FieldDiff,
    kind_config,
    knob,
    stamp_manifest,
)
from devctl.context import Context
from devctl.errors import CommandError, DevctlError
from devctl.ports import PortState, probe
from devctl.tools.kind import is_already_exists
from devctl.workflows.steps import Step

API_WAIT_SECONDS = 120.0  # a node restarted by `docker start` boots kubelet and the API server again
API_POLL_INTERVAL = 1.0
KIND_CREATE_TIMEOUT = 900.0  # generous: the first create pulls the node image
MAX_ROUNDS = 6  # start -> wait for the API -> export kubeconfig -> rebuild leftovers -> stamp, at most

_CACHE_KEY = "devctl.cluster.run"
RECREATE = "`devctl up --recreate` deletes and recreates the cluster"
# A failed export because of the user's kubeconfig file, not the cluster (never a reason to rebuild).
_KUBECONFIG_UNWRITABLE = re.compile(r"permission denied|read-only file system|lock", re.IGNORECASE)


@dataclass
class ClusterRun:
    """What the cluster steps of one `up` share: the spec, the latest observation and the first plan."""

    spec: ClusterSpec
    observed: Observed
    plan: ClusterPlan
    lock: threading.Lock = field(default_factory=threading.Lock)
    stamp_due: bool = False  # the cluster step made (or adopted) a cluster that cluster-stamp must record

    def set_registry(self, registry: RegistryState | None) -> None:
        with self.lock:
            self.observed = replace(self.observed, registry=registry)

    def set_cluster(self, obs: Observed) -> None:
        with self.lock:
            self.observed = replace(obs, registry=self.observed.registry)


def prepare(ctx: Context, recreate: bool) -> ClusterRun:
    """Observe and plan once per context (the plan step does it; `describe` may do it first)."""
    with ctx.lock:
        run = ctx.cache.get(_CACHE_KEY)
    if isinstance(run, ClusterRun):
        return run
    spec = ClusterSpec.from_config(ctx.cfg)
    observed = observe(ctx, spec)
    run = ClusterRun(spec, observed, plan(spec, observed, recreate=recreate))
    with ctx.lock:
        ctx.cache[_CACHE_KEY] = run
    return run


def current(ctx: Context) -> ClusterRun:
    with ctx.lock:
        run = ctx.cache.get(_CACHE_KEY)
    if not isinstance(run, ClusterRun):
        raise RuntimeError("the cluster-plan step must run before the other cluster steps")
    return run


def drift_text(drift: tuple[FieldDiff, ...]) -> str:
    return "; ".join(d.describe() for d in drift)


def drift_warning(spec: ClusterSpec, drift: tuple[FieldDiff, ...]) -> str:
    parts = []
    for target, name in (("cluster", spec.name), ("registry", spec.registry_name)):
        diffs = tuple(d for d in drift if d.target == target)
        if diffs:
            parts.append(f"{target} {name} differs from the wanted spec: {drift_text(diffs)}")
    return ". ".join(parts) + ". Kept as it is: `devctl up --recreate` rebuilds it"


# --- host ports (kind.md §8: a busy 80/443 makes kind create fail after minutes of work) -------------


@dataclass(frozen=True)
class _Port:
    label: str
    port: int
    address: str
    field: str


def ports_to_bind(spec: ClusterSpec, p: ClusterPlan) -> list[_Port]:
    out = []
    if p.create or p.start_nodes:
        out.append(_Port("HTTP", spec.http_port, spec.listen_address, "http_port"))
        out.append(_Port("HTTPS", spec.https_port, spec.listen_address, "https_port"))
    if p.registry_actions:
        out.append(_Port("registry", spec.registry_port, REGISTRY_LISTEN_ADDRESS, "registry_port"))
    return out


def check_ports(ctx: Context, spec: ClusterSpec, p: ClusterPlan, obs: Observed) -> None:
    """Raise one line naming every busy port, its owner and its knob. Ports our own running node or
    registry publish are fine (a recreate frees them first)."""
    wanted = ports_to_bind(spec, p)
    if not wanted:
        return
    busy: list[tuple[_Port, PortState]] = []
    for want in wanted:
        st = probe(want.port, want.address)
        if st.free is False:  # None: cannot tell (a privileged port without root); Docker may still bind it
            busy.append((want, st))
    if not busy:
        return
    running = [n.name for n in obs.nodes if n.running]
    if obs.registry is not None and obs.registry.running:
        running.append(obs.registry.name)
    ours = published_ports(ctx, running) if running else set()
    busy = [(w, st) for w, st in busy if w.port not in ours]
    if not busy:
        return
    what = "; ".join(
        f"host port {w.port} ({w.label}) on {w.address} is in use by {st.owner or 'another process'}" for w, st in busy
    )
    knobs = ", ".join(f"{knob(w.field)}=<port>" for w, _ in busy)
    raise DevctlError(what, hint=f"stop that process, or pick another port with {knobs}")


# --- the steps --------------------------------------------------------------------------------------


@dataclass
class PlanStep:
    recreate: bool
    name: str = "cluster-plan"
    title: str = "Inspect the kind cluster and registry"
    needs: tuple[str, ...] = ()

    def check(self, ctx: Context) -> str | None:
        return None  # always look: the other cluster steps decide from what this step sees

    def apply(self, ctx: Context) -> str:
        run = prepare(ctx, self.recreate)
        p = run.plan
        if p.blocked:
            raise DevctlError(p.blocked, hint=p.hint)
        check_ports(ctx, run.spec, p, run.observed)
        if p.drift and not (p.recreate or p.replace_registry):
            ctx.reporter.warn(drift_warning(run.spec, p.drift))
        elif p.drift:
            ctx.reporter.info(f"rebuilding because of: {drift_text(p.drift)}")
        if p.noop:
            kept = " (the differences above are kept)" if p.drift else ""
            return f"cluster {run.spec.name} and registry {run.spec.registry_name} are up; nothing to change{kept}"
        return "; ".join(r for r in p.reasons if not r.startswith("registry link"))

    def describe(self, ctx: Context) -> list[str]:
        try:
            run = prepare(ctx, self.recreate)
        except DevctlError as err:
            spec = ClusterSpec.from_config(ctx.cfg)
            empty = Observed()
            with ctx.lock:
                ctx.cache[_CACHE_KEY] = ClusterRun(spec, empty, plan(spec, empty))
            return [f"cannot look at what exists ({err}); showing what a fresh machine gets"]
        lines = list(run.plan.reasons)
        if run.plan.drift:
            lines.append(f"drift: {drift_text(run.plan.drift)}")
        return lines


@dataclass
class RegistryStep:
    recreate: bool
    name: str = "registry"
    title: str = "Local registry"
    needs: tuple[str, ...] = ("cluster-plan",)

    def _plan(self, ctx: Context) -> ClusterPlan:
        run = current(ctx)
        return plan_registry(run.spec, run.observed.registry, recreate=self.recreate)

    def check(self, ctx: Context) -> str | None:
        p = self._plan(ctx)
        return None if p.registry_actions or p.blocked else "; ".join(p.reasons)

    def apply(self, ctx: Context) -> str:
        run = current(ctx)
        p = self._plan(ctx)
        if p.blocked:
            raise DevctlError(p.blocked, hint=p.hint)
        note = reg_ops.ensure_registry(ctx, run.spec, p)
        if ctx.runner.dry_run:
            run.set_registry(predict(run.spec, run.observed, ClusterPlan(), p).registry)
        else:
            run.set_registry(observe_registry(ctx, run.spec))
        return note

    def describe(self, ctx: Context) -> list[str]:
        run = current(ctx)
        p = plan_registry(run.spec, run.observed.registry, recreate=self.recreate)
        s = run.spec
        where = f"{REGISTRY_LISTEN_ADDRESS}:{s.registry_port}"
        if p.replace_registry:
            return [f"remove container {s.registry_name}, then run it again from {s.registry_image} on {where}"]
        if p.run_registry:
            return [f"run container {s.registry_name} from {s.registry_image} on {where} (restart=always)"]
        if p.start_registry:
            return [f"start the stopped container {s.registry_name}"]
        return [f"nothing to do: {'; '.join(p.reasons)}"]


@dataclass
class ClusterStep:
    recreate: bool
    name: str = "cluster"
    title: str = "Kind cluster"
    needs: tuple[str, ...] = ("cluster-plan",)

    def check(self, ctx: Context) -> str | None:
        run = current(ctx)
        p = plan_cluster(run.spec, run.observed, recreate=self.recreate)
        if p.cluster_actions or p.blocked:
            return None
        if p.drift:
            return f"kept as it is (differs: {drift_text(p.drift)}); `devctl up --recreate` rebuilds it"
        return "; ".join(p.reasons)

    def apply(self, ctx: Context) -> str:
        run = current(ctx)
        spec = run.spec
        obs = run.observed
        after: set[str] = set()
        notes: list[str] = []
        fresh = True  # obs was read after the last change
        for _ in range(MAX_ROUNDS):
            p = plan_cluster(spec, obs, recreate=self.recreate, after=frozenset(after))
            if p.blocked:
                raise DevctlError(p.blocked, hint=p.hint)
            if not p.cluster_actions:
                break
            fresh = False
            if p.delete:
                ctx.reporter.info(f"deleting cluster {spec.name}: {'; '.join(p.reasons)}")
                ctx.kind.delete_cluster(spec.name)
                notes.append("deleted the old cluster")
            if p.create and ctx.runner.dry_run:
                ctx.reporter.info(f"kind config for cluster {spec.name}:\n{kind_config(spec)}")
                ctx.kind.create_cluster(spec.name, kind_config(spec), image=spec.node_image)  # only printed
            elif p.create:
                if _create(ctx, spec) == "race":
                    after.add("create_race")
                    notes.append(f"cluster {spec.name} was created concurrently; using it")
                    _wait_for_api(ctx, spec)
                    obs, fresh = observe_cluster(ctx, spec), True
                    continue
                notes.append(f"created cluster {spec.name} ({spec.node_image.split('@')[0]})")
            if p.start_nodes:
                try:
                    ctx.docker.start(list(p.start_nodes))
                except CommandError as err:
                    raise DevctlError(
                        f"starting the stopped node(s) {', '.join(p.start_nodes)} failed", hint=RECREATE
                    ) from err
                after.add("start_nodes")
                notes.append(f"started {', '.join(p.start_nodes)}")
            if p.wait_api and not ctx.runner.dry_run:
                _wait_for_api(ctx, spec)
                after.add("wait_api")
            if p.export_kubeconfig:
                try:
                    ctx.kind.export_kubeconfig(spec.name)
                    notes.append(f"restored the kube context {spec.context}")
                except CommandError as err:
                    if _KUBECONFIG_UNWRITABLE.search(err.stderr + err.stdout):
                        raise DevctlError(f"kind could not write {spec.context} into the kubeconfig") from err
                    # kind found no kubeconfig in the node (kubeadm never finished): the next plan
                    # treats the cluster as half-created.
                after.add("export_kubeconfig")
            if p.stamp:
                with run.lock:
                    run.stamp_due = True
            if ctx.runner.dry_run:
                run.set_cluster(predict(spec, obs, p, ClusterPlan()))
                return "; ".join(notes)
            if p.create and not p.reobserve:
                # Our own create succeeded: kind named the one node (kind.md §4) and a new cluster has none
                # of our ConfigMaps but the stamp cluster-stamp writes next. Reading that back would cost two
                # calls on the longest path of a first `up` (everything after this step waits for it).
                obs, fresh = predict(spec, obs, p, ClusterPlan()), True
                break
            if not p.reobserve:
                break
            obs, fresh = observe_cluster(ctx, spec), True
        else:
            raise DevctlError(f"cluster {spec.name} did not settle after {MAX_ROUNDS} rounds of fixes", hint=RECREATE)
        if not fresh:
            obs = observe_cluster(ctx, spec)
        run.set_cluster(obs)
        return "; ".join(notes) or f"cluster {spec.name} is running"

    def describe(self, ctx: Context) -> list[str]:
        run = current(ctx)
        s = run.spec
        p = plan_cluster(s, run.observed, recreate=self.recreate)
        lines = []
        if p.delete:
            lines.append(f"delete cluster {s.name} (kind delete cluster --name {s.name})")
        if p.create:
            lines.append(f"kind create cluster --name {s.name} --image {s.node_image} --config - with:")
        else:
            lines.extend(p.reasons)
            if p.start_nodes:
                lines.append(f"docker start {' '.join(p.start_nodes)}, then wait for the API")
            if p.export_kubeconfig:
                lines.append(f"kind export kubeconfig --name {s.name}")
            lines.append(f"(a new cluster {s.name} would be created with this kind config:)")
        lines.extend("  " + ln for ln in kind_config(s).splitlines())
        return lines


@dataclass
class LinkStep:
    recreate: bool
    name: str = "registry-link"
    title: str = "Registry wired into the cluster"
    needs: tuple[str, ...] = ("registry", "cluster")

    def check(self, ctx: Context) -> str | None:
        run = current(ctx)
        p = plan_link(run.spec, run.observed)
        return None if p.link_actions else "; ".join(p.reasons)

    def apply(self, ctx: Context) -> str:
        run = current(ctx)
        p = plan_link(run.spec, run.observed)
        reg = run.observed.registry
        port = (reg.host_port if reg else None) or run.spec.registry_port
        return reg_ops.link(ctx, run.spec, p, port)

    def describe(self, ctx: Context) -> list[str]:
        run = current(ctx)
        s, obs = run.spec, run.observed
        cluster = plan_cluster(s, obs, recreate=self.recreate)
        if cluster.reobserve or cluster.blocked:
            return ["decided once the cluster answers"]
        p = plan_link(s, predict(s, obs, cluster, plan_registry(s, obs.registry, recreate=self.recreate)))
        lines = []
        if p.connect_registry:
            lines.append(f"docker network connect kind {s.registry_name}")
        for node in p.configure_nodes:
            lines.append(f"write {reg_ops.certs_dir(s.registry_port)}/hosts.toml in {node}")
        if p.publish_configmap:
            lines.append("apply kube-public/local-registry-hosting (KEP-1755)")
        return lines or [f"nothing to do: {'; '.join(p.reasons)}"]


@dataclass
class StampStep:
    """Record the spec in kube-public/devctl-cluster-spec, right after the cluster step made the cluster.

    The stamp is how a later `up` tells drift, and how it tells a finished create from an interrupted one
    (no stamp: rebuilt). Listed right after the cluster step, so it is started before its siblings.
    """

    name: str = "cluster-stamp"
    title: str = "Cluster spec stamp"
    needs: tuple[str, ...] = ("cluster",)

    def check(self, ctx: Context) -> str | None:
        run = current(ctx)
        if run.stamp_due:
            return None
        if run.observed.stamp is None:
            return "no stamp to write: this cluster was not made by devctl (see the drift above)"
        return f"{STAMP_NAMESPACE}/{STAMP_NAME} records the spec the cluster was made with"

    def apply(self, ctx: Context) -> str:
        run = current(ctx)
        ctx.kubectl.apply(stamp_manifest(run.spec))
        with run.lock:
            run.stamp_due = False
        return f"stamped its spec into {STAMP_NAMESPACE}/{STAMP_NAME}"

    def describe(self, ctx: Context) -> list[str]:
        run = current(ctx)
        if run.plan.stamp:
            return [f"kubectl apply -f - with ConfigMap {STAMP_NAMESPACE}/{STAMP_NAME} (the spec above, as JSON)"]
        return ["nothing to do: " + (self.check(ctx) or "")]


def cluster_steps(recreate: bool = False) -> list[Step]:
    """The steps `devctl up` runs for the cluster and its registry (also `devctl cluster up`)."""
    return [PlanStep(recreate), RegistryStep(recreate), ClusterStep(recreate), StampStep(), LinkStep(recreate)]


# --- actions ------------------------------------------------------------------------------------------


def _create(ctx: Context, spec: ClusterSpec) -> str:
    """``kind create cluster``; "race" when the cluster turned out to exist already."""
    # The docker ps probe already answered "does it exist" on every path (it reads the label kind reads,
    # kind.md §3); kind itself is asked only here, right before creating: it also sees a cluster kind runs
    # on another provider (KIND_EXPERIMENTAL_PROVIDER=podman|nerdctl, kind.md §2) that the probe cannot.
    if spec.name in ctx.kind.get_clusters():
        if observe_nodes(ctx, spec):
            return "race"
        raise DevctlError(
            f"kind lists a cluster named {spec.name}, but Docker has no container for it",
            hint="kind is probably using another provider (KIND_EXPERIMENTAL_PROVIDER=podman or nerdctl): unset "
            f"it, or delete that cluster with `kind delete cluster --name {spec.name}`",
        )
    check_ports(ctx, spec, ClusterPlan(create=True), Observed())  # again: our own old node may just have gone
    ctx.reporter.info(f"creating kind cluster {spec.name}; the first time this pulls the node image")
    try:
        ctx.kind.create_cluster(spec.name, kind_config(spec), image=spec.node_image, timeout=KIND_CREATE_TIMEOUT)
    except CommandError as err:
        if is_already_exists(err):  # kind.md §3.1 item 1: lost a race; treat as "exists"
            return "race"
        raise DevctlError(
            f"kind could not create cluster {spec.name}",
            hint=f"see kind's output below; if a port is taken, pick another with {knob('http_port')} / "
            f"{knob('https_port')}",
        ) from err
    return "created"


def _wait_for_api(ctx: Context, spec: ClusterSpec) -> None:
    """Poll until the API answers or the deadline passes; the next observation judges the outcome."""
    ctx.reporter.info(f"waiting up to {API_WAIT_SECONDS:g} s for the API server of {spec.context}")
    deadline = time.monotonic() + API_WAIT_SECONDS
    while not ctx.kubectl.server_reachable(timeout=10.0) and time.monotonic() < deadline:
        time.sleep(API_POLL_INTERVAL)
