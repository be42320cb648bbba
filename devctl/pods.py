"""The running pod of a workload, for commands that act inside it (``devctl data``, ``devctl shell``).

One ``kubectl get pods -l <selector>``; the newest pod whose container runs is chosen. When none runs the
error says why, in ``devctl status``'s words (``devctl.pod_reasons``), instead of kubectl's
``unable to upgrade connection: container not found``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from devctl import pod_reasons
from devctl.context import Context
from devctl.errors import CommandError, DevctlError
from devctl.tools.kubectl import cluster_unreachable
from devctl.topology import NAMESPACE, Workload


class NoRunningPod(DevctlError):
    """The workload has no pod whose container runs (not deployed, starting, crashing...)."""


def _runs(pod: Mapping[str, Any], container: str) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return any(
        cs.get("name") == container and "running" in (cs.get("state") or {})
        for cs in status.get("containerStatuses") or []
    )


def choose_running(pods: Sequence[Mapping[str, Any]], workload: Workload) -> str | None:
    """The newest pod whose ``workload.container`` runs (pure)."""
    newest = sorted(pods, key=lambda p: str((p.get("metadata") or {}).get("creationTimestamp") or ""), reverse=True)
    return next((str(p["metadata"]["name"]) for p in newest if _runs(p, workload.container)), None)


def running_pod(ctx: Context, workload: Workload, *, start_hint: str) -> str:
    """The name of a pod of ``workload`` whose container runs; NoRunningPod (with the reason) otherwise."""
    try:
        listing = ctx.kubectl.get_json("pods", namespace=NAMESPACE, selector=workload.selector, timeout=20) or {}
    except CommandError as err:
        if cluster_unreachable(err.stderr + err.stdout) is not None:
            raise DevctlError(
                f"the cluster {ctx.cfg.cluster} does not answer ({err.output_tail(1)})",
                hint="run `devctl up` to create or start it",
            ) from None
        raise
    pods = [p for p in listing.get("items") or [] if isinstance(p, dict)]
    found = choose_running(pods, workload)
    if found is not None:
        return found
    why = pod_reasons.reason(pods) if pods else "it has no pod"
    raise NoRunningPod(f"no running pod of {workload.name}: {why or 'its pod is not running'}", hint=start_hint)
