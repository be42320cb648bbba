"""Pods of a fake cluster as a real one shows them: placed on the node, replaced, or failing in the shapes a
developer meets (what `devctl status` explains).

Field names and nesting are the Pod v1 API's (Kubernetes API reference, "Pod v1 core", PodStatus:
`phase`, `conditions[]` {type, status, reason, message}, `containerStatuses[]` {name, image, ready,
started, restartCount, state, lastState}; ContainerState is one of `waiting` {reason, message},
`running` {startedAt}, `terminated` {exitCode, reason, startedAt, finishedAt}). The texts, per shape:

- CrashLoopBackOff: kubelet pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff,
  `back-off %s restarting failed container=%s pod=%s` (format.Pod: `<name>_<namespace>(<uid>)`); the
  last run in `lastState.terminated` (exit 1, reason Error);
- OOMKilled: the same, the last run ended by the kernel's OOM killer: exit 137, reason OOMKilled;
- ImagePullBackOff: kubelet pkg/kubelet/images/image_manager.go, `Back-off pulling image %q`;
- ErrImagePull: containerd's answer through the CRI, `rpc error: code = NotFound desc = failed to pull and
  unpack image "<ref>": failed to resolve reference "<ref>": <ref>: not found`;
- CreateContainerConfigError: kubelet pkg/kubelet/kubelet_pods.go makeEnvironmentVariables, `couldn't find
  key %v in Secret %v/%v` for the container's first secretKeyRef;
- Unschedulable: condition PodScheduled False, reason Unschedulable, the scheduler's FitError text
  `0/N nodes are available: N Insufficient memory. preemption: ...` (pkg/scheduler/schedule_one.go,
  noderesources/fit.go); no node, no container statuses;
- ReadinessFailed: the container runs but is not ready; the kubelet's prober records an Event (reason
  Unhealthy, type Warning) `Readiness probe failed: dial tcp <podIP>:<port>: connect: connection refused`
  (a tcpSocket probe), involvedObject the pod with fieldPath `spec.containers{<name>}`.

Knobs (FakeWorld.set_knob):
- pod_failures: {deployment: shape} (shapes above);
- pod_generations: {deployment: n}: its pod was replaced n times; each has a new name, so what lived in
  the old pod (an emptyDir, a port-forward's connection) is gone;
- previous_logs: {deployment: [lines]}: what the crashed container wrote (`kubectl logs --previous`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fakelib import cluster_objects as co
from fakelib import state

SHAPES = ("CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
          "Unschedulable", "ReadinessFailed")
PRIOR_RUN = "2026-01-01T00:00:00Z"


def failure(name: str, knobs: dict[str, Any]) -> str | None:
    shape = (knobs.get("pod_failures") or {}).get(name)
    return str(shape) if shape else None


def generation(name: str, knobs: dict[str, Any]) -> int:
    return int((knobs.get("pod_generations") or {}).get(name, 0) or 0)


def pod_ip(pod: str) -> str:
    # kind's default pod CIDR is 10.244.0.0/16.
    h = hashlib.sha1(pod.encode()).digest()
    return f"10.244.0.{max(h[0], 2)}"


def _uid(pod: str) -> str:
    h = hashlib.sha1(("uid" + pod).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _node(objects: dict[str, Any]) -> str | None:
    return next((o["metadata"]["name"] for o in objects.values() if o.get("kind") == "Node"), None)


def _not_ready(pod: dict[str, Any], containers: list[str]) -> None:
    pod["status"]["conditions"] = [
        {"type": "PodScheduled", "status": "True"},
        {"type": "Initialized", "status": "True"},
        {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady",
         "message": f"containers with unready status: [{' '.join(containers)}]"},
        {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
         "message": f"containers with unready status: [{' '.join(containers)}]"},
    ]


def _secret_ref(container: dict[str, Any]) -> tuple[str, str] | None:
    for env in container.get("env") or []:
        ref = (env.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            return str(ref.get("name")), str(ref.get("key"))
    return None


def _waiting(shape: str, pod: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
    md = pod["metadata"]
    image = c.get("image", "")
    if shape in ("CrashLoopBackOff", "OOMKilled"):
        who = f"{md['name']}_{md['namespace']}({_uid(md['name'])})"
        message = f"back-off 2m40s restarting failed container={c['name']} pod={who}"
        return {"reason": "CrashLoopBackOff", "message": message}
    if shape == "ImagePullBackOff":
        return {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
    if shape == "ErrImagePull":
        return {"reason": "ErrImagePull", "message": f'rpc error: code = NotFound desc = failed to pull and unpack '
                f'image "{image}": failed to resolve reference "{image}": {image}: not found'}
    ref = _secret_ref(c)
    text = f"couldn't find key {ref[1]} in Secret {md['namespace']}/{ref[0]}" if ref else 'secret "missing" not found'
    return {"reason": "CreateContainerConfigError", "message": text}


def _failing_status(shape: str, pod: dict[str, Any], objects: dict[str, Any]) -> None:
    status = pod["status"]
    containers = pod["spec"].get("containers") or []
    names = [c["name"] for c in containers]
    if shape == "Unschedulable":
        n = sum(1 for o in objects.values() if o.get("kind") == "Node")
        pod["spec"].pop("nodeName", None)
        status.update(phase="Pending", containerStatuses=[], conditions=[{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastTransitionTime": PRIOR_RUN,
            "message": f"0/{n} nodes are available: {n} Insufficient memory. preemption: 0/{n} nodes are available: "
                       f"{n} No preemption victims found for incoming pod."}])
        return
    _not_ready(pod, names)
    statuses = []
    for c in containers:
        cs: dict[str, Any] = {"name": c["name"], "image": c.get("image", ""), "ready": False, "started": False,
                              "restartCount": 0}
        if shape == "ReadinessFailed":
            cs.update(started=True, state={"running": {"startedAt": PRIOR_RUN}})
        else:
            cs["state"] = {"waiting": _waiting(shape, pod, c)}
        if shape in ("CrashLoopBackOff", "OOMKilled"):
            code, why = (137, "OOMKilled") if shape == "OOMKilled" else (1, "Error")
            cs["restartCount"] = 5
            cs["lastState"] = {"terminated": {"exitCode": code, "reason": why, "startedAt": PRIOR_RUN,
                                              "finishedAt": PRIOR_RUN}}
        statuses.append(cs)
    status.update(phase="Pending" if shape not in ("CrashLoopBackOff", "OOMKilled", "ReadinessFailed") else "Running",
                  containerStatuses=statuses)


def shape(pod: dict[str, Any], deployment: dict[str, Any], objects: dict[str, Any], knobs: dict[str, Any]) -> None:
    """Give a derived pod its node and IP, and the failure the knobs ask for."""
    pod["spec"] = dict(pod["spec"])  # the Deployment's template is shared: never write into it
    node = _node(objects)
    if node:
        pod["spec"]["nodeName"] = node
    pod["status"]["podIP"] = pod_ip(pod["metadata"]["name"])
    for cs in pod["status"].get("containerStatuses") or []:
        if "running" in cs.get("state", {}):
            cs["state"] = {"running": {"startedAt": pod["metadata"].get("creationTimestamp")}}
            cs["started"] = True
    wanted = failure(deployment["metadata"]["name"], knobs)
    if wanted in SHAPES:
        _failing_status(wanted, pod, objects)


# -- the controllers' side (sims.refresh, before every read) ------------------------------------------------


def refresh(objects: dict[str, Any]) -> None:
    """A Deployment whose pods fail is not available; a failing readiness probe leaves its Event."""
    knobs = state.read()["knobs"]
    for dep in [o for o in objects.values() if o.get("kind") == "Deployment"]:
        shape_name = failure(dep["metadata"]["name"], knobs)
        if not shape_name:
            continue
        st = dep.setdefault("status", {})
        st.pop("readyReplicas", None)
        st.pop("availableReplicas", None)
        st["unavailableReplicas"] = int(dep.get("spec", {}).get("replicas", 1))
        if shape_name == "ReadinessFailed":
            _unhealthy(objects, dep, knobs)


def _unhealthy(objects: dict[str, Any], dep: dict[str, Any], knobs: dict[str, Any]) -> None:
    ns = dep["metadata"].get("namespace", "default")
    container = (dep["spec"]["template"]["spec"].get("containers") or [{}])[0]
    port = next((p.get("containerPort") for p in container.get("ports") or []), 3000)
    pod = co.pod_name(dep["metadata"]["name"], pod_seed(dep, 0, knobs))
    now = co._now()
    ev = objects.setdefault(co.key("Event", ns, f"{pod}.unhealthy"), {
        "apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "Unhealthy", "count": 0,
        "metadata": {"name": f"{pod}.unhealthy", "namespace": ns, "creationTimestamp": now},
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns,
                           "fieldPath": f"spec.containers{{{container.get('name')}}}"},
        "source": {"component": "kubelet", "host": _node(objects) or ""},
        "message": f"Readiness probe failed: dial tcp {pod_ip(pod)}:{port}: connect: connection refused",
        "firstTimestamp": now,
    })
    ev["count"] = int(ev["count"]) + 1
    ev["lastTimestamp"] = now


def pod_seed(dep: dict[str, Any], index: int, knobs: dict[str, Any]) -> dict[str, Any]:
    """What a derived pod's name is hashed from: its template, its index, and how often it was replaced."""
    seed: dict[str, Any] = {"t": repr(dep.get("spec", {}).get("template", {})), "i": index}
    gen = generation(dep["metadata"]["name"], knobs)
    if gen:
        seed["g"] = gen
    return seed


def field_selected(items: list[dict[str, Any]], selector: str | None) -> list[dict[str, Any]]:
    """`--field-selector a.b=v,c!=w` over the objects' fields (equality forms only)."""
    if not selector:
        return items
    out = []
    for obj in items:
        keep = True
        for term in selector.split(","):
            negate = "!=" in term
            path, _, want = term.partition("!=" if negate else "=")
            value: Any = obj
            for part in path.strip().lstrip("=").split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if (str(value) == want.strip().lstrip("=")) == negate:
                keep = False
        if keep:
            out.append(obj)
    return out
