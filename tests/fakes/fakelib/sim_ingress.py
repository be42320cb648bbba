"""Simulated ingress-nginx (controller-v1.15.1, kind provider) inside a fake cluster.

What it reproduces (ingress-nginx.md §2-§4):
- the create Job makes the admission Secret, the patch Job copies its CA into the
  ValidatingWebhookConfiguration's caBundle; both Jobs vanish when done (`ttlSecondsAfterFinished: 0`, §2/§3);
- the controller Deployment cannot become ready before that Secret exists (it mounts it, §2);
- the admission Service's EndpointSlice has the controller pod, ready only once the controller is;
- the start-up race: while the webhook exists with `failurePolicy: Fail` but cannot answer, every Ingress
  create/update (dry-run included) fails with the texts of §3; a VWC left behind after its namespace was
  deleted fails with `service ... not found` (§3 "Stale webhook configuration");
- validation at admission (§4): strict-validate-path-type and the host+path overlap check.

Knobs (FakeWorld.set_knob):
- ingress_ready_after: seconds after the Deployment was applied until the controller is ready (default 0);
- ingress_never_ready: the controller never becomes ready (readiness probe fails);
- ingress_cabundle_after: seconds after the patch Job was applied until it has patched the caBundle (default 0);
- ingress_endpoints_after: seconds the EndpointSlice lags behind the ready controller (default 0);
- webhook_refuse_calls: the first N admission calls that reach a ready webhook are refused anyway.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any

from fakelib import cluster_objects as co
from fakelib import state

NS = "ingress-nginx"
CONTROLLER = "ingress-nginx-controller"
WEBHOOK = "validate.nginx.ingress.kubernetes.io"
_APPLIED = "fake/applied-at"

# §4, internal/ingress/inspector/rules.go: what Exact/Prefix paths may look like under strict validation.
_VALID_PATH = re.compile(r"^/[A-Za-z0-9._\-/]*$")


def _applied_at(obj: dict[str, Any]) -> float:
    return float((obj.get("metadata", {}).get("annotations") or {}).get(_APPLIED, 0) or 0)


def _knob_seconds(name: str) -> float:
    return float(state.knob(name, 0) or 0)


def _arg(obj: dict[str, Any], flag: str) -> str | None:
    """The value of `--flag=value` in the first container's args of a Job or Deployment."""
    containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [{}]
    for a in containers[0].get("args") or []:
        if a.startswith(flag + "="):
            return str(a.split("=", 1)[1])
    return None


def _cluster_ip(service: str) -> str:
    # Services get a ClusterIP from kind's default service CIDR 10.96.0.0/16 (§3: "dial tcp 10.96.x.y:443").
    h = hashlib.sha1(service.encode()).digest()
    return f"10.96.{h[0]}.{max(h[1], 1)}"


# -- controllers (refresh before every read, on_applied after every apply) ----------------------------


def on_applied(objects: dict[str, Any], obj: dict[str, Any]) -> None:
    if obj.get("kind") != "ValidatingWebhookConfiguration":
        return
    # `kubectl apply` merges: a caBundle the patch Job set is not in the manifest, so re-applying it keeps
    # the caBundle. The fake stores what was applied, so put back the CA of the current Secret, if any.
    for hook in obj.get("webhooks") or []:
        svc = (hook.get("clientConfig") or {}).get("service") or {}
        secret = objects.get(co.key("Secret", svc.get("namespace", ""), "ingress-nginx-admission"))
        if secret is not None and not hook["clientConfig"].get("caBundle"):
            hook["clientConfig"]["caBundle"] = secret["data"]["ca"]


def refresh(objects: dict[str, Any]) -> None:
    now = time.time()
    _run_jobs(objects, now)
    _controller_status(objects, now)
    _endpoint_slices(objects, now)


def _run_jobs(objects: dict[str, Any], now: float) -> None:
    for k, job in list(objects.items()):
        if job["kind"] != "Job" or job["metadata"].get("namespace") != NS:
            continue
        containers = job.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [{}]
        args = containers[0].get("args") or []
        secret_name = _arg(job, "--secret-name") or "ingress-nginx-admission"
        secret_key = co.key("Secret", NS, secret_name)
        done = False
        if args[:1] == ["create"]:
            # kube-webhook-certgen create: a CA and a serving cert, kept if the Secret already exists.
            if secret_key not in objects:
                ca = base64.b64encode(f"-----BEGIN CERTIFICATE-----\nfake CA {now}\n".encode()).decode()
                objects[secret_key] = {
                    "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": {"name": secret_name, "namespace": NS, "creationTimestamp": co._now(),
                                 "annotations": {_APPLIED: now}},
                    "data": {"ca": ca, "cert": ca, "key": base64.b64encode(b"fake key").decode()},
                }
            done = True
        elif args[:1] == ["patch"]:
            secret = objects.get(secret_key)
            if secret is not None and now - _applied_at(job) >= _knob_seconds("ingress_cabundle_after"):
                vwc = objects.get(co.key("ValidatingWebhookConfiguration", "", _arg(job, "--webhook-name") or ""))
                for hook in (vwc or {}).get("webhooks") or []:
                    hook.setdefault("clientConfig", {})["caBundle"] = secret["data"]["ca"]
                    hook["failurePolicy"] = _arg(job, "--patch-failure-policy") or "Fail"
                done = True
        if done and job.get("spec", {}).get("ttlSecondsAfterFinished") == 0:
            del objects[k]  # §3: with TTL 0 the finished Job is gone at once


def _ready_since(objects: dict[str, Any]) -> float | None:
    """When the controller became ready, or None while it is not."""
    dep = objects.get(co.key("Deployment", NS, CONTROLLER))
    if dep is None or state.knob("ingress_never_ready"):
        return None
    # §2: the pod mounts the admission Secret, so it cannot start before the create Job made it.
    volumes = dep.get("spec", {}).get("template", {}).get("spec", {}).get("volumes") or []
    since = _applied_at(dep) + _knob_seconds("ingress_ready_after")
    for v in volumes:
        name = (v.get("secret") or {}).get("secretName")
        if name:
            secret = objects.get(co.key("Secret", NS, name))
            if secret is None:
                return None
            since = max(since, _applied_at(secret))
    return since if time.time() >= since else None


def _controller_status(objects: dict[str, Any], now: float) -> None:
    dep = objects.get(co.key("Deployment", NS, CONTROLLER))
    if dep is None:
        return
    st = dep.setdefault("status", {})
    if _ready_since(objects) is None:
        st.pop("readyReplicas", None)
        st.pop("availableReplicas", None)
        _unhealthy_event(objects, dep, now)


def _controller_pod(dep: dict[str, Any]) -> str:
    # The name cluster_objects.derived_pods gives the Deployment's first pod.
    return co.pod_name(dep["metadata"]["name"], {"t": repr(dep.get("spec", {}).get("template", {})), "i": 0})


def _unhealthy_event(objects: dict[str, Any], dep: dict[str, Any], now: float) -> None:
    """The kubelet's event for a failing readiness probe (§2: probe GET :10254/healthz; event text is
    the kubelet's, general knowledge), kept as one Event whose count grows, as the API server aggregates."""
    if now - _applied_at(dep) < 1:
        return
    pod = _controller_pod(dep)
    k = co.key("Event", NS, f"{pod}.unhealthy")
    ev = objects.setdefault(k, {
        "apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "Unhealthy", "count": 0,
        "metadata": {"name": f"{pod}.unhealthy", "namespace": NS, "creationTimestamp": co._now()},
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": NS},
        "message": "Readiness probe failed: HTTP probe failed with statuscode: 500",
        "firstTimestamp": co._now(),
    })
    ev["count"] = int(ev["count"]) + 1
    ev["lastTimestamp"] = co._now()


def _endpoint_slices(objects: dict[str, Any], now: float) -> None:
    dep = objects.get(co.key("Deployment", NS, CONTROLLER))
    since = _ready_since(objects)
    for k, o in list(objects.items()):  # a slice goes with its Service (owner reference)
        svc = (o.get("metadata", {}).get("labels") or {}).get("kubernetes.io/service-name")
        if o["kind"] == "EndpointSlice" and co.key("Service", o["metadata"].get("namespace", ""), svc or "") \
                not in objects:
            del objects[k]
    for svc in [o for o in objects.values() if o["kind"] == "Service" and o["metadata"].get("namespace") == NS]:
        name = svc["metadata"]["name"]
        slice_name = f"{name}-{hashlib.sha1(name.encode()).hexdigest()[:5]}"
        endpoints = []
        if dep is not None:
            ready = since is not None and now - since >= _knob_seconds("ingress_endpoints_after")
            endpoints.append({
                "addresses": ["10.244.0.7"],
                "conditions": {"ready": ready, "serving": ready, "terminating": False},
                "nodeName": "tour-control-plane",
                "targetRef": {"kind": "Pod", "name": _controller_pod(dep), "namespace": NS},
            })
        objects[co.key("EndpointSlice", NS, slice_name)] = {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": slice_name, "namespace": NS, "creationTimestamp": svc["metadata"].get(
                "creationTimestamp"), "labels": {"kubernetes.io/service-name": name,
                                                 "endpointslice.kubernetes.io/managed-by":
                                                     "endpointslice-controller.k8s.io"}},
            "endpoints": endpoints,
            "ports": [{"name": p.get("name", ""), "port": p.get("targetPort"), "protocol": "TCP"}
                      for p in svc.get("spec", {}).get("ports") or []],
        }


# -- admission ------------------------------------------------------------------------------------


def admit(context: str, obj: dict[str, Any], *, dry_run: bool) -> str | None:
    if obj.get("kind") != "Ingress":
        return None
    with state.txn() as s:
        objects = co.store(s, context)["objects"]
        for o in objects.values():
            co.refresh_status(o)
        refresh(objects)
        snapshot = {k: v for k, v in objects.items()
                    if v["kind"] in ("ValidatingWebhookConfiguration", "Service", "EndpointSlice", "Secret",
                                     "Ingress")}
    for k, vwc in sorted(snapshot.items()):
        if not k.startswith("ValidatingWebhookConfiguration/"):
            continue
        for hook in vwc.get("webhooks") or []:
            if hook.get("name") != WEBHOOK:
                continue
            failure = _call_failure(snapshot, hook)
            if failure is not None:
                if hook.get("failurePolicy", "Fail") == "Ignore":
                    return None
                # §3: the API server does not retry; kubectl prints the InternalError.
                return (f'Error from server (InternalError): error when creating "{{label}}": Internal error '
                        f'occurred: failed calling webhook "{WEBHOOK}": failed to call webhook: {failure}')
            return _validate(snapshot, obj)
    return None


def _call_failure(objects: dict[str, Any], hook: dict[str, Any]) -> str | None:
    """Why the API server cannot get an answer from the webhook, or None when it can."""
    svc_ref = (hook.get("clientConfig") or {}).get("service") or {}
    svc_name, svc_ns = svc_ref.get("name", ""), svc_ref.get("namespace", "")
    url = f"https://{svc_name}.{svc_ns}.svc:{svc_ref.get('port', 443)}{svc_ref.get('path', '')}?timeout=10s"
    if co.key("Service", svc_ns, svc_name) not in objects:
        return f'Post "{url}": service "{svc_name}" not found'  # §3 stale webhook configuration
    ready = any(
        e.get("conditions", {}).get("ready")
        for o in objects.values()
        if o["kind"] == "EndpointSlice" and o["metadata"].get("namespace") == svc_ns
        and (o["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == svc_name
        for e in o.get("endpoints") or []
    )
    # §3: the API server dials the ClusterIP; with no ready endpoint kube-proxy refuses the connection.
    refused = f'Post "{url}": dial tcp {_cluster_ip(svc_name)}:443: connect: connection refused'
    if not ready:
        return refused
    if state.bump_counter("webhook_calls") <= int(state.knob("webhook_refuse_calls", 0) or 0):
        return refused
    secret = objects.get(co.key("Secret", svc_ns, "ingress-nginx-admission"))
    ca = (hook.get("clientConfig") or {}).get("caBundle")
    if not ca or secret is None or secret["data"]["ca"] != ca:
        # §3 (#5968): caBundle not yet patched, or left from another install.
        return f'Post "{url}": tls: failed to verify certificate: x509: certificate signed by unknown authority'
    return None


def _handled_by_nginx(ing: dict[str, Any]) -> bool:
    # §2: class nginx, and class-less Ingresses too (--watch-ingress-without-class=true).
    return ing.get("spec", {}).get("ingressClassName") in (None, "nginx")


def _validate(objects: dict[str, Any], ing: dict[str, Any]) -> str | None:
    if not _handled_by_nginx(ing):
        return None
    denied = f'Error from server (BadRequest): error when creating "{{label}}": admission webhook "{WEBHOOK}" ' \
             "denied the request: "
    md = ing.get("metadata") or {}
    ns = md.get("namespace") or "default"
    paths = [(r.get("host") or "_", p) for r in ing.get("spec", {}).get("rules") or []
             for p in (r.get("http") or {}).get("paths") or []]
    # §4 strict-validate-path-type: Exact/Prefix paths must be plain; the webhook also returns warnings.
    invalid = [f"path {p.get('path')} cannot be used with pathType {p.get('pathType')}" for _, p in paths
               if p.get("pathType") in ("Exact", "Prefix") and not _VALID_PATH.match(p.get("path") or "/")]
    if invalid:
        warnings = "".join(f"Warning: {w}\n" for w in invalid)
        return warnings + denied + "ingress contains invalid paths: " + "\n".join(invalid)
    # §4 overlap: the same host and path in another (non-canary) Ingress handled by nginx.
    for k, other in sorted(objects.items()):
        if not k.startswith("Ingress/"):
            continue
        omd = other["metadata"]
        if (omd.get("namespace"), omd["name"]) == (ns, md.get("name")) or not _handled_by_nginx(other):
            continue
        if (omd.get("annotations") or {}).get("nginx.ingress.kubernetes.io/canary") == "true":
            continue
        taken = {(r.get("host") or "_", p.get("path") or "/") for r in other.get("spec", {}).get("rules") or []
                 for p in (r.get("http") or {}).get("paths") or []}
        for host, p in paths:
            if (host, p.get("path") or "/") in taken:
                return (denied + f'host "{host}" and path "{p.get("path") or "/"}" is already defined in ingress '
                        f'{omd.get("namespace")}/{omd["name"]}')
    return None
