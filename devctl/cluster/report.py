"""`devctl cluster status`: what exists, how it differs from the wanted spec, and what `up` would do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devctl.cluster.observe import Observed, observe
from devctl.cluster.plan import Plan, plan
from devctl.cluster.spec import ClusterSpec
from devctl.context import Context


@dataclass(frozen=True)
class ClusterReport:
    wanted: ClusterSpec
    observed: Observed
    plan: Plan

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.wanted.name,
            "context": self.wanted.context,
            "wanted": self.wanted.to_json(),
            **self.observed.to_json(),
            "drift": [d.to_json() for d in self.plan.drift],
            "plan": self.plan.to_json(),
        }


def report(ctx: Context, *, recreate: bool = False) -> ClusterReport:
    """Reads only."""
    wanted = ClusterSpec.from_config(ctx.cfg)
    observed = observe(ctx, wanted)
    return ClusterReport(wanted, observed, plan(wanted, observed, recreate=recreate))
