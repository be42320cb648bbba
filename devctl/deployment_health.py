"""Each Deployment in the namespace judged from one reading of Deployments and Pods: ready/desired, restarts,
age, image, and when it is not ready, why (``devctl.pod_reasons``). `devctl status` and the dev loop's table
both show these rows."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devctl import pod_reasons
from devctl.context import Context

NAMESPACE = "default"


@dataclass(frozen=True)
class ServiceRow:
    name: str
    ready: int | None  # None: not known (the API did not answer)
    desired: int | None
    restarts: int | None
    age_seconds: int | None  # of the newest pod (time since the last rollout or restart of a pod)
    image: str | None  # None: not known (not deployed, or the API did not answer)
    deployed: bool | None
    reason: str | None = None  # why it is not ready (devctl.pod_reasons); None when ready or not known

    @property
    def ok(self) -> bool:
        return bool(self.deployed and self.desired and self.ready is not None and self.ready >= self.desired)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "deployed": self.deployed,
            "ready": self.ready,
            "desired": self.desired,
            "restarts": self.restarts,
            "age_seconds": self.age_seconds,
            "image": self.image,
            "ok": self.ok,
            "reason": self.reason,
        }


def _ts(text: Any) -> datetime.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


def name_of(obj: Mapping[str, Any]) -> str:
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
    deps = {name_of(d): d for d in by_kind(items).get("Deployment", []) if namespace_of(d) == NAMESPACE}
    pods = _pods_by_app(items)
    rows = []
    for name in services:
        dep = deps.get(name)
        if dep is None:
            rows.append(ServiceRow(name, 0, 0, None, None, None, False))
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
                image=str(containers[0].get("image") or "") or None,
                deployed=True,
            )
        )
    return tuple(rows)


def _pods_by_app(items: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    pods: dict[str, list[Mapping[str, Any]]] = {}
    for p in by_kind(items).get("Pod", []):
        app = ((p.get("metadata") or {}).get("labels") or {}).get("app")
        if namespace_of(p) == NAMESPACE and isinstance(app, str):
            pods.setdefault(app, []).append(p)
    return pods


def with_reasons(
    ctx: Context, rows: Sequence[ServiceRow], items: Sequence[Mapping[str, Any]]
) -> tuple[ServiceRow, ...]:
    """Each deployed service that is not ready, with the reason its pods give. Extra reads (events, previous
    logs) only for those services' pods; nothing at all when every service is ready."""
    red = [r for r in rows if r.deployed and not r.ok]
    if not red:
        return tuple(rows)
    kinds = by_kind(items)
    pods = _pods_by_app(items)
    extras = pod_reasons.fetch_extras(ctx, [pods.get(r.name, []) for r in red], NAMESPACE)
    nodes, everyone = kinds.get("Node", []), kinds.get("Pod", [])
    reasons = {r.name: pod_reasons.reason(pods.get(r.name, []), nodes, everyone, extras) for r in red}
    return tuple(dataclasses.replace(r, reason=reasons.get(r.name)) if r.name in reasons else r for r in rows)


def unknown_rows(services: Sequence[str]) -> tuple[ServiceRow, ...]:
    return tuple(ServiceRow(n, None, None, None, None, None, None) for n in services)


def other_deployments(items: Iterable[Mapping[str, Any]], services: Sequence[str]) -> list[str]:
    deployments = by_kind(items).get("Deployment", [])
    return sorted({name_of(d) for d in deployments if namespace_of(d) == NAMESPACE and name_of(d) not in services})


def age_text(seconds: int | None) -> str:
    """kubectl's AGE column style: 45s, 12m, 5h, 3d."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
