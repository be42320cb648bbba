"""What the stack asks of the Docker engine: the memory and CPU its manifests request and may use at most,
plus the kind node and the ingress controller around it. `devctl doctor` compares these with the engine's
``docker info`` (``MemTotal``, ``NCPU``).

Computed from whatever the manifests directory holds (every workload under it, recursively, through the one
loader ``devctl.manifests``), so a new workload or a changed limit moves the figures without a code change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devctl import manifests

# Kubernetes quantities (apimachinery resource.Quantity): a decimal number with an optional suffix.
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P|m)?")
_UNITS = {
    None: 1,
    "m": 1e-3,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
}
# The objects whose pod template runs containers (a bare Pod carries its spec itself).
_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")

# The kind node (API server, etcd, controller manager, scheduler, kubelet, containerd, CoreDNS, kindnet) and
# the ingress-nginx controller at rest. The README's budget ("add about 1 GiB for the kind node itself and
# ingress-nginx"); an estimate, not a measurement: kind cannot run on the machines devctl is developed on.
NODE_AND_INGRESS_MEMORY = 2**30
# What they declare as CPU requests: kubeadm's static Pods (kube-apiserver 250m, kube-controller-manager 200m,
# kube-scheduler 100m, etcd 100m), CoreDNS 2 x 100m, kindnet 100m (kind pkg/build/nodeimage/const_cni.go)
# and the ingress-nginx controller 100m (its kind manifest).
NODE_AND_INGRESS_CPU = 1.05
WHERE_FROM = (
    "the requests and limits of the manifests under {dir}/, plus about 1 GiB for the kind node and "
    "ingress-nginx (README, Memory budget)"
)


def memory_bytes(quantity: str | int) -> int:
    """A Kubernetes memory quantity (``256Mi``, ``1G``, ``1048576``) in bytes."""
    return int(_quantity(quantity))


def cpu_cores(quantity: str | int | float) -> float:
    """A Kubernetes CPU quantity (``250m``, ``0.5``, ``2``) in cores."""
    return _quantity(quantity)


def _quantity(quantity: str | int | float) -> float:
    m = _QUANTITY.fullmatch(str(quantity).strip())
    if not m:
        raise ValueError(f"not a Kubernetes quantity: {quantity!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass(frozen=True)
class WorkloadClaim:
    """One workload's claim, summed over its containers and replicas."""

    name: str  # Kind/name
    memory_request: int
    memory_limit: int
    cpu_request: float
    cpu_limit: float
    no_memory_limit: tuple[str, ...] = ()  # containers without one (their request is counted instead)


@dataclass(frozen=True)
class StackResources:
    workloads: tuple[WorkloadClaim, ...]

    @property
    def memory_requests(self) -> int:
        return sum(w.memory_request for w in self.workloads)

    @property
    def memory_limits(self) -> int:
        return sum(w.memory_limit for w in self.workloads)

    @property
    def cpu_requests(self) -> float:
        return sum(w.cpu_request for w in self.workloads)

    @property
    def unbounded(self) -> tuple[str, ...]:
        return tuple(c for w in self.workloads for c in w.no_memory_limit)

    # What the engine must have: the stack plus the node and the ingress controller.

    @property
    def memory_needed(self) -> int:
        """Below this the pods cannot all start: their requests plus the node and ingress at rest."""
        return self.memory_requests + NODE_AND_INGRESS_MEMORY

    @property
    def memory_wanted(self) -> int:
        """Below this the stack can run out of memory under load: its limits plus the node and ingress."""
        return self.memory_limits + NODE_AND_INGRESS_MEMORY

    @property
    def cpus_needed(self) -> int:
        """The CPUs the requests add up to (CPU limits only throttle, so they are no threshold)."""
        return math.ceil(self.cpu_requests + NODE_AND_INGRESS_CPU)


def of_objects(objects: Iterable[Mapping[str, Any]]) -> StackResources:
    return StackResources(tuple(w for obj in objects if (w := workload(obj)) is not None))


def of_manifests(root: Path) -> StackResources:
    """The claims of every workload under ``root`` (UsageError when a manifest cannot be read)."""
    return of_objects(m.obj for m in manifests.load(root))


def workload(obj: Mapping[str, Any]) -> WorkloadClaim | None:
    """A workload's claim; None for objects that run no containers. A pod's effective request is the larger
    of its containers' sum and its biggest init container (they run before, not beside, the others)."""
    kind = obj.get("kind")
    if kind == "Pod":
        pod, replicas = obj.get("spec") or {}, 1
    elif kind in _WORKLOADS:
        spec = obj.get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or {}
        replicas = 1 if kind in ("DaemonSet", "Job") else int(spec.get("replicas", 1))
    else:
        return None
    name = f"{kind}/{(obj.get('metadata') or {}).get('name')}"
    containers = [_claim(c) for c in pod.get("containers") or []]
    inits = [_claim(c) for c in pod.get("initContainers") or []]

    def effective(index: int) -> float:
        return max(sum(c[index] for c in containers), max((c[index] for c in inits), default=0))

    unbounded = tuple(f"{name} container {c.get('name')}" for c in pod.get("containers") or [] if _limit(c) is None)
    return WorkloadClaim(
        name,
        memory_request=int(effective(0)) * replicas,
        memory_limit=int(effective(1)) * replicas,
        cpu_request=effective(2) * replicas,
        cpu_limit=effective(3) * replicas,
        no_memory_limit=unbounded,
    )


def _limit(container: Mapping[str, Any]) -> Any:
    return ((container.get("resources") or {}).get("limits") or {}).get("memory")


def _claim(container: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """(memory request, memory limit, cpu request, cpu limit). Kubernetes takes a missing request to be
    the limit; a missing limit is counted as the request (the stack's budget then says it is unbounded)."""
    res = container.get("resources") or {}
    requests, limits = res.get("requests") or {}, res.get("limits") or {}
    mem_limit = memory_bytes(limits["memory"]) if "memory" in limits else None
    mem_request = memory_bytes(requests["memory"]) if "memory" in requests else (mem_limit or 0)
    cpu_limit = cpu_cores(limits["cpu"]) if "cpu" in limits else None
    cpu_request = cpu_cores(requests["cpu"]) if "cpu" in requests else (cpu_limit or 0.0)
    return (
        mem_request,
        mem_limit if mem_limit is not None else mem_request,
        cpu_request,
        cpu_limit if cpu_limit is not None else cpu_request,
    )


def gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"
