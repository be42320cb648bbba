"""ingress-nginx is installed from the pinned manifest and waited for until it admits Ingresses
(ingress-nginx.md §3), through the fake kind/kubectl and the simulated controller (fakelib/sim_ingress.py)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from devctl import config
from devctl.context import Context
from devctl.errors import DevctlError, UsageError
from devctl.ingress import controller_for
from devctl.ingress.diagnostics import pod_summary, recent_events
from devctl.ingress.nginx import AdmissionDenied, IngressNotReady, NginxController, admission_probe, denial_reason
from devctl.ingress.nginx_install import Installation, has_ready_endpoint, observe
from devctl.report import SilentReporter
from devctl.tools.kind import Kind
from tests.conftest import REPO, FakeWorld

MANIFEST = REPO / "tests" / "data" / "ingress-nginx-kind-v1.15.1.yaml"
PINNED_URL = "https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.15.1/deploy/static/provider/kind/deploy.yaml"

PROJECT_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: tour-ingress
  annotations:
    nginx.ingress.kubernetes.io/use-regex: "true"
spec:
  ingressClassName: nginx
  rules:
    - host: tour.xyz
      http:
        paths:
          - path: /api/v1/auth/?(.*)
            pathType: {auth_path_type}
            backend:
              service: {{name: auth, port: {{number: 3000}}}}
          - path: /?(.*)
            pathType: ImplementationSpecific
            backend:
              service: {{name: client, port: {{number: 3000}}}}
---
apiVersion: v1
kind: Service
metadata:
  name: auth
spec:
  selector: {{app: auth}}
  ports: [{{port: 3000}}]
"""


@dataclass
class Env:
    world: FakeWorld
    ctx: Context
    reporter: SilentReporter
    k8s: Path

    def controller(self, **kw: float) -> NginxController:
        return NginxController(poll_interval=0.05, max_backoff=0.2, **kw)  # type: ignore[arg-type]

    def kubectl_argvs(self) -> list[list[str]]:
        return self.world.argvs("kubectl")

    def messages(self, kind: str) -> list[str]:
        return [title for k, title, _ in self.reporter.events if k == kind]


def make_env(world: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, auth_path_type: str) -> Env:
    k8s = tmp_path / "k8s"
    k8s.mkdir(exist_ok=True)
    (k8s / "ingress.yaml").write_text(PROJECT_INGRESS.format(auth_path_type=auth_path_type))
    monkeypatch.setenv("DEVCTL_MANIFESTS_DIR", str(k8s))
    monkeypatch.setenv("DEVCTL_INGRESS_MANIFEST", str(MANIFEST))
    monkeypatch.setenv("DEVCTL_INGRESS_TIMEOUT", os.environ.get("DEVCTL_INGRESS_TIMEOUT", "20"))
    cfg = config.load(env=os.environ, cwd=tmp_path)
    reporter = SilentReporter()
    ctx = Context.create(cfg, reporter=reporter)
    Kind(ctx.runner).create_cluster("tour", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n")
    # devctl must never act on the user's current context (kind.md §4).
    world.add_foreign_context("prod", current=True)
    world.clear_calls()
    return Env(world, ctx, reporter, k8s)


@pytest.fixture
def env(fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(fake_tools, tmp_path, monkeypatch, auth_path_type="ImplementationSpecific")


def index_of(argvs: list[list[str]], pred: Callable[[list[str]], bool]) -> list[int]:
    return [i for i, a in enumerate(argvs) if pred(a)]


def is_manifest_apply(a: list[str]) -> bool:
    return "apply" in a and "-f" in a and a[a.index("-f") + 1] != "-"


def is_rollout(a: list[str]) -> bool:
    return "rollout" in a


def is_ca_poll(a: list[str]) -> bool:
    return "validatingwebhookconfiguration" in a


def is_endpoint_poll(a: list[str]) -> bool:
    return "endpointslices" in a and "-l" in a


def is_dry_run(a: list[str]) -> bool:
    return "--dry-run=server" in a


def assert_only_our_cluster_touched(world: FakeWorld) -> None:
    assert world.assert_pinned() > 0
    assert world.objects("prod") == {}


# -- the install and the four stages ---------------------------------------------------------------


def test_applies_the_pinned_manifest_once_then_waits_through_the_four_stages_in_order(env: Env) -> None:
    # Each stage becomes true only a little after the previous one, so each must really be waited for.
    # Gaps of over half a second each, wider than one fake call on a busy machine.
    env.world.set_knob("ingress_ready_after", 0.3)  # after the apply
    env.world.set_knob("ingress_cabundle_after", 1.5)  # after the apply
    env.world.set_knob("ingress_endpoints_after", 2.0)  # after the controller is ready

    note = env.controller().ensure(env.ctx)

    argvs = env.kubectl_argvs()
    applies = index_of(argvs, is_manifest_apply)
    assert [argvs[i][-1] for i in applies] == [str(MANIFEST)]
    rollouts = index_of(argvs, is_rollout)
    ca_polls = index_of(argvs, is_ca_poll)
    endpoint_polls = index_of(argvs, is_endpoint_poll)
    dry_runs = index_of(argvs, is_dry_run)
    assert applies[0] < min(rollouts)
    assert max(rollouts) < min(ca_polls)
    assert max(ca_polls) < min(endpoint_polls)
    assert max(endpoint_polls) < min(dry_runs)
    assert len(ca_polls) > 1 and len(endpoint_polls) > 1, "stages 2 and 3 were polled, not read once"
    assert dry_runs == [len(argvs) - 1], "admission is proven last, once it answers"
    # The project's Ingress is only dry-run here: Skaffold applies it, after this step.
    assert not [k for k in env.world.objects("kind-tour") if k.startswith("Ingress/")]
    assert "admits Ingresses" in note
    assert not index_of(argvs, lambda a: "delete" in a), "nothing was stale"
    infos = env.messages("info")
    assert any("[1/4] waiting for the controller Deployment to roll out (at most" in m for m in infos)
    assert any("[4/4]" in m for m in infos)
    assert_only_our_cluster_touched(env.world)


def test_a_webhook_that_refuses_the_first_calls_is_retried_with_backoff(env: Env) -> None:
    env.world.set_knob("webhook_refuse_calls", 3)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    env.controller(sleep=sleep).ensure(env.ctx)  # type: ignore[arg-type]

    assert len(index_of(env.kubectl_argvs(), is_dry_run)) == 4
    assert sleeps[-3:] == [0.05, 0.1, 0.2], "backoff doubles up to max_backoff"
    assert any("not answering yet, retrying" in m and "connection refused" in m for m in env.messages("info"))
    assert_only_our_cluster_touched(env.world)


def test_a_denial_is_reported_at_once_and_not_retried(
    fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ingress-nginx.md §4: a regex path with pathType Prefix fails strict path validation.
    env = make_env(fake_tools, tmp_path, monkeypatch, auth_path_type="Prefix")

    with pytest.raises(AdmissionDenied) as err:
        env.controller().ensure(env.ctx)

    assert len(index_of(env.kubectl_argvs(), is_dry_run)) == 1
    assert "ingress contains invalid paths: path /api/v1/auth/?(.*) cannot be used with pathType Prefix" in str(
        err.value
    )
    assert "tour-ingress" in str(err.value)
    assert "ImplementationSpecific" in (err.value.hint or "")


def test_a_host_and_path_taken_by_another_ingress_is_a_denial(env: Env) -> None:
    # An older Ingress with the same host and paths, created before any webhook existed.
    env.ctx.kubectl.apply((env.k8s / "ingress.yaml").read_text().replace("name: tour-ingress", "name: older"))
    env.world.clear_calls()

    with pytest.raises(AdmissionDenied) as err:
        env.controller().ensure(env.ctx)

    assert 'host "tour.xyz" and path "/api/v1/auth/?(.*)" is already defined in ingress default/older' in str(err.value)
    assert len(index_of(env.kubectl_argvs(), is_dry_run)) == 1


def test_a_never_ready_controller_ends_with_diagnostics_within_the_timeout(
    fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVCTL_INGRESS_TIMEOUT", "1")
    env = make_env(fake_tools, tmp_path, monkeypatch, auth_path_type="ImplementationSpecific")
    fake_tools.set_knob("ingress_never_ready", True)

    started = time.monotonic()
    with pytest.raises(IngressNotReady) as err:
        env.controller().ensure(env.ctx)
    elapsed = time.monotonic() - started

    assert 1 <= elapsed < 3, elapsed
    assert err.value.exit_code == 1
    assert "did not admit Ingresses within 1 s" in str(err.value)
    assert "stage 1/4" in str(err.value) and "roll out" in str(err.value)
    infos = env.messages("info")
    pods = infos.index("pods in namespace ingress-nginx:")
    assert infos[pods + 1].strip().startswith("ingress-nginx-controller-")
    assert "Pending" in infos[pods + 1] and "ready 0/1" in infos[pods + 1]
    events = infos.index("last events in namespace ingress-nginx:")
    assert "Readiness probe failed" in infos[events + 1]
    assert not index_of(env.kubectl_argvs(), is_dry_run)
    assert_only_our_cluster_touched(fake_tools)


def test_a_timeout_names_the_stage_that_did_not_finish(
    fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVCTL_INGRESS_TIMEOUT", "1.5")
    env = make_env(fake_tools, tmp_path, monkeypatch, auth_path_type="ImplementationSpecific")
    fake_tools.set_knob("ingress_cabundle_after", 60)  # the patch Job never gets to it in time

    with pytest.raises(IngressNotReady) as err:
        env.controller().ensure(env.ctx)

    assert "stage 2/4" in str(err.value) and "caBundle" in str(err.value)
    assert not index_of(env.kubectl_argvs(), is_endpoint_poll)


# -- warm path and stale webhook --------------------------------------------------------------------


def test_an_installed_admitting_controller_is_recognised_in_two_kubectl_calls(env: Env) -> None:
    controller = env.controller()
    assert controller.is_admitting(env.ctx, controller.observe(env.ctx)) is None, "nothing installed yet"
    controller.ensure(env.ctx)
    # Skaffold has applied the project's Ingress since: its own update must not count as an overlap.
    env.ctx.kubectl.apply((env.k8s / "ingress.yaml").read_text())
    env.world.clear_calls()

    reason = controller.is_admitting(env.ctx, controller.observe(env.ctx))

    assert reason == "ingress-nginx v1.15.1 is installed and admits Ingresses"
    argvs = env.kubectl_argvs()
    assert len(argvs) == 2
    assert is_dry_run(argvs[1])
    assert_only_our_cluster_touched(env.world)


def test_an_install_still_starting_is_completed_not_torn_down(env: Env) -> None:
    env.world.set_knob("ingress_ready_after", 0.5)
    env.ctx.kubectl.apply_file(str(MANIFEST))
    env.world.clear_calls()

    controller = env.controller()
    seen = controller.observe(env.ctx)
    assert not seen.admitting and controller.is_admitting(env.ctx, seen) is None
    assert len(env.kubectl_argvs()) == 1, "the listing already shows the controller is not available"
    controller.ensure(env.ctx, seen)

    # Its webhook configuration is live, only not answering yet: deleting it would switch validation off (§3).
    assert not index_of(env.kubectl_argvs(), lambda a: "delete" in a)
    assert not env.messages("warn")


def test_a_stale_webhook_configuration_is_reported_and_deleted_before_reinstalling(env: Env) -> None:
    env.ctx.kubectl.apply_file(str(MANIFEST))
    # ingress-nginx.md §3: deleting only the namespace leaves the cluster-scoped webhook configuration.
    env.ctx.kubectl.change("delete", "namespace", "ingress-nginx")
    assert "ValidatingWebhookConfiguration//ingress-nginx-admission" in env.world.objects("kind-tour")
    env.world.clear_calls()
    controller = env.controller()

    seen = controller.observe(env.ctx)
    assert seen.leftover_webhook and controller.is_admitting(env.ctx, seen) is None
    controller.ensure(env.ctx, seen)

    argvs = env.kubectl_argvs()
    deletes = index_of(argvs, lambda a: a[2:4] == ["delete", "validatingwebhookconfiguration"])
    assert len(deletes) == 1 and deletes[0] < index_of(argvs, is_manifest_apply)[0]
    assert any("left from an earlier install" in m for m in env.messages("warn"))
    assert_only_our_cluster_touched(env.world)


# -- the manifest source ------------------------------------------------------------------------------


def test_without_a_local_copy_kubectl_is_given_the_pinned_url(
    fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = make_env(fake_tools, tmp_path, monkeypatch, auth_path_type="ImplementationSpecific")
    cfg = config.load(env={k: v for k, v in os.environ.items() if k != "DEVCTL_INGRESS_MANIFEST"}, cwd=tmp_path)
    ctx = Context.create(cfg, reporter=env.reporter)

    with pytest.raises(DevctlError) as err:  # the fake kubectl has no network, like an offline machine
        env.controller().ensure(ctx)

    assert [a[-1] for a in env.kubectl_argvs() if is_manifest_apply(a)] == [PINNED_URL]
    assert "--ingress-manifest" in (err.value.hint or "")


def test_a_missing_local_manifest_is_a_usage_error(
    fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = make_env(fake_tools, tmp_path, monkeypatch, auth_path_type="ImplementationSpecific")
    cfg = config.load(env={**os.environ, "DEVCTL_INGRESS_MANIFEST": "nowhere/deploy.yaml"}, cwd=tmp_path)

    with pytest.raises(UsageError, match=r"nowhere/deploy\.yaml does not exist"):
        env.controller().ensure(Context.create(cfg))
    assert not index_of(env.kubectl_argvs(), is_manifest_apply)


def test_describe_lists_the_pinned_commands_in_order(env: Env) -> None:
    lines = env.controller().describe(env.ctx)
    text = "\n".join(lines)
    assert f"kubectl --context kind-tour apply -f {MANIFEST}" in text
    order = [
        "rollout status deployment/ingress-nginx-controller",
        "validatingwebhookconfiguration",
        "endpointslices",
        "--dry-run=server",
    ]
    after_apply = text[text.index(" apply -f ") :]
    positions = [after_apply.index(s) for s in order]
    assert positions == sorted(positions)
    assert "Ingress tour-ingress" in text
    assert env.kubectl_argvs() == [], "describing runs nothing"


def test_the_configured_controller_is_ingress_nginx(env: Env) -> None:
    assert controller_for(env.ctx.cfg).name == "ingress-nginx"


# -- pure helpers -------------------------------------------------------------------------------------


def test_the_admission_probe_holds_only_the_projects_ingress_objects(env: Env) -> None:
    probe = admission_probe(env.ctx.cfg)
    doc = json.loads(probe.manifest)  # JSON: kubectl reads it as it reads YAML
    assert (doc["kind"], doc["metadata"]["name"]) == ("Ingress", "tour-ingress")
    assert probe.what == f"Ingress tour-ingress from {env.k8s}"


def test_several_project_ingresses_go_as_one_list_and_each_is_checked(
    fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = make_env(fake_tools, tmp_path, monkeypatch, auth_path_type="ImplementationSpecific")
    second = PROJECT_INGRESS.format(auth_path_type="Prefix").replace("tour-ingress", "admin-ingress")
    (env.k8s / "more.yaml").write_text(second.replace("tour.xyz", "admin.tour.xyz"))
    probe = admission_probe(env.ctx.cfg)
    doc = json.loads(probe.manifest)
    assert (doc["apiVersion"], doc["kind"]) == ("v1", "List")
    assert [i["metadata"]["name"] for i in doc["items"]] == ["tour-ingress", "admin-ingress"]

    # kubectl applies a List item by item: the second one's invalid path is what the webhook refuses.
    with pytest.raises(AdmissionDenied) as err:
        env.controller().ensure(env.ctx)
    assert "admin-ingress" in str(err.value) and "cannot be used with pathType Prefix" in str(err.value)


def test_without_a_project_ingress_a_probe_ingress_proves_admission(tmp_path: Path) -> None:
    cfg = config.load(env={"DEVCTL_MANIFESTS_DIR": str(tmp_path / "none")}, cwd=tmp_path)
    probe = admission_probe(cfg)
    doc = json.loads(probe.manifest)
    assert doc["metadata"]["name"] == "devctl-admission-probe"
    (path,) = doc["spec"]["rules"][0]["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")  # passes strict validation


@pytest.mark.parametrize(
    ("endpoints", "ready"),
    [
        ([{"addresses": ["10.244.0.7"], "conditions": {"ready": True}}], True),
        ([{"addresses": ["10.244.0.7"], "conditions": {}}], True),  # absent = ready (discovery/v1)
        ([{"addresses": ["10.244.0.7"], "conditions": {"ready": False}}], False),
        ([{"addresses": [], "conditions": {"ready": True}}], False),
        ([], False),
    ],
)
def test_a_ready_endpoint_needs_an_address_and_a_ready_condition(endpoints: list[object], ready: bool) -> None:
    assert has_ready_endpoint([{"endpoints": endpoints}]) is ready


def test_observe_reads_an_install_from_one_listing() -> None:
    items = [
        {
            "kind": "Deployment",
            "metadata": {"name": "ingress-nginx-controller", "labels": {"app.kubernetes.io/version": "1.15.1"}},
            "spec": {"replicas": 1},
            "status": {"availableReplicas": 1},
        },
        {"kind": "Service", "metadata": {"name": "ingress-nginx-controller-admission"}},
        {
            "kind": "EndpointSlice",
            "metadata": {"name": "x", "labels": {"kubernetes.io/service-name": "ingress-nginx-controller-admission"}},
            "endpoints": [{"addresses": ["10.244.0.7"], "conditions": {"ready": True}}],
        },
        {
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "ingress-nginx-admission"},
            "webhooks": [{"clientConfig": {"caBundle": "Q0E="}}],
        },
    ]
    assert observe(items).shortfalls("1.15.1") == []
    assert observe(items).shortfalls("1.16.0") == ["controller v1.15.1 installed, v1.16.0 pinned"]
    assert observe(items[:1] + items[2:]).stale_webhook
    unpatched = {
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "ingress-nginx-admission"},
        "webhooks": [{"clientConfig": {}}],
    }
    assert "the admission webhook's caBundle is not patched yet" in observe([*items[:3], unpatched]).shortfalls(
        "1.15.1"
    )
    assert Installation().shortfalls("1.15.1") == [
        "no controller Deployment ingress-nginx/ingress-nginx-controller",
        "no admission webhook configuration",
    ]


def test_pod_and_event_summaries() -> None:
    pod = {
        "metadata": {"name": "c-1"},
        "spec": {"nodeName": "tour-control-plane"},
        "status": {
            "phase": "Pending",
            "containerStatuses": [
                {"ready": False, "restartCount": 2, "state": {"waiting": {"reason": "ImagePullBackOff"}}}
            ],
        },
    }
    assert pod_summary(pod) == "c-1  Pending  ready 0/1  restarts 2  node tour-control-plane  ImagePullBackOff"
    events = [
        {
            "lastTimestamp": f"2026-01-01T00:00:{i:02d}Z",
            "type": "Normal",
            "reason": f"R{i}",
            "involvedObject": {"kind": "Pod", "name": "c-1"},
            "message": "m",
        }
        for i in range(12, 0, -1)
    ]
    lines = recent_events(events)
    assert len(lines) == 10
    assert lines[0].startswith("2026-01-01T00:00:03Z") and lines[-1].startswith("2026-01-01T00:00:12Z")


def test_the_denial_reason_keeps_every_invalid_path() -> None:
    stderr = (
        "Warning: path /a(.*) cannot be used with pathType Prefix\n"
        'Error from server (BadRequest): error when creating "STDIN": admission webhook '
        '"validate.nginx.ingress.kubernetes.io" denied the request: ingress contains invalid paths: '
        "path /a(.*) cannot be used with pathType Prefix\npath /b(.*) cannot be used with pathType Exact\n"
    )
    assert denial_reason(stderr) == (
        "ingress contains invalid paths: path /a(.*) cannot be used with pathType "
        "Prefix; path /b(.*) cannot be used with pathType Exact"
    )
