"""Lines that help to see why a controller is not ready: its pods and its namespace's last events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def pod_summary(pod: Mapping[str, Any]) -> str:
    """One line per pod, like `kubectl get pods -o wide`: name, phase, ready, restarts, why not ready, node."""
    statuses = pod.get("status", {}).get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount", 0) or 0) for c in statuses)
    reasons = [
        str(state.get("reason"))
        for c in statuses
        for key, state in (c.get("state") or {}).items()
        if key in ("waiting", "terminated") and isinstance(state, dict) and state.get("reason")
    ]
    node = pod.get("spec", {}).get("nodeName") or "-"
    parts = [
        str(pod.get("metadata", {}).get("name")),
        str(pod.get("status", {}).get("phase", "Unknown")),
        f"ready {ready}/{len(statuses)}",
        f"restarts {restarts}",
        f"node {node}",
    ]
    if reasons:
        parts.append(", ".join(reasons))
    return "  ".join(parts)


def recent_events(events: Iterable[Mapping[str, Any]], limit: int = 10) -> list[str]:
    """The last ``limit`` events, oldest first, like `kubectl get events --sort-by=.lastTimestamp`."""

    def when(ev: Mapping[str, Any]) -> str:
        return str(
            ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("metadata", {}).get("creationTimestamp") or ""
        )

    lines = []
    for ev in sorted(events, key=when)[-limit:]:
        obj = ev.get("involvedObject") or {}
        count = int(ev.get("count", 1) or 1)
        times = f" (x{count})" if count > 1 else ""
        lines.append(
            f"{when(ev)}  {ev.get('type', '')}  {ev.get('reason', '')}  "
            f"{str(obj.get('kind', '')).lower()}/{obj.get('name', '')}: {ev.get('message', '')}{times}"
        )
    return lines
