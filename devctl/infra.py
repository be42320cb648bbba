"""The stack's infrastructure (MongoDB, Redis, NATS: ``k8s/infra/``), applied by ``devctl up`` itself.

Skaffold deletes everything it deployed when its loop ends (skaffold.md §4, ``--cleanup``), so the stores
are not Skaffold's: ``up`` applies them in a step of their own, and their data lives on
PersistentVolumeClaims that no Ctrl-C touches (the manifests say where the volumes are).

The step's check is one ``kubectl get`` of the kinds the directory holds: every object must exist and
carry, in the annotation ``kubectl apply`` writes (``kubectl.kubernetes.io/last-applied-configuration``),
exactly what the directory holds now. Then ``up`` changes nothing; otherwise it applies the directory
(``kubectl apply`` is idempotent: unchanged objects stay as they are, a changed image rolls its one pod).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devctl import manifests
from devctl.config import Config
from devctl.context import Context

NAMESPACE = "default"
SUBDIR = "infra"  # under manifests_dir
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# kubectl's resource names for the kinds k8s/infra/ holds (others: the lower-case plural).
RESOURCE_NAMES = {
    "Deployment": "deployments.apps",
    "StatefulSet": "statefulsets.apps",
    "Service": "services",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "ConfigMap": "configmaps",
}


def directory(cfg: Config) -> Path:
    return cfg.path(cfg.manifests_dir) / SUBDIR


def wanted(cfg: Config) -> list[dict[str, Any]]:
    """The objects of k8s/infra/, each placed in the stack's namespace (so the check and the apply agree)."""
    out = []
    for m in manifests.load(directory(cfg)):
        obj = json.loads(json.dumps(m.obj))
        obj.setdefault("metadata", {})["namespace"] = NAMESPACE
        out.append(obj)
    return out


def resources(objs: Iterable[Mapping[str, Any]]) -> str:
    """The one ``kubectl get`` argument that lists every kind among ``objs``."""
    kinds = dict.fromkeys(str(o.get("kind")) for o in objs)
    return ",".join(RESOURCE_NAMES.get(k, k.lower() + "s") for k in kinds)


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    return str(obj.get("kind")), str((obj.get("metadata") or {}).get("name"))


def _comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An object as kubectl apply records it, less what kubectl adds: the namespace when it was missing, and
    an empty ``metadata.annotations`` (GetModifiedConfiguration sets the annotations without its own)."""
    out = json.loads(json.dumps(obj))
    metadata = out.get("metadata") or {}
    metadata.pop("namespace", None)
    if metadata.get("annotations") == {}:
        del metadata["annotations"]
    return dict(out)


def stale(want: Sequence[Mapping[str, Any]], live: Iterable[Mapping[str, Any]]) -> list[str]:
    """``Kind/name`` of every wanted object that is missing, or was last applied with other contents."""
    recorded: dict[tuple[str, str], str] = {}
    for obj in live:
        if (obj.get("metadata") or {}).get("namespace") == NAMESPACE:
            recorded[_key(obj)] = ((obj.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED) or ""
    out = []
    for obj in want:
        text = recorded.get(_key(obj))
        try:
            same = text is not None and _comparable(json.loads(text or "null") or {}) == _comparable(obj)
        except json.JSONDecodeError:
            same = False
        if not same:
            out.append("/".join(_key(obj)))
    return out


def applied_counts(kubectl_output: str) -> dict[str, int]:
    """kubectl apply's ``<kind>/<name> created|configured|unchanged`` lines, counted by verb."""
    counts: dict[str, int] = {}
    for line in kubectl_output.splitlines():
        verb = line.rsplit(" ", 1)[-1] if " " in line else ""
        if verb in ("created", "configured", "unchanged"):
            counts[verb] = counts.get(verb, 0) + 1
    return counts


@dataclass
class InfraStep:
    """Apply k8s/infra/ when the cluster does not hold it as it is now (check: one kubectl get)."""

    name: str = "infra"
    title: str = "Databases, Redis and NATS"
    needs: tuple[str, ...] = ("cluster",)
    want: list[dict[str, Any]] = field(default_factory=list)

    def check(self, ctx: Context) -> str | None:
        self.want = wanted(ctx.cfg)
        live = ctx.kubectl.get_json(resources(self.want), namespace=NAMESPACE) or {}
        if stale(self.want, live.get("items") or []):
            return None
        return f"{len(self.want)} objects of {SUBDIR}/ already applied; their data stays where it is"

    def apply(self, ctx: Context) -> str:
        want = self.want or wanted(ctx.cfg)
        listing = {"apiVersion": "v1", "kind": "List", "items": want}
        res = ctx.kubectl.apply(json.dumps(listing))
        counts = applied_counts(res.stdout)
        done = ", ".join(f"{n} {verb}" for verb, n in counts.items()) or f"{len(want)} objects"
        return f"applied {SUBDIR}/ ({done}); the data lives on PersistentVolumeClaims"

    def describe(self, ctx: Context) -> list[str]:
        want = wanted(ctx.cfg)
        names = ", ".join("/".join(_key(o)) for o in want if o.get("kind") == "Deployment")
        return [
            f"{' '.join(ctx.kubectl.argv('get', resources(want), '-n', NAMESPACE, '-o', 'json'))}",
            f"{' '.join(ctx.kubectl.argv('apply', '-f', '-'))} < {directory(ctx.cfg)} "
            f"(when anything differs: {names} with their Services and PersistentVolumeClaims)",
        ]
