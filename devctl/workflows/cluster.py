"""`devctl cluster up`: the cluster part of `devctl up` on its own, after the same preflight.

Preflight runs alone first, so a missing kind or a stopped Docker stops it before anything starts (the
registry container included); then the cluster steps, as in `up`.
"""

from __future__ import annotations

from devctl.cluster.run import ClusterRun
from devctl.cluster.steps import cluster_steps
from devctl.context import Context
from devctl.workflows.preflight import PreflightStep
from devctl.workflows.steps import PlanResult, Step, describe_steps, run_steps

TOOLS = ("docker", "kind", "kubectl")  # Skaffold plays no part in making the cluster


def plan(recreate: bool) -> tuple[list[Step], list[Step]]:
    return [PreflightStep(TOOLS)], cluster_steps(ClusterRun(recreate))


def describe(ctx: Context, recreate: bool) -> list[str]:
    first, second = plan(recreate)
    return describe_steps([*first, *second], ctx)


def run(ctx: Context, recreate: bool) -> list[PlanResult]:
    first, second = plan(recreate)
    return [run_steps(first, ctx), run_steps(second, ctx)]
