"""kind's storage in a fake cluster: the `standard` StorageClass and its local-path provisioner.

kind installs rancher's local-path-provisioner as the default class `standard` with `volumeBindingMode:
WaitForFirstConsumer` and `reclaimPolicy: Delete` (kind pkg/build/nodeimage/const_storage.go). So:

- a PersistentVolumeClaim stays `Pending` until a pod that uses it exists; then the provisioner makes a
  PersistentVolume `pvc-<uid>` (its `spec.claimRef` names the claim) and the claim is `Bound` (status
  `phase`, `accessModes`, `capacity`: PersistentVolumeClaim v1, Kubernetes API reference);
- deleting the claim deletes its volume, and with it the data (Delete).

The binding is kept on the volume's claimRef and in the claim's status: the fake's apply stores a claim as
applied, so re-applying it finds its volume again, as kubectl apply leaves a real claim's spec.volumeName.
What is stored on a volume (`devctl data` through `kubectl exec`) is kept per volume name by pod_exec.
"""

from __future__ import annotations

import uuid
from typing import Any

from fakelib import cluster_objects as co

DEFAULT_CLASS = "standard"


def _claims_in_use(objects: dict[str, Any]) -> set[tuple[str, str]]:
    used = set()
    for dep in objects.values():
        if dep.get("kind") != "Deployment":
            continue
        ns = dep["metadata"].get("namespace", "default")
        for vol in dep.get("spec", {}).get("template", {}).get("spec", {}).get("volumes") or []:
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                used.add((ns, claim))
    return used


def volume_of(objects: dict[str, Any], namespace: str, claim: str) -> str | None:
    """The PersistentVolume bound to a claim, if any."""
    for pv in objects.values():
        ref = pv.get("spec", {}).get("claimRef") or {}
        if pv.get("kind") == "PersistentVolume" and (ref.get("namespace"), ref.get("name")) == (namespace, claim):
            return str(pv["metadata"]["name"])
    return None


def refresh(objects: dict[str, Any]) -> None:
    claims = {(o["metadata"].get("namespace", "default"), o["metadata"]["name"]): o
              for o in objects.values() if o.get("kind") == "PersistentVolumeClaim"}
    for k, pv in list(objects.items()):  # reclaimPolicy Delete: a volume goes with its claim
        ref = pv.get("spec", {}).get("claimRef") or {}
        if pv.get("kind") == "PersistentVolume" and (ref.get("namespace"), ref.get("name")) not in claims:
            del objects[k]
    used = _claims_in_use(objects)
    for (ns, name), claim in claims.items():
        spec = claim.setdefault("spec", {})
        cls = spec.get("storageClassName") or DEFAULT_CLASS
        volume = volume_of(objects, ns, name)
        if volume is None and cls == DEFAULT_CLASS and (ns, name) in used:
            volume = f"pvc-{uuid.uuid4()}"
            objects[co.key("PersistentVolume", "", volume)] = {
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": volume, "creationTimestamp": co._now(),
                             "annotations": {"pv.kubernetes.io/provisioned-by": "rancher.io/local-path"}},
                "spec": {"storageClassName": cls, "persistentVolumeReclaimPolicy": "Delete",
                         "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                         "capacity": dict((spec.get("resources") or {}).get("requests") or {}),
                         "claimRef": {"kind": "PersistentVolumeClaim", "namespace": ns, "name": name},
                         "hostPath": {"path": f"/var/local-path-provisioner/{volume}_{ns}_{name}"}},
                "status": {"phase": "Bound"},
            }
        if volume is None:
            claim["status"] = {"phase": "Pending"}
        else:
            claim["status"] = {"phase": "Bound", "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                               "capacity": dict((spec.get("resources") or {}).get("requests") or {})}
