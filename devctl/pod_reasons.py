"""Why a service's pods are not ready, in one line, from the objects the API returns.

The fields read are the Pod's status as the Kubernetes API reference describes it (Pod v1, PodStatus:
``phase``, ``conditions[]`` ``{type, status, reason, message}``, ``containerStatuses[]`` with ``state`` and
``lastState``, each ``waiting {reason, message}``, ``running``, or ``terminated {exitCode, reason}``), the
Node's ``status.allocatable`` and the ``Unhealthy`` Events the kubelet records for a failing probe. The
first that applies wins:

1. a container waiting for a reason other than starting up: ``CrashLoopBackOff`` (with its last exit),
   ``ImagePullBackOff``/``ErrImagePull`` (with the image), ``CreateContainerConfigError`` (the message names
   the missing Secret or key), ...;
2. a container's last termination: the exit code, and for ``OOMKilled`` the memory limit it hit;
3. the pod cannot be scheduled (``PodScheduled`` false, reason ``Unschedulable``): the scheduler's message,
   what the pod requests and what each node has left;
4. a failing readiness probe: the latest ``Unhealthy`` event's message;
5. still starting (``ContainerCreating``, ``PodInitializing``).

A crashed container's last log line (``kubectl logs --previous --tail=1``) is added when it was read.
Everything here is pure; ``fetch_extras`` makes the calls, only for services that are not ready.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from devctl.context import Context
from devctl.errors import CommandError, CommandTimeout

STARTING = ("ContainerCreating", "PodInitializing")
PULL_REASONS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName")
LOG_CALL_TIMEOUT = 10.0

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Extras:
    """What one more read adds: the pods' Unhealthy events, crashed containers' last log lines."""

    events: tuple[Obj, ...] = ()
    last_lines: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (pod, container) -> line


def _md(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _status(obj: Obj) -> Mapping[str, Any]:
    return obj.get("status") or {}


def _spec(obj: Obj) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _containers(pod: Obj) -> list[Mapping[str, Any]]:
    return list(_spec(pod).get("containers") or [])


def _newest_first(pods: Iterable[Obj]) -> list[Obj]:
    return sorted(pods, key=lambda p: str(_md(p).get("creationTimestamp") or ""), reverse=True)


# --- quantities ----------------------------------------------------------------------------------------

_QUANTITY = re.compile(r"([0-9.]+)([A-Za-z]*)")
_MEMORY = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def memory_bytes(quantity: Any) -> int | None:
    """A memory quantity (``128Mi``, ``3969436Ki``, ``1G``) in bytes; None when it is not one."""
    m = _QUANTITY.fullmatch(str(quantity or "").strip())
    if not m or m.group(2) not in _MEMORY:
        return None
    return int(float(m.group(1)) * _MEMORY[m.group(2)])


def memory_text(n: int) -> str:
    """Bytes as kubectl-style binary units: 320Mi, 3.8Gi."""
    for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n >= size:
            value = n / size
            return f"{value:.1f}{unit}".replace(".0" + unit, unit)
    return f"{n}"


def requested_memory(pod: Obj) -> int:
    return sum(memory_bytes(((c.get("resources") or {}).get("requests") or {}).get("memory")) or 0
               for c in _containers(pod))  # fmt: skip


def _limit(pod: Obj, container: str) -> str | None:
    for c in _containers(pod):
        if c.get("name") == container:
            limit = ((c.get("resources") or {}).get("limits") or {}).get("memory")
            return str(limit) if limit else None
    return None


# --- the parts of a reason ----------------------------------------------------------------------------


def termination_text(pod: Obj, container: str, terminated: Mapping[str, Any]) -> str:
    """``exit code 1 (Error)``, or ``OOMKilled at the memory limit 256Mi (exit code 137)``."""
    code = terminated.get("exitCode")
    why = str(terminated.get("reason") or "")
    if why == "OOMKilled":
        limit = _limit(pod, container)
        at = f" at the memory limit {limit}" if limit else ""
        return f"OOMKilled{at} (exit code {code})"
    return f"exit code {code}" + (f" ({why})" if why else "")


def _waiting_text(pod: Obj, cs: Mapping[str, Any], waiting: Mapping[str, Any]) -> str:
    reason = str(waiting.get("reason") or "Waiting")
    message = str(waiting.get("message") or "")
    if reason == "CrashLoopBackOff":
        last = ((cs.get("lastState") or {}).get("terminated")) or {}
        return "CrashLoopBackOff: " + (termination_text(pod, str(cs.get("name")), last) if last else message)
    if reason in PULL_REASONS:
        image = str(cs.get("image") or "")
        text = f"{reason}: image {image}" if image else reason
        # The kubelet's back-off message only repeats the image (image_manager.go: `Back-off pulling image %q`).
        return text + (f": {message}" if message and message != f'Back-off pulling image "{image}"' else "")
    return f"{reason}: {message}" if message else reason


def _unschedulable(pod: Obj, nodes: Sequence[Obj], pods: Sequence[Obj]) -> str | None:
    cond = next((c for c in _status(pod).get("conditions") or []
                 if c.get("type") == "PodScheduled" and c.get("status") == "False"), None)  # fmt: skip
    if cond is None or cond.get("reason") != "Unschedulable":
        return None
    text = f"Unschedulable: {str(cond.get('message') or '').strip()}"
    wants = requested_memory(pod)
    if not wants and not nodes:
        return text
    have = []
    for node in nodes:
        name = str(_md(node).get("name"))
        allocatable = memory_bytes((_status(node).get("allocatable") or {}).get("memory"))
        if allocatable is None:
            continue
        used = sum(requested_memory(p) for p in pods if _spec(p).get("nodeName") == name
                   and _status(p).get("phase") not in ("Succeeded", "Failed"))  # fmt: skip
        have.append(f"node {name} has {memory_text(allocatable)} allocatable, {memory_text(used)} of it requested")
    return text + f" (the pod requests {memory_text(wants)} of memory" + "".join(f"; {h}" for h in have) + ")"


def _probe_failure(pod: Obj, events: Sequence[Obj]) -> str | None:
    name = _md(pod).get("name")
    mine = [e for e in events if (e.get("involvedObject") or {}).get("name") == name and e.get("reason") == "Unhealthy"]
    readiness = [e for e in mine if "Readiness probe" in str(e.get("message") or "")] or mine
    if not readiness:
        return None
    latest = max(readiness, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
    return f"not ready: {str(latest.get('message') or '').strip()}"


# --- the verdict --------------------------------------------------------------------------------------


def _container_reason(pod: Obj) -> tuple[str, str] | None:
    """(text, container) from the first container that waits for a reason, or terminated, in this pod."""
    for cs in _status(pod).get("containerStatuses") or []:
        state = cs.get("state") or {}
        waiting = state.get("waiting")
        if waiting and waiting.get("reason") not in STARTING:
            return _waiting_text(pod, cs, waiting), str(cs.get("name"))
    for cs in _status(pod).get("containerStatuses") or []:
        if cs.get("ready"):
            continue
        terminated = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
        if terminated:
            return "last run: " + termination_text(pod, str(cs.get("name")), terminated), str(cs.get("name"))
    return None


def log_target(pods: Sequence[Obj]) -> tuple[str, str] | None:
    """(pod, container) whose previous log the reason quotes: the container the reason names, when it has
    run and ended before (a crash); None otherwise."""
    for pod in _newest_first(pods):
        found = _container_reason(pod)
        if found is None:
            continue
        statuses: list[Mapping[str, Any]] = _status(pod).get("containerStatuses") or []
        cs = next((s for s in statuses if s.get("name") == found[1]), {})
        ended = (cs.get("lastState") or {}).get("terminated") or (cs.get("state") or {}).get("terminated")
        return (str(_md(pod).get("name")), found[1]) if ended else None
    return None


def needs_events(pods: Sequence[Obj]) -> bool:
    """Only the kubelet's events say what a readiness probe answered: read them when a container runs unready
    and nothing its status says comes first."""
    if any(_container_reason(pod) for pod in pods):
        return False
    return any(
        "running" in (cs.get("state") or {}) and not cs.get("ready")
        for pod in pods
        for cs in _status(pod).get("containerStatuses") or []
    )


def _starting(pod: Obj) -> str | None:
    for cs in _status(pod).get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason") in STARTING:
            return f"starting ({waiting['reason']})"
    if _status(pod).get("phase") == "Pending":
        return "starting (Pending)"
    return None


def reason(
    pods: Sequence[Obj], nodes: Sequence[Obj] = (), all_pods: Sequence[Obj] = (), extras: Extras | None = None
) -> str | None:
    """The one line that says why these pods (one service's) are not ready; None when nothing says.
    ``all_pods``: every pod of the cluster (what the nodes' memory is already requested by)."""
    extras = extras or Extras()
    ordered = _newest_first(pods)
    for pod in ordered:
        found = _container_reason(pod)
        if found is not None:
            text, container = found
            line = extras.last_lines.get((str(_md(pod).get("name")), container))
            return text + (f"; last log: {line}" if line else "")
    scheduling = (_unschedulable(pod, nodes, all_pods or pods) for pod in ordered)
    probes = (_probe_failure(pod, extras.events) for pod in ordered)
    starting = (_starting(pod) for pod in ordered)
    return next((text for found in (scheduling, probes, starting) for text in found if text), None)


# --- the extra reads ----------------------------------------------------------------------------------


def fetch_extras(ctx: Context, services: Sequence[Sequence[Obj]], namespace: str) -> Extras:
    """For services that are not ready (each given by its pods): the Unhealthy events (one call, when one of
    them needs them) and the last log line of each one's crashed container (one call per service, all at
    once). A read that fails leaves its part out."""
    pairs = [target for pods in services if (target := log_target(pods))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        events = pool.submit(_events, ctx, namespace) if any(needs_events(pods) for pods in services) else None
        lines = {pair: pool.submit(_last_line, ctx, namespace, *pair) for pair in pairs}
        got = {pair: line for pair, future in lines.items() if (line := future.result())}
        return Extras(tuple(events.result()) if events is not None else (), got)


def _events(ctx: Context, namespace: str) -> list[Obj]:
    try:
        res = ctx.kubectl.read("get", "events", "-n", namespace, "--field-selector", "reason=Unhealthy", "-o",
                               "json", timeout=LOG_CALL_TIMEOUT)  # fmt: skip
    except (CommandError, CommandTimeout):
        return []
    try:
        items = json.loads(res.stdout or "{}").get("items") or []
    except (ValueError, AttributeError):
        return []
    return [i for i in items if isinstance(i, dict)]


def _last_line(ctx: Context, namespace: str, pod: str, container: str) -> str:
    try:
        res = ctx.kubectl.read("logs", pod, "-n", namespace, "-c", container, "--previous", "--tail=1",
                               timeout=LOG_CALL_TIMEOUT)  # fmt: skip
    except (CommandError, CommandTimeout):
        return ""  # e.g. the previous container's log is gone already
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""
