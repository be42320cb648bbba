"""What the cluster steps of one `devctl up` hand each other, typed and in the open.

The workflow makes one ``ClusterRun`` and gives it to each cluster step (and to the image build, which
asks whether the cluster was just created). The plan step fills it with one observation and its plan;
the registry and cluster steps refresh what they changed, the stamp and link steps read the result.
Steps run on several threads, so every change goes through the lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from devctl.cluster.observe import Observed, RegistryState, observe
from devctl.cluster.plan import Plan, plan
from devctl.cluster.spec import ClusterSpec
from devctl.context import Context


@dataclass(frozen=True)
class Looked:
    spec: ClusterSpec
    observed: Observed
    plan: Plan


@dataclass
class ClusterRun:
    recreate: bool
    _looked: Looked | None = None
    stamp_due: bool = False  # the cluster step made (or adopted) a cluster that the stamp step must record
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def look(self, ctx: Context) -> Looked:
        """Observe and plan, once per run (the plan step does it; --dry-run's describe may do it first)."""
        with self._lock:
            if self._looked is None:
                spec = ClusterSpec.from_config(ctx.cfg)
                observed = observe(ctx, spec)
                self._looked = Looked(spec, observed, plan(spec, observed, recreate=self.recreate))
            return self._looked

    def assume(self, spec: ClusterSpec) -> Looked:
        """What a fresh machine would show, when looking failed (--dry-run without Docker)."""
        with self._lock:
            empty = Observed()
            self._looked = Looked(spec, empty, plan(spec, empty))
            return self._looked

    @property
    def looked(self) -> Looked:
        looked = self._looked
        if looked is None:
            raise RuntimeError("the cluster-plan step runs before the other cluster steps (needs)")
        return looked

    @property
    def spec(self) -> ClusterSpec:
        return self.looked.spec

    @property
    def observed(self) -> Observed:
        return self.looked.observed

    @property
    def first_plan(self) -> Plan:
        return self.looked.plan

    def set_registry(self, registry: RegistryState | None) -> None:
        with self._lock:
            looked = self.looked
            self._looked = replace(looked, observed=replace(looked.observed, registry=registry))

    def set_cluster(self, obs: Observed) -> None:
        with self._lock:
            looked = self.looked
            self._looked = replace(looked, observed=replace(obs, registry=looked.observed.registry))

    def due_stamp(self, due: bool) -> None:
        with self._lock:
            self.stamp_due = due
