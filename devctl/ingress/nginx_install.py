"""What one listing shows of an ingress-nginx install, judged (pure: ingress-nginx.md §2-§3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from devctl.ingress.state import IngressState

# Names in the kind manifest (ingress-nginx.md §2).
NAMESPACE = "ingress-nginx"
CONTROLLER = "ingress-nginx-controller"
ADMISSION_SERVICE = "ingress-nginx-controller-admission"
WEBHOOK_CONFIG = "ingress-nginx-admission"
VERSION_LABEL = "app.kubernetes.io/version"


@dataclass(frozen=True)
class Installation:
    """What one `kubectl get` shows of an ingress-nginx install."""

    webhook_config: bool = False
    ca_bundle: bool = False
    admission_service: bool = False
    controller_version: str | None = None  # None: no controller Deployment
    available_replicas: int = 0
    wanted_replicas: int = 1
    admission_endpoint_ready: bool = False

    @property
    def controller_available(self) -> bool:
        return self.controller_version is not None and self.available_replicas >= self.wanted_replicas

    @property
    def stale_webhook(self) -> bool:
        """ingress-nginx.md §3: the cluster-scoped webhook configuration outlived its namespace or Service."""
        return self.webhook_config and not self.admission_service

    def shortfalls(self, version: str) -> list[str]:
        """Why this is not a ready install of ``version`` (empty: it looks ready)."""
        out: list[str] = []
        if self.controller_version is None:
            out.append(f"no controller Deployment {NAMESPACE}/{CONTROLLER}")
        elif self.controller_version != version:
            out.append(f"controller v{self.controller_version} installed, v{version} pinned")
        elif not self.controller_available:
            out.append(f"controller not available ({self.available_replicas}/{self.wanted_replicas})")
        if not self.webhook_config:
            out.append("no admission webhook configuration")
        elif self.stale_webhook:
            out.append(f"webhook {WEBHOOK_CONFIG} is left from an earlier install (its Service is gone)")
        elif not self.ca_bundle:
            out.append("the admission webhook's caBundle is not patched yet")
        if self.admission_service and not self.admission_endpoint_ready:
            out.append("the admission Service has no ready endpoint yet")
        return out

    def state(self, version: str) -> IngressState:
        if self.controller_version is None and not self.webhook_config:
            return IngressState(False, False, False, "ingress-nginx is not installed")
        missing = self.shortfalls(version)
        return IngressState(
            installed=True,
            controller_ready=self.controller_available,
            admitting=not missing,
            detail="; ".join(missing),
            leftover_webhook=self.stale_webhook,
        )


def has_ready_endpoint(slices: Iterable[Mapping[str, Any]]) -> bool:
    """An endpoint with an address that is ready (an absent ``ready`` means ready: discovery/v1 API docs)."""
    return any(
        ep.get("addresses") and (ep.get("conditions") or {}).get("ready", True) is not False
        for s in slices
        for ep in s.get("endpoints") or []
    )


def observe(items: Iterable[Mapping[str, Any]]) -> Installation:
    """Read an install from a listing of deployments, services, endpointslices and the (cluster-scoped)
    validatingwebhookconfigurations; objects of namespaces other than ingress-nginx's are ignored."""
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        if (item.get("metadata") or {}).get("namespace") in (None, NAMESPACE):
            by_kind.setdefault(str(item.get("kind")), []).append(item)

    def named(kind: str, name: str) -> Mapping[str, Any] | None:
        return next((o for o in by_kind.get(kind, []) if o.get("metadata", {}).get("name") == name), None)

    vwc = named("ValidatingWebhookConfiguration", WEBHOOK_CONFIG)
    hooks = (vwc or {}).get("webhooks") or []
    dep = named("Deployment", CONTROLLER)
    version = None
    available, want = 0, 1
    if dep is not None:
        version = str((dep.get("metadata", {}).get("labels") or {}).get(VERSION_LABEL, "unknown"))
        want = int(dep.get("spec", {}).get("replicas", 1))
        available = int(dep.get("status", {}).get("availableReplicas", 0) or 0)
    slices = [
        s
        for s in by_kind.get("EndpointSlice", [])
        if (s.get("metadata", {}).get("labels") or {}).get("kubernetes.io/service-name") == ADMISSION_SERVICE
    ]
    return Installation(
        webhook_config=vwc is not None,
        ca_bundle=bool(hooks) and all((h.get("clientConfig") or {}).get("caBundle") for h in hooks),
        admission_service=named("Service", ADMISSION_SERVICE) is not None,
        controller_version=version,
        available_replicas=available,
        wanted_replicas=want,
        admission_endpoint_ready=has_ready_endpoint(slices),
    )
