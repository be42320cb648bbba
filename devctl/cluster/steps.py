"""The cluster part of `devctl up` as steps: look and plan once, then registry and cluster side by
side, then the link between them.

    cluster-plan ──┬── registry ──────┬── registry-link
                   └── cluster ───────┴── cluster-stamp

``cluster-plan`` makes the three reads (observe.py), plans, checks the host ports and reports drift
before anything is created, so a busy port or a stopped Docker leaves the machine as it was. The
other steps share its observation through the run's ``ClusterRun`` (given to each of them) and re-read
only what they changed: on a warm machine the whole part costs the three reads and nothing else.

``cluster-stamp`` records the spec a new cluster was made with. It is its own step so that what needs
only a running cluster (the image build, the ingress) starts the moment `kind create` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from devctl.cluster import actions
from devctl.cluster import registry as reg_ops
from devctl.cluster.actions import RECREATE, Created
from devctl.cluster.host_ports import check_ports
from devctl.cluster.observe import Observed, observe_cluster, observe_registry
from devctl.cluster.plan import ClusterPlan, RegistryPlan, plan_cluster, plan_link, plan_registry, predict
from devctl.cluster.run import ClusterRun
from devctl.cluster.spec import (
    REGISTRY_LISTEN_ADDRESS,
    STAMP_NAME,
    STAMP_NAMESPACE,
    ClusterSpec,
    FieldDiff,
    kind_config,
    stamp_manifest,
)
from devctl.context import Context
from devctl.errors import DevctlError
from devctl.workflows.steps import Step

MAX_ROUNDS = 6  # start -> wait for the API -> export kubeconfig -> rebuild leftovers -> stamp, at most


def drift_text(drift: tuple[FieldDiff, ...]) -> str:
    return "; ".join(d.describe() for d in drift)


def drift_warning(spec: ClusterSpec, drift: tuple[FieldDiff, ...]) -> str:
    parts = []
    for target, name in (("cluster", spec.name), ("registry", spec.registry_name)):
        diffs = tuple(d for d in drift if d.target == target)
        if diffs:
            parts.append(f"{target} {name} differs from the wanted spec: {drift_text(diffs)}")
    return ". ".join(parts) + ". Kept as it is: `devctl up --recreate` rebuilds it"


@dataclass
class PlanStep:
    run: ClusterRun
    name: str = "cluster-plan"
    title: str = "Inspect the kind cluster and registry"
    needs: tuple[str, ...] = ()

    def check(self, ctx: Context) -> str | None:
        return None  # always look: the other cluster steps decide from what this step sees

    def apply(self, ctx: Context) -> str:
        looked = self.run.look(ctx)
        spec, p = looked.spec, looked.plan
        if p.blocked:
            raise DevctlError(p.blocked, hint=p.hint)
        check_ports(ctx, spec, looked.observed, p.cluster, p.registry)
        if p.drift and not (p.cluster.recreate or p.registry.replace_registry):
            ctx.reporter.warn(drift_warning(spec, p.drift))
        elif p.drift:
            ctx.reporter.info(f"rebuilding because of: {drift_text(p.drift)}")
        if p.noop:
            kept = " (the differences above are kept)" if p.drift else ""
            return f"cluster {spec.name} and registry {spec.registry_name} are up; nothing to change{kept}"
        return "; ".join(p.cluster.reasons + p.registry.reasons)

    def describe(self, ctx: Context) -> list[str]:
        try:
            looked = self.run.look(ctx)
        except DevctlError as err:
            self.run.assume(ClusterSpec.from_config(ctx.cfg))
            return [f"cannot look at what exists ({err}); showing what a fresh machine gets"]
        lines = list(looked.plan.reasons)
        if looked.plan.drift:
            lines.append(f"drift: {drift_text(looked.plan.drift)}")
        return lines


@dataclass
class RegistryStep:
    run: ClusterRun
    name: str = "registry"
    title: str = "Local registry"
    needs: tuple[str, ...] = ("cluster-plan",)

    def _plan(self) -> RegistryPlan:
        return plan_registry(self.run.spec, self.run.observed.registry, recreate=self.run.recreate)

    def check(self, ctx: Context) -> str | None:
        p = self._plan()
        return None if p.actions or p.blocked else "; ".join(p.reasons)

    def apply(self, ctx: Context) -> str:
        run, p = self.run, self._plan()
        if p.blocked:
            raise DevctlError(p.blocked, hint=p.hint)
        note = reg_ops.ensure_registry(ctx, run.spec, p)
        if ctx.runner.dry_run:
            run.set_registry(predict(run.spec, run.observed, ClusterPlan(), p).registry)
        else:
            run.set_registry(observe_registry(ctx, run.spec))
        return note

    def describe(self, ctx: Context) -> list[str]:
        p, s = self._plan(), self.run.spec
        where = f"{REGISTRY_LISTEN_ADDRESS}:{s.registry_port}"
        if p.replace_registry:
            return [f"remove container {s.registry_name}, then run it again from {s.registry_image} on {where}"]
        if p.run_registry:
            return [f"run container {s.registry_name} from {s.registry_image} on {where} (restart=always)"]
        if p.start_registry:
            return [f"start the stopped container {s.registry_name}"]
        return [f"nothing to do: {'; '.join(p.reasons)}"]


@dataclass
class _Progress:
    """Where one run of the cluster step is: the latest observation and what it did so far."""

    observed: Observed
    fresh: bool = True  # observed was read after the last change
    after: set[str] = field(default_factory=set)  # the plan's words for what was done ("start_nodes", ...)
    notes: list[str] = field(default_factory=list)


@dataclass
class ClusterStep:
    run: ClusterRun
    name: str = "cluster"
    title: str = "Kind cluster"
    needs: tuple[str, ...] = ("cluster-plan",)

    def check(self, ctx: Context) -> str | None:
        p = plan_cluster(self.run.spec, self.run.observed, recreate=self.run.recreate)
        if p.actions or p.blocked:
            return None
        if p.drift:
            return f"kept as it is (differs: {drift_text(p.drift)}); `devctl up --recreate` rebuilds it"
        return "; ".join(p.reasons)

    def apply(self, ctx: Context) -> str:
        """Act on the plan, look again where an action reveals more (a started node shows its stamp),
        and plan again, until nothing is left to do."""
        spec = self.run.spec
        progress = _Progress(self.run.observed)
        for _ in range(MAX_ROUNDS):
            p = plan_cluster(spec, progress.observed, recreate=self.run.recreate, after=frozenset(progress.after))
            if p.blocked:
                raise DevctlError(p.blocked, hint=p.hint)
            if not p.actions or self._act(ctx, p, progress):
                break
        else:
            raise DevctlError(f"cluster {spec.name} did not settle after {MAX_ROUNDS} rounds of fixes", hint=RECREATE)
        if not progress.fresh:
            progress.observed = observe_cluster(ctx, spec)
        self.run.set_cluster(progress.observed)
        return "; ".join(progress.notes) or f"cluster {spec.name} is running"

    def _act(self, ctx: Context, p: ClusterPlan, progress: _Progress) -> bool:
        """One round of the plan's actions, in order; True when the cluster is as wanted afterwards."""
        spec, dry_run = self.run.spec, ctx.runner.dry_run
        progress.fresh = False
        if p.delete:
            progress.notes.append(actions.delete(ctx, spec, "; ".join(p.reasons)))
        if p.create and dry_run:
            actions.show_create(ctx, spec)
        elif p.create and actions.create(ctx, spec) is Created.RACE:
            progress.after.add("create_race")
            progress.notes.append(f"cluster {spec.name} was created concurrently; using it")
            actions.wait_for_api(ctx, spec)
            progress.observed, progress.fresh = observe_cluster(ctx, spec), True
            return False
        elif p.create:
            progress.notes.append(f"created cluster {spec.name} ({spec.node_image.split('@')[0]})")
        if p.start_nodes:
            progress.notes.append(actions.start_nodes(ctx, p.start_nodes))
            progress.after.add("start_nodes")
        if p.wait_api and not dry_run:
            actions.wait_for_api(ctx, spec)
            progress.after.add("wait_api")
        if p.export_kubeconfig:
            note = actions.export_kubeconfig(ctx, spec)
            progress.notes.extend([note] if note else [])
            progress.after.add("export_kubeconfig")
        if p.stamp:
            self.run.due_stamp(True)
        if dry_run or (p.create and not p.reobserve):
            # Our own create succeeded: kind named the one node (kind.md §4) and a new cluster has none of
            # our ConfigMaps but the stamp the stamp step writes next; reading that back would put two calls
            # on the longest path of a first `up` (everything after this step waits for it).
            progress.observed, progress.fresh = predict(spec, progress.observed, p, RegistryPlan()), True
            return True
        if not p.reobserve:
            return True
        progress.observed, progress.fresh = observe_cluster(ctx, spec), True
        return False

    def describe(self, ctx: Context) -> list[str]:
        s = self.run.spec
        p = plan_cluster(s, self.run.observed, recreate=self.run.recreate)
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
    run: ClusterRun
    name: str = "registry-link"
    title: str = "Registry wired into the cluster"
    needs: tuple[str, ...] = ("registry", "cluster")

    def check(self, ctx: Context) -> str | None:
        p = plan_link(self.run.spec, self.run.observed)
        return None if p.actions else "; ".join(p.reasons)

    def apply(self, ctx: Context) -> str:
        run = self.run
        reg = run.observed.registry
        port = (reg.host_port if reg else None) or run.spec.registry_port
        return reg_ops.link(ctx, run.spec, plan_link(run.spec, run.observed), port)

    def describe(self, ctx: Context) -> list[str]:
        run = self.run
        s, obs = run.spec, run.observed
        cluster = plan_cluster(s, obs, recreate=run.recreate)
        if cluster.reobserve or cluster.blocked:
            return ["decided once the cluster answers"]
        p = plan_link(s, predict(s, obs, cluster, plan_registry(s, obs.registry, recreate=run.recreate)))
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

    run: ClusterRun
    name: str = "cluster-stamp"
    title: str = "Cluster spec stamp"
    needs: tuple[str, ...] = ("cluster",)

    def check(self, ctx: Context) -> str | None:
        if self.run.stamp_due:
            return None
        if self.run.observed.stamp is None:
            return "no stamp to write: this cluster was not made by devctl (see the drift above)"
        return f"{STAMP_NAMESPACE}/{STAMP_NAME} records the spec the cluster was made with"

    def apply(self, ctx: Context) -> str:
        ctx.kubectl.apply(stamp_manifest(self.run.spec))
        self.run.due_stamp(False)
        return f"stamped its spec into {STAMP_NAMESPACE}/{STAMP_NAME}"

    def describe(self, ctx: Context) -> list[str]:
        if self.run.first_plan.cluster.stamp:
            return [f"kubectl apply -f - with ConfigMap {STAMP_NAMESPACE}/{STAMP_NAME} (the spec above, as JSON)"]
        return ["nothing to do: " + (self.check(ctx) or "")]


def cluster_steps(run: ClusterRun) -> list[Step]:
    """The steps `devctl up` runs for the cluster and its registry (also `devctl cluster up`), sharing ``run``."""
    return [PlanStep(run), RegistryStep(run), ClusterStep(run), StampStep(run), LinkStep(run)]
