"""The cluster devctl wants: a spec built from Config, the kind config made from it, and its stamp.

The spec is stamped into the cluster when devctl creates it (ctlptl's pattern, kind.md §7), so a
later `up` compares the stamp with the wanted spec instead of guessing how the cluster was made.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from devctl import __version__
from devctl.config import Config, env_name

# kind.md §4: kind labels every node container with the cluster name.
KIND_CLUSTER_LABEL = "io.x-k8s.kind.cluster"

# The stamp: one ConfigMap in kube-public, like ctlptl's `ctlptl-cluster-spec` (kind.md §7).
STAMP_NAME = "devctl-cluster-spec"
STAMP_NAMESPACE = "kube-public"
STAMP_KEY = "devctl.cluster.v1"

# kind.md §6: the registry listens on 5000 inside its container and is published on 127.0.0.1 only.
REGISTRY_CONTAINER_PORT = 5000
REGISTRY_LISTEN_ADDRESS = "127.0.0.1"
# kind.md §5: containerd reads per-registry hosts.toml files below this directory.
CERTS_DIR = "/etc/containerd/certs.d"

# Baked into the node container by `kind create` (image, published ports, mounts): changing one needs a new
# cluster.
CLUSTER_FIELDS = ("node_image", "http_port", "https_port", "listen_address", "extra_ca")
# A field a stamp written before devctl knew it lacks; its absence means this value (no CA was mounted).
ABSENT_MEANS = {"extra_ca": ""}
# Where the company CA goes in the node: Go's crypto/x509 reads every file in /etc/ssl/certs
# (src/crypto/x509/root_linux.go: "Possible directories with certificate files; all will be read"), so
# containerd and the kubelet trust it from their start, without update-ca-certificates.
EXTRA_CA_PATH = "/etc/ssl/certs/devctl-extra-ca.pem"
# What the registry container is run with; the cluster only learns them through hosts.toml and the
# KEP-1755 ConfigMap, which devctl rewrites without recreating anything.
REGISTRY_FIELDS = ("registry_name", "registry_port", "registry_image")

# The setting a user changes to get each field (named in drift messages).
_CONFIG_FIELD = {"listen_address": "host_ip"}


def knob(field: str) -> str:
    """The environment variable that sets ``field`` (also settable in [tool.devctl])."""
    return env_name(_CONFIG_FIELD.get(field, field))


@dataclass(frozen=True)
class ClusterSpec:
    """Everything devctl decides about the cluster and the registry, with defaults filled in."""

    name: str
    node_image: str
    http_port: int
    https_port: int
    listen_address: str
    registry_name: str
    registry_port: int
    registry_image: str
    extra_ca: str = ""  # the host path of a PEM mounted into the node, or none
    devctl_version: str = __version__

    @classmethod
    def from_config(cls, cfg: Config) -> ClusterSpec:
        return cls(
            name=cfg.cluster,
            node_image=cfg.node_image,
            http_port=cfg.http_port,
            https_port=cfg.https_port,
            # The hosts entry maps the host to host_ip, so that is where the ingress ports must listen.
            listen_address=cfg.host_ip,
            registry_name=cfg.registry_name,
            registry_port=cfg.registry_port,
            registry_image=cfg.registry_image,
            extra_ca=str(cfg.extra_ca or ""),
        )

    @property
    def context(self) -> str:
        return f"kind-{self.name}"  # kind.md §4

    @property
    def control_plane(self) -> str:
        return f"{self.name}-control-plane"  # kind.md §4

    @property
    def node_label(self) -> str:
        return f"{KIND_CLUSTER_LABEL}={self.name}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs between what exists and what is wanted."""

    field: str
    current: str
    wanted: str
    target: str  # "cluster" | "registry"

    def describe(self) -> str:
        how = f" (set by {knob(self.field)})" if self.field in CLUSTER_FIELDS + REGISTRY_FIELDS else ""
        return f"{self.field}: {self.current or 'none'} now, {self.wanted or 'none'} wanted{how}"

    def to_json(self) -> dict[str, str]:
        return asdict(self)


# --- the kind config --------------------------------------------------------------------------------


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value)


def kind_config(spec: ClusterSpec) -> str:
    """The kind Cluster config for ingress on the host's ports and a local registry (kind.md §5).

    The node image is passed with ``--image`` (kind.md §3.1) rather than written here.
    """
    return f"""\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: {spec.name}
nodes:
- role: control-plane
  # ingress-nginx's kind manifest schedules its controller on nodes labelled ingress-ready=true.
  kubeadmConfigPatches:
  - |
    kind: InitConfiguration
    nodeRegistration:
      kubeletExtraArgs:
        node-labels: "ingress-ready=true"
  extraPortMappings:
  - containerPort: 80
    hostPort: {spec.http_port}
    listenAddress: {_q(spec.listen_address)}
    protocol: TCP
  - containerPort: 443
    hostPort: {spec.https_port}
    listenAddress: {_q(spec.listen_address)}
    protocol: TCP
{_extra_mounts(spec)}# containerd reads {CERTS_DIR}/<registry>/hosts.toml, where devctl points
# localhost:{spec.registry_port} at the registry container (needed by node images older than kind v0.27.0,
# harmless after).
containerdConfigPatches:
- |-
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{CERTS_DIR}"
"""


def _extra_mounts(spec: ClusterSpec) -> str:
    """The company CA, mounted read-only (kind docs/user/configuration.md "Extra Mounts"); on Docker Desktop the
    file must be under a shared folder (the home directory is, by default)."""
    if not spec.extra_ca:
        return ""
    return f"""\
  # The company CA (DEVCTL_EXTRA_CA): containerd pulls through a proxy that re-signs TLS.
  extraMounts:
  - hostPath: {_q(spec.extra_ca)}
    containerPath: {EXTRA_CA_PATH}
    readOnly: true
"""


# --- the stamp --------------------------------------------------------------------------------------


def stamp_manifest(spec: ClusterSpec) -> str:
    """The ConfigMap that records the spec the cluster was made with (applied with kubectl apply -f -)."""
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": STAMP_NAME,
            "namespace": STAMP_NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "devctl"},
        },
        "data": {STAMP_KEY: json.dumps(spec.to_json(), sort_keys=True)},
    }
    return json.dumps(cm, indent=2)


def read_stamp(configmap: dict[str, Any]) -> dict[str, Any] | None:
    """The stamped spec as a dict (unknown keys kept, missing ones absent), or None if unreadable."""
    raw = (configmap.get("data") or {}).get(STAMP_KEY)
    if not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def diff(stamped: dict[str, Any], wanted: ClusterSpec, names: tuple[str, ...], target: str) -> list[FieldDiff]:
    """Fields among ``names`` whose stamped value differs from the wanted one (a missing value differs,
    unless ABSENT_MEANS says what its absence stood for)."""
    out = []
    for name in names:
        if name not in {f.name for f in fields(ClusterSpec)}:
            raise ValueError(f"unknown spec field {name!r}")
        want = getattr(wanted, name)
        have = stamped.get(name, ABSENT_MEANS.get(name))
        if have is None or str(have) != str(want):
            out.append(FieldDiff(name, "unknown" if have is None else str(have), str(want), target))
    return out
