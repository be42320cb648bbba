"""The `ingress` step of `up`: runs after the cluster step, installs once, and on a warm re-run is
skipped within the ingress step's budget of 2 kubectl calls (brief: warm `up` budget)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devctl import config
from devctl.context import Context
from devctl.ingress.nginx import NginxController
from devctl.ingress.steps import ingress_steps
from devctl.report import SilentReporter
from devctl.tools.kind import Kind
from devctl.workflows.steps import FuncStep, describe_steps, run_steps
from tests.conftest import REPO, FakeWorld

MANIFEST = REPO / "tests" / "data" / "ingress-nginx-kind-v1.15.1.yaml"

INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: tour-ingress
  annotations: {nginx.ingress.kubernetes.io/use-regex: "true"}
spec:
  ingressClassName: nginx
  rules:
    - host: tour.xyz
      http:
        paths:
          - path: /api/v1/tours/?(.*)
            pathType: ImplementationSpecific
            backend: {service: {name: tour, port: {number: 3000}}}
"""


@pytest.fixture
def ctx(fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "ingress.yaml").write_text(INGRESS)
    monkeypatch.setenv("DEVCTL_MANIFESTS_DIR", str(tmp_path / "k8s"))
    monkeypatch.setenv("DEVCTL_INGRESS_MANIFEST", str(MANIFEST))
    fake_tools.add_foreign_context("prod", current=True)
    return Context.create(config.load(env=os.environ, cwd=tmp_path), reporter=SilentReporter())


def cluster_step() -> FuncStep:
    def create(ctx: Context) -> str:
        Kind(ctx.runner).create_cluster(ctx.cfg.cluster, "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n")
        return "created"

    return FuncStep("cluster", "Cluster", create, check_fn=lambda c: "exists" if c.cfg.cluster in c.kind.get_clusters()
                    else None)


def test_the_step_installs_once_and_is_skipped_on_a_warm_rerun(fake_tools: FakeWorld, ctx: Context) -> None:
    steps = [cluster_step(), *ingress_steps(NginxController(poll_interval=0.05))]

    first = run_steps(steps, ctx)
    assert [o.status for o in first.outcomes] == ["done", "done"]
    fake_tools.clear_calls()

    second = run_steps(steps, ctx)

    assert [o.status for o in second.outcomes] == ["skipped", "skipped"]
    assert second.outcomes[1].note == "ingress-nginx v1.15.1 is installed and admits Ingresses"
    assert len(fake_tools.argvs("kubectl")) <= 2
    assert fake_tools.assert_pinned() > 0


def test_the_step_runs_after_the_cluster_and_describes_its_commands(fake_tools: FakeWorld, ctx: Context) -> None:
    (step,) = ingress_steps()
    assert step.name == "ingress" and step.needs == ("cluster",)

    lines = describe_steps([cluster_step(), step], ctx)

    assert lines[1] == "2. Ingress controller  (after cluster)"
    assert any(f"kubectl --context kind-tour apply -f {MANIFEST}" in ln for ln in lines)
    assert fake_tools.calls() == [], "describing runs nothing"
