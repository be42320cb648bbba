"""The infrastructure (k8s/infra/: MongoDB, Redis, NATS) is `devctl up`'s, not Skaffold's: applied once by its
own step, left alone by a second `up`, and still there with its claims and data after Ctrl-C of the loop."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from devctl import config, infra
from devctl.context import Context
from devctl.devloop.api import free_port
from devctl.devloop.run import run_dev
from devctl.report import SilentReporter
from tests.conftest import REPO, FakeWorld, run_cli
from tests.stack_world import INGRESS_MANIFEST, ctrl_c_when, dev_ready

INFRA_DEPLOYMENTS = {"auth-mongo", "booking-mongo", "payment-mongo", "review-mongo", "tour-mongo", "review-redis",
                     "expiration-redis", "nats"}  # fmt: skip
SERVICES = {"auth", "booking", "expiration", "payment", "review", "tour", "client"}


@pytest.fixture
def world(fake_tools: FakeWorld, repo_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> FakeWorld:
    """This repo on a machine where `devctl up` can run against the fakes (free ports, the local ingress copy)."""
    for var in ("DEVCTL_HTTP_PORT", "DEVCTL_HTTPS_PORT", "DEVCTL_REGISTRY_PORT"):
        monkeypatch.setenv(var, str(free_port()))
    monkeypatch.setenv("DEVCTL_INGRESS_MANIFEST", str(INGRESS_MANIFEST))
    return fake_tools


def applied(obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``obj`` as the cluster holds it after `kubectl apply` (the annotation records what was applied)."""
    live = json.loads(json.dumps(obj))
    live["metadata"].setdefault("annotations", {})[infra.LAST_APPLIED] = json.dumps({**obj, **changes})
    live["metadata"]["namespace"] = "default"
    return live


# --- the check (pure) ------------------------------------------------------------------------------

DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "auth-mongo"},
              "spec": {"replicas": 1}}  # fmt: skip
CLAIM = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "auth-mongo-data"}, "spec": {}}


@pytest.mark.parametrize(
    ("live", "stale"),
    [
        ([applied(DEPLOYMENT), applied(CLAIM)], []),
        # kubectl records `"annotations": {}` for an object that has none (GetModifiedConfiguration).
        ([applied(DEPLOYMENT, metadata={"name": "auth-mongo", "annotations": {}}), applied(CLAIM)], []),
        ([applied(DEPLOYMENT)], ["PersistentVolumeClaim/auth-mongo-data"]),
        ([applied(DEPLOYMENT, spec={"replicas": 2}), applied(CLAIM)], ["Deployment/auth-mongo"]),
        ([{**applied(CLAIM), "metadata": {"name": "auth-mongo-data", "namespace": "default"}}, applied(DEPLOYMENT)],
         ["PersistentVolumeClaim/auth-mongo-data"]),  # made without kubectl apply: no record of what it holds
        ([{**applied(DEPLOYMENT), "metadata": {**applied(DEPLOYMENT)["metadata"], "namespace": "other"}},
          applied(CLAIM)], ["Deployment/auth-mongo"]),  # the same name in another namespace is not ours
    ],
)
def test_the_check_finds_what_is_missing_or_was_applied_otherwise(live: list[dict[str, Any]], stale: list[str]) -> None:
    want = [{**DEPLOYMENT, "metadata": {"name": "auth-mongo", "namespace": "default"}}, CLAIM]
    assert infra.stale(want, live) == stale


def test_one_get_lists_every_kind_the_directory_holds() -> None:
    want = infra.wanted(config.load({}, env={}, cwd=REPO))
    assert infra.resources(want) == "persistentvolumeclaims,deployments.apps,services"
    assert {o["metadata"]["namespace"] for o in want} == {"default"}
    assert {o["metadata"]["name"] for o in want if o["kind"] == "Deployment"} == INFRA_DEPLOYMENTS


def test_kubectls_apply_lines_are_counted() -> None:
    out = "deployment.apps/auth-mongo created\nservice/auth-mongo unchanged\npersistentvolumeclaim/x configured\n"
    assert infra.applied_counts(out) == {"created": 1, "unchanged": 1, "configured": 1}


# --- through `devctl up`, against the fakes -----------------------------------------------------------------


def infra_objects(world: FakeWorld) -> dict[str, Any]:
    """The infrastructure's Deployments, Services, claims, and the volumes the provisioner made for them."""
    names = INFRA_DEPLOYMENTS | {f"{d}-data" for d in INFRA_DEPLOYMENTS}
    return {k: v for k, v in world.objects("kind-tour").items()
            if k.startswith("PersistentVolume/") or k.split("/")[2] in names}  # fmt: skip


def test_up_applies_the_infrastructure_with_its_claims_bound(world: FakeWorld) -> None:
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 0, res.stderr
    assert "Databases, Redis and NATS" in res.stderr
    objects = world.objects("kind-tour")
    assert {k.split("/")[2] for k in objects if k.startswith("Deployment/default/")} == INFRA_DEPLOYMENTS
    claims = {k.split("/")[2]: o for k, o in objects.items() if k.startswith("PersistentVolumeClaim/")}
    assert set(claims) == {f"{d}-data" for d in INFRA_DEPLOYMENTS}
    run_cli("status")  # a read: the fake's provisioner binds each claim once a pod uses it
    claims = {k: o for k, o in world.objects("kind-tour").items() if k.startswith("PersistentVolumeClaim/")}
    assert {o["status"]["phase"] for o in claims.values()} == {"Bound"}
    assert world.assert_pinned() > 0


def test_a_second_up_reads_the_infrastructure_once_and_recreates_nothing(world: FakeWorld) -> None:
    assert run_cli("up", "--no-dev").exit_code == 0
    run_cli("status")
    before = infra_objects(world)
    world.clear_calls()
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 0, res.stderr
    assert "24 objects of infra/ already applied" in res.stderr
    kubectl = world.argvs("kubectl", probes=False)
    assert [a for a in kubectl if "persistentvolumeclaims" in " ".join(a)] == [
        ["--context", "kind-tour", "get", "persistentvolumeclaims,deployments.apps,services", "-n", "default",
         "-o", "json"]]  # fmt: skip
    assert not [a for a in kubectl if "apply" in a and "--dry-run=server" not in a]
    after = infra_objects(world)
    assert after.keys() == before.keys()
    for k, obj in before.items():  # the same objects: neither re-created nor re-applied; the same volumes
        assert after[k]["metadata"].get("annotations") == obj["metadata"].get("annotations"), k
        assert after[k]["metadata"].get("creationTimestamp") == obj["metadata"].get("creationTimestamp"), k


def test_a_changed_manifest_is_applied_again_on_the_next_up(world: FakeWorld, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("up", "--no-dev").exit_code == 0
    manifests = tmp_path / "k8s"
    shutil.copytree(REPO / "k8s", manifests)
    nats = manifests / "infra" / "nats.yaml"
    nats.write_text(nats.read_text().replace('- "100000"', '- "200000"'))
    monkeypatch.setenv("DEVCTL_MANIFESTS_DIR", str(manifests))
    world.clear_calls()
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 0, res.stderr
    assert "applied infra/ (" in res.stderr and "1 configured" in res.stderr


def test_ctrl_c_of_the_loop_leaves_the_infrastructure_its_claims_and_its_data(world: FakeWorld, tmp_path: Path) -> None:
    assert run_cli("up", "--no-dev").exit_code == 0
    assert run_cli("data", "seed", "auth").exit_code == 0
    world.set_knob("skaffold_dev_delay", 0.02)
    ctrl_c_when(dev_ready(world.state_dir))
    ctx = Context.create(config.load({}, cwd=REPO), reporter=SilentReporter())
    assert run_dev(ctx) == 0
    objects = world.objects("kind-tour")
    deployments = {k.split("/")[2] for k in objects if k.startswith("Deployment/default/")}
    assert deployments == INFRA_DEPLOYMENTS, "Skaffold's cleanup deleted the services, and only them"
    assert not SERVICES & deployments
    assert {o["status"]["phase"] for k, o in objects.items() if k.startswith("PersistentVolumeClaim/")} == {"Bound"}
    assert run_cli("data", "dump", "auth", "--to", str(tmp_path)).exit_code == 0
    assert (tmp_path / "auth" / "users.json").read_text() == (REPO / "seed" / "auth" / "users.json").read_text()


def test_only_infra_applies_the_infrastructure_on_a_cluster_it_makes_first(world: FakeWorld) -> None:
    res = run_cli("up", "--only", "infra")
    assert res.exit_code == 0, res.stderr
    assert "Deployment/default/auth-mongo" in world.objects("kind-tour")
    assert not [a for a in world.argvs("kubectl") if any("ingress-nginx" in x for x in a)]
