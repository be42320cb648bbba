"""devctl.cluster.registry: the registry container, the nodes' hosts.toml and the KEP-1755 ConfigMap."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from devctl import config
from devctl.cluster.observe import read_hosting
from devctl.cluster.plan import RegistryPlan, plan_link
from devctl.cluster.registry import certs_dir, ensure_registry, hosting_manifest, hosts_toml, run_args
from devctl.cluster.spec import ClusterSpec
from devctl.context import Context
from devctl.devloop.api import free_port
from devctl.errors import DevctlError
from devctl.report import SilentReporter
from tests.conftest import FAKES, FakeWorld

W = ClusterSpec("tour", "kindest/node:v1.35.0", 80, 443, "127.0.0.1", "kind-registry", 5001, "registry:2@sha256:b")


def test_the_registry_runs_like_kinds_script_on_localhost_only() -> None:
    # kind.md §6 step 1: restart=always, published on 127.0.0.1:<port> -> 5000, on bridge, then connected.
    assert run_args(W) == [
        "--restart=always", "-p", "127.0.0.1:5001:5000", "--network", "bridge", "--name", "kind-registry",
        "registry:2@sha256:b",
    ]  # fmt: skip


def test_hosts_toml_points_localhost_port_at_the_registry_container() -> None:
    # kind.md §6 step 3: exactly this line, in certs.d/localhost:<port>/.
    assert hosts_toml(W) == '[host."http://kind-registry:5000"]\n'
    assert certs_dir(5001) == "/etc/containerd/certs.d/localhost:5001"


def test_the_kep_1755_configmap_names_where_to_push_from_the_host_and_from_pods() -> None:
    cm = json.loads(hosting_manifest(W, 5001))
    assert (cm["metadata"]["name"], cm["metadata"]["namespace"]) == ("local-registry-hosting", "kube-public")
    value = yaml.safe_load(cm["data"]["localRegistryHosting.v1"])
    assert value == {
        "host": "localhost:5001",
        "hostFromClusterNetwork": "kind-registry:5000",
        "help": "https://kind.sigs.k8s.io/docs/user/local-registry/",
    }


def test_a_published_configmap_satisfies_the_link_plan() -> None:
    from devctl.cluster.observe import NodeState, Observed, RegistryState
    from devctl.tools.kubectl import API_OK as OK

    hosting = read_hosting(json.loads(hosting_manifest(W, 5001)))
    reg = RegistryState("kind-registry", "running", W.registry_image, ("kind",), "127.0.0.1", 5001)
    obs = Observed((NodeState("tour-control-plane", "running"),), reg, OK, "", W.to_json(), hosting)
    assert not plan_link(W, obs).actions


def test_a_port_taken_between_the_check_and_the_run_names_the_setting_and_leaves_nothing(
    fake_tools: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("DEVCTL_REGISTRY_PORT", str(port))
    holder = subprocess.run(
        [str(FAKES / "docker"), "run", "-d", "--name", "holder", "-p", f"127.0.0.1:{port}:5000", "busybox"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert holder.stdout.strip()
    ctx = Context.create(config.load({}, cwd=fake_tools.root), reporter=SilentReporter())

    with pytest.raises(DevctlError) as refused:
        ensure_registry(ctx, ClusterSpec.from_config(ctx.cfg), RegistryPlan(run_registry=True))

    assert refused.value.message == f"host port {port} (registry) is already in use"
    assert refused.value.hint is not None and "DEVCTL_REGISTRY_PORT=<port>" in refused.value.hint
    # docker left the container it could not start "created" (docker-kubectl.md §2); devctl removed it.
    assert set(fake_tools.containers()) == {"holder"}
    assert [a[0] for a in fake_tools.argvs("docker")] == ["run", "run", "rm"]
