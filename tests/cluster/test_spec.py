"""devctl.cluster.spec: the wanted spec, the kind config made from it, and the stamp that remembers it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from devctl import __version__, config
from devctl.cluster.spec import (
    CLUSTER_FIELDS,
    STAMP_KEY,
    STAMP_NAME,
    STAMP_NAMESPACE,
    ClusterSpec,
    FieldDiff,
    diff,
    kind_config,
    knob,
    read_stamp,
    stamp_manifest,
)


def spec_for(tmp_path: Path, **env: str) -> ClusterSpec:
    return ClusterSpec.from_config(config.load(env={f"DEVCTL_{k.upper()}": v for k, v in env.items()}, cwd=tmp_path))


def parsed(spec: ClusterSpec) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(kind_config(spec))
    return data


def test_defaults_pin_a_kubernetes_135_node_image_by_digest_and_ports_80_443(tmp_path: Path) -> None:
    spec = spec_for(tmp_path)
    # kind.md §1: ingress-nginx's last release is tested up to 1.35; pinned by digest, not a moving tag.
    assert spec.node_image.startswith("kindest/node:v1.35.")
    assert "@sha256:" in spec.node_image and len(spec.node_image.split("@sha256:")[1]) == 64
    assert (spec.http_port, spec.https_port, spec.listen_address) == (80, 443, "127.0.0.1")
    assert (spec.registry_name, spec.registry_port) == ("kind-registry", 5001)
    assert spec.registry_image.startswith("registry:2") and "@sha256:" in spec.registry_image
    assert spec.devctl_version == __version__
    assert spec.context == "kind-tour" and spec.control_plane == "tour-control-plane"


def test_every_value_comes_from_config_so_each_is_overridable(tmp_path: Path) -> None:
    spec = spec_for(
        tmp_path,
        cluster="dev",
        http_port="8080",
        https_port="8443",
        host_ip="127.0.0.2",
        node_image="kindest/node:v1.35.1",
        registry_name="reg",
        registry_port="5002",
        registry_image="registry:3",
    )
    assert spec == ClusterSpec("dev", "kindest/node:v1.35.1", 8080, 8443, "127.0.0.2", "reg", 5002, "registry:3")


def test_kind_config_maps_80_and_443_to_the_configured_host_ports_on_the_listen_address(tmp_path: Path) -> None:
    cfg = parsed(spec_for(tmp_path, http_port="8080", https_port="8443"))
    assert cfg["kind"] == "Cluster" and cfg["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert cfg["name"] == "tour"
    assert len(cfg["nodes"]) == 1 and cfg["nodes"][0]["role"] == "control-plane"
    assert cfg["nodes"][0]["extraPortMappings"] == [
        {"containerPort": 80, "hostPort": 8080, "listenAddress": "127.0.0.1", "protocol": "TCP"},
        {"containerPort": 443, "hostPort": 8443, "listenAddress": "127.0.0.1", "protocol": "TCP"},
    ]


def test_kind_config_labels_the_node_ingress_ready(tmp_path: Path) -> None:
    patches = parsed(spec_for(tmp_path))["nodes"][0]["kubeadmConfigPatches"]
    assert len(patches) == 1
    patch = yaml.safe_load(patches[0])
    assert patch["kind"] == "InitConfiguration"  # kind.md §5: applies to the first control-plane node
    assert patch["nodeRegistration"]["kubeletExtraArgs"]["node-labels"] == "ingress-ready=true"


def test_kind_config_points_containerd_at_the_certs_d_directory(tmp_path: Path) -> None:
    patches = parsed(spec_for(tmp_path))["containerdConfigPatches"]
    assert patches == ['[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"']


def test_kind_config_leaves_the_image_to_the_image_flag(tmp_path: Path) -> None:
    # One source for the node image: `kind create cluster --image` (kind.md §3.1).
    assert "image" not in parsed(spec_for(tmp_path))["nodes"][0]


def test_stamp_is_a_kube_public_configmap_that_reads_back_to_the_spec(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, http_port="8080")
    cm = json.loads(stamp_manifest(spec))
    assert (cm["kind"], cm["metadata"]["name"], cm["metadata"]["namespace"]) == (
        "ConfigMap",
        STAMP_NAME,
        STAMP_NAMESPACE,
    )
    assert read_stamp(cm) == spec.to_json()
    assert diff(read_stamp(cm) or {}, spec, CLUSTER_FIELDS, "cluster") == []


@pytest.mark.parametrize(
    "data",
    [{}, {STAMP_KEY: "not json"}, {STAMP_KEY: "[1, 2]"}, {"other": "{}"}],
    ids=["no data", "not json", "not an object", "other key"],
)
def test_an_unreadable_stamp_reads_as_none(data: dict[str, str]) -> None:
    assert read_stamp({"data": data}) is None


@pytest.mark.parametrize(
    ("stamped", "expected"),
    [
        ({}, {"node_image", "http_port", "https_port", "listen_address"}),
        ({"node_image": "kindest/node:v1.35.0", "http_port": 80, "https_port": 443, "listen_address": "127.0.0.1"},
         set()),
        ({"node_image": "kindest/node:v1.34.0", "http_port": 80, "https_port": 443, "listen_address": "127.0.0.1"},
         {"node_image"}),
        ({"node_image": "kindest/node:v1.35.0", "http_port": 8080, "https_port": 443, "listen_address": "0.0.0.0"},
         {"http_port", "listen_address"}),
        # Values are compared as text: a stamp written by another language's JSON still matches.
        ({"node_image": "kindest/node:v1.35.0", "http_port": "80", "https_port": "443",
          "listen_address": "127.0.0.1"}, set()),
    ],
    ids=["empty stamp", "same", "other image", "port and address", "numbers as strings"],
)
def test_diff_names_exactly_the_fields_that_differ(stamped: dict[str, Any], expected: set[str]) -> None:
    wanted = ClusterSpec("tour", "kindest/node:v1.35.0", 80, 443, "127.0.0.1", "kind-registry", 5001, "registry:2")
    diffs = diff(stamped, wanted, CLUSTER_FIELDS, "cluster")
    assert {d.field for d in diffs} == expected
    assert all(d.target == "cluster" for d in diffs)


def test_a_missing_stamped_value_is_shown_as_unknown() -> None:
    wanted = ClusterSpec("tour", "img", 80, 443, "127.0.0.1", "kind-registry", 5001, "registry:2")
    assert diff({}, wanted, ("http_port",), "cluster") == [FieldDiff("http_port", "unknown", "80", "cluster")]


def test_diff_refuses_a_field_the_spec_does_not_have() -> None:
    wanted = ClusterSpec("tour", "img", 80, 443, "127.0.0.1", "kind-registry", 5001, "registry:2")
    with pytest.raises(ValueError, match="bogus"):
        diff({}, wanted, ("bogus",), "cluster")


@pytest.mark.parametrize(
    ("field", "env"),
    [
        ("http_port", "DEVCTL_HTTP_PORT"),
        ("https_port", "DEVCTL_HTTPS_PORT"),
        ("node_image", "DEVCTL_NODE_IMAGE"),
        ("listen_address", "DEVCTL_HOST_IP"),
        ("registry_port", "DEVCTL_REGISTRY_PORT"),
    ],
)
def test_each_field_names_the_setting_that_changes_it(field: str, env: str) -> None:
    assert knob(field) == env
    assert env in FieldDiff(field, "a", "b", "cluster").describe()


# --- a company CA (DEVCTL_EXTRA_CA) ----------------------------------------------------------------------

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_without_a_ca_the_kind_config_mounts_nothing(tmp_path: Path) -> None:
    node = parsed(spec_for(tmp_path))["nodes"][0]
    assert "extraMounts" not in node


def test_a_ca_is_mounted_read_only_where_containerd_reads_certificates(tmp_path: Path) -> None:
    ca = tmp_path / "corp ca.pem"
    ca.write_text(PEM)
    spec = spec_for(tmp_path, extra_ca=str(ca))
    node = parsed(spec)["nodes"][0]
    assert node["extraMounts"] == [
        {"hostPath": str(ca), "containerPath": "/etc/ssl/certs/devctl-extra-ca.pem", "readOnly": True}
    ]
    assert spec.extra_ca == str(ca)


def test_a_stamp_from_before_the_ca_field_is_no_drift_without_a_ca() -> None:
    wanted = ClusterSpec("tour", "img", 80, 443, "127.0.0.1", "kind-registry", 5001, "registry:2")
    old = {"node_image": "img", "http_port": 80, "https_port": 443, "listen_address": "127.0.0.1"}
    assert diff(old, wanted, CLUSTER_FIELDS, "cluster") == []


def test_adding_a_ca_to_an_existing_cluster_is_drift_naming_the_setting() -> None:
    wanted = ClusterSpec("tour", "img", 80, 443, "127.0.0.1", "kind-registry", 5001, "registry:2", extra_ca="/ca.pem")
    old = {"node_image": "img", "http_port": 80, "https_port": 443, "listen_address": "127.0.0.1"}
    (d,) = diff(old, wanted, CLUSTER_FIELDS, "cluster")
    assert d.describe() == "extra_ca: none now, /ca.pem wanted (set by DEVCTL_EXTRA_CA)"
    assert diff({**old, "extra_ca": "/ca.pem"}, wanted, CLUSTER_FIELDS, "cluster") == []
