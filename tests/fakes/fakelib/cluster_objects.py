"""The object store of a fake cluster (one per kube context) and its tiny simulated controllers.

Objects are kept as applied, keyed ``Kind/namespace/name``. Simulations that other parts of the fake
need (Deployment status and its Pods; ingress-nginx's admission webhook) hang off ``on_applied`` and
``admit`` so each lives in its own module.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from fakelib import image_pull, state

# resource argument -> (Kind, namespaced). Aliases as kubectl accepts them.
RESOURCES: dict[str, tuple[str, bool]] = {}
for kind, names, namespaced in [
    ("Pod", ["pods", "pod", "po"], True),
    ("Deployment", ["deployments", "deployment", "deploy", "deployments.apps", "deployment.apps"], True),
    ("Service", ["services", "service", "svc"], True),
    ("Secret", ["secrets", "secret"], True),
    ("ConfigMap", ["configmaps", "configmap", "cm"], True),
    ("Namespace", ["namespaces", "namespace", "ns"], False),
    ("Node", ["nodes", "node", "no"], False),
    ("Ingress", ["ingresses", "ingress", "ing", "ingresses.networking.k8s.io"], True),
    ("IngressClass", ["ingressclasses", "ingressclass"], False),
    ("ValidatingWebhookConfiguration", ["validatingwebhookconfigurations", "validatingwebhookconfiguration"], False),
    ("EndpointSlice", ["endpointslices", "endpointslice", "endpointslices.discovery.k8s.io"], True),
    ("Event", ["events", "event", "ev"], True),
    ("Job", ["jobs", "job", "jobs.batch"], True),
    ("ServiceAccount", ["serviceaccounts", "serviceaccount", "sa"], True),
    ("Role", ["roles", "role"], True),
    ("RoleBinding", ["rolebindings", "rolebinding"], True),
    ("ClusterRole", ["clusterroles", "clusterrole"], False),
    ("ClusterRoleBinding", ["clusterrolebindings", "clusterrolebinding"], False),
    ("StatefulSet", ["statefulsets", "statefulset", "sts"], True),
    ("PersistentVolumeClaim", ["persistentvolumeclaims", "persistentvolumeclaim", "pvc"], True),
    ("PersistentVolume", ["persistentvolumes", "persistentvolume", "pv"], False),
    ("StorageClass", ["storageclasses", "storageclass", "sc", "storageclasses.storage.k8s.io"], False),
]:
    for n in names:
        RESOURCES[n] = (kind, namespaced)

CLUSTER_SCOPED = {k for k, ns in RESOURCES.values() if not ns}

PLURAL = {"Ingress": "ingresses", "IngressClass": "ingressclasses", "StorageClass": "storageclasses"}


def plural(kind: str) -> str:
    return PLURAL.get(kind, kind.lower() + "s")


def group_of(obj: dict[str, Any]) -> str:
    api = obj.get("apiVersion", "v1")
    return api.split("/")[0] if "/" in api else ""


def display(obj: dict[str, Any]) -> str:
    """`deployment.apps/web` as kubectl prints it."""
    g = group_of(obj)
    kind = obj["kind"].lower()
    return f"{kind}.{g}/{obj['metadata']['name']}" if g else f"{kind}/{obj['metadata']['name']}"


def key(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{'' if kind in CLUSTER_SCOPED else namespace}/{name}"


def store(s: dict[str, Any], context: str) -> dict[str, Any]:
    return s["clusters"].setdefault(context, {"objects": {}, "seq": 0})


def bootstrap(context: str, node: str, kind_config: dict[str, Any]) -> None:
    """What a fresh kind cluster has: namespaces, a Ready node with its labels, the API up."""
    labels = {"kubernetes.io/hostname": node, "kubernetes.io/os": "linux",
              "node-role.kubernetes.io/control-plane": ""}
    for n in kind_config.get("nodes") or []:
        for patch in n.get("kubeadmConfigPatches") or []:
            if "node-labels" in patch:
                for part in patch.split("node-labels:", 1)[1].strip().strip('"').split("\n")[0].strip('"').split(","):
                    k, _, v = part.partition("=")
                    labels[k.strip()] = v.strip().strip('"')
    with state.txn() as s:
        st = s["clusters"][context] = {"objects": {}, "seq": 0}
        now = _now()
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "local-path-storage"):
            st["objects"][key("Namespace", "", ns)] = _meta({"apiVersion": "v1", "kind": "Namespace"}, ns, "", now)
        st["objects"][key("Node", "", node)] = _meta(
            {"apiVersion": "v1", "kind": "Node",
             "status": {"conditions": [{"type": "Ready", "status": "True"}], "images": [],
                        # What a kind node on a 4 GiB Docker VM reports (the VM's memory less the kubelet's).
                        "allocatable": {"cpu": "4", "memory": "3969436Ki", "pods": "110"},
                        "capacity": {"cpu": "4", "memory": "4071836Ki", "pods": "110"}}},
            node, "", now, labels)
        # kind's default StorageClass (pkg/build/nodeimage/const_storage.go): local-path, bound when a pod uses it.
        sc = _meta({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "provisioner": "rancher.io/local-path",
                    "volumeBindingMode": "WaitForFirstConsumer", "reclaimPolicy": "Delete"}, "standard", "", now)
        sc["metadata"]["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
        st["objects"][key("StorageClass", "", "standard")] = sc


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _meta(obj: dict[str, Any], name: str, ns: str, ts: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    uid = hashlib.sha1(f"{name}{ts}".encode()).hexdigest()
    md: dict[str, Any] = {"name": name, "creationTimestamp": ts, "uid": uid}
    if ns:
        md["namespace"] = ns
    if labels:
        md["labels"] = labels
    obj["metadata"] = md
    return obj


def pod_name(deploy: str, template: dict[str, Any]) -> str:
    h = hashlib.sha1(repr(sorted(template.items())).encode()).hexdigest()
    return f"{deploy}-{h[:10]}-{h[10:15]}"


def _pullable(_image: str) -> str | None:
    return None


def _images(tmpl: dict[str, Any]) -> list[str]:
    return [str(c.get("image", "")) for c in tmpl.get("spec", {}).get("containers", [])]


def derived_pods(
    objects: dict[str, Any], knobs: dict[str, Any] | None = None, pull: image_pull.Puller = _pullable
) -> dict[str, dict[str, Any]]:
    """Pods of Deployments, computed at read time (a one-line ReplicaSet controller). A container whose
    image the node cannot pull waits in ImagePullBackOff (fakelib/image_pull.py); sim_pods places them on
    the node and gives them the failures the knobs ask for."""
    from fakelib import sim_pods

    knobs = state.read()["knobs"] if knobs is None else knobs
    pods: dict[str, dict[str, Any]] = {}
    for obj in objects.values():
        if obj["kind"] != "Deployment":
            continue
        md = obj["metadata"]
        ns = md.get("namespace", "default")
        tmpl = obj.get("spec", {}).get("template", {})
        replicas = int(obj.get("spec", {}).get("replicas", 1))
        ready = bool(obj.get("status", {}).get("readyReplicas", 0))
        containers = tmpl.get("spec", {}).get("containers", [])
        for i in range(replicas):
            name = pod_name(md["name"], sim_pods.pod_seed(obj, i, knobs))
            statuses = []
            for c in containers:
                image = c.get("image", "")
                st = (image_pull.waiting(image) if pull(image) else {"running": {}} if ready else
                      {"waiting": {"reason": "ContainerCreating"}})
                statuses.append({"name": c["name"], "image": image, "ready": ready, "started": ready,
                                 "restartCount": int(obj.get("status", {}).get("fakeRestarts", 0)), "state": st})
            pods[key("Pod", ns, name)] = {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": ns, "labels": tmpl.get("metadata", {}).get("labels", {}),
                             "creationTimestamp": md.get("creationTimestamp"),
                             "ownerReferences": [{"kind": "ReplicaSet", "name": name.rsplit("-", 1)[0]}]},
                "spec": tmpl.get("spec", {}),
                "status": {
                    "phase": "Running" if ready else "Pending",
                    "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                    "containerStatuses": statuses,
                },
            }
            sim_pods.shape(pods[key("Pod", ns, name)], obj, objects, knobs)
    return pods


def refresh_status(obj: dict[str, Any], pull: image_pull.Puller = _pullable) -> None:
    """Deployment status: ready `deploy_ready_after` seconds after it was applied (knob, default 0), and
    only when the node can pull every image of its pods."""
    if obj["kind"] != "Deployment":
        return
    replicas = int(obj.get("spec", {}).get("replicas", 1))
    applied = float(obj.get("metadata", {}).get("annotations", {}).get("fake/applied-at", 0) or 0)
    delay = float(state.knob("deploy_ready_after", 0) or 0)
    never = obj["metadata"]["name"] in (state.knob("deploy_never_ready", []) or [])
    pulled = not any(pull(img) for img in _images(obj.get("spec", {}).get("template", {})))
    ready = replicas if (time.time() - applied >= delay and not never and pulled) else 0
    st = obj.setdefault("status", {})
    st.update({"replicas": replicas, "updatedReplicas": replicas, "readyReplicas": ready,
               "availableReplicas": ready, "observedGeneration": 1})
    if not ready:
        st.pop("readyReplicas")
        st.pop("availableReplicas")
