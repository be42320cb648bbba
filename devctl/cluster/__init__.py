"""The kind cluster and its local registry: the cluster part of ``devctl up`` and ``devctl down``.

Built the ctlptl way (style.md Take 4-5, kind.md §7): ``spec`` says what devctl wants, ``observe``
looks at what exists with as few tool calls as possible, ``plan`` (pure) decides and says why,
``steps``/``registry``/``teardown`` act only where the plan says so. ``status`` is the read-only
view the CLI renders (`devctl cluster status`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devctl.cluster.observe import Observed
    from devctl.cluster.plan import ClusterPlan
    from devctl.cluster.spec import ClusterSpec
    from devctl.context import Context


@dataclass(frozen=True)
class ClusterStatus:
    wanted: ClusterSpec
    observed: Observed
    plan: ClusterPlan

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.wanted.name,
            "context": self.wanted.context,
            "wanted": self.wanted.to_json(),
            **self.observed.to_json(),
            "drift": [d.to_json() for d in self.plan.drift],
            "plan": self.plan.to_json(),
        }


def status(ctx: Context, *, recreate: bool = False) -> ClusterStatus:
    """What exists, how it differs from the wanted spec, and what `devctl up` would do. Reads only."""
    from devctl.cluster.observe import observe
    from devctl.cluster.plan import plan
    from devctl.cluster.spec import ClusterSpec

    wanted = ClusterSpec.from_config(ctx.cfg)
    observed = observe(ctx, wanted)
    return ClusterStatus(wanted, observed, plan(wanted, observed, recreate=recreate))
