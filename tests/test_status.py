"""`devctl status`: every part judged, from one kubectl call, as a table or stable JSON; exit 0 iff healthy."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from devctl import deployment_health
from devctl import status as st
from devctl.stack import SERVICES
from tests.conftest import REPO, FakeWorld, run_cli
from tests.stack_world import healthy_world, run

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def deployment(name: str, replicas: int = 1, ready: int = 1, ns: str = "default", image: str = "") -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": "2026-01-01T10:00:00Z"},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": name, "image": image or name}]}}},
        "status": {"readyReplicas": ready} if ready else {},
    }


def pod(app: str, created: str, restarts: int = 0, ns: str = "default") -> dict[str, Any]:
    return {
        "kind": "Pod",
        "metadata": {"name": f"{app}-x-{created[-3:-1]}", "namespace": ns, "labels": {"app": app},
                     "creationTimestamp": created},
        "status": {"containerStatuses": [{"restartCount": restarts}]},
    }  # fmt: skip


# --- pure judgements --------------------------------------------------------------------------------


def test_service_rows_sum_restarts_and_age_the_newest_pod() -> None:
    items = [
        deployment("auth", replicas=2, ready=1, image="csup96/tour-auth:abc"),
        pod("auth", "2026-01-01T11:00:00Z", restarts=2),
        pod("auth", "2026-01-01T11:59:00Z", restarts=1),
        pod("tour", "2026-01-01T11:00:00Z", restarts=9),  # another service's pod
        deployment("auth", ns="other", ready=0),  # same name elsewhere: not ours
    ]
    (row,) = deployment_health.service_rows(items, ["auth"], NOW)
    assert (row.ready, row.desired, row.restarts, row.age_seconds, row.image) == (1, 2, 3, 60, "csup96/tour-auth:abc")
    assert row.deployed and not row.ok


def test_a_service_without_its_deployment_is_not_deployed() -> None:
    (row,) = deployment_health.service_rows([], ["review"], NOW)
    assert (row.deployed, row.ok, row.ready, row.desired) == (False, False, 0, 0)


def test_nodes_ready_are_counted_from_their_ready_condition() -> None:
    def node(ready: str) -> dict[str, Any]:
        return {"kind": "Node", "status": {"conditions": [{"type": "Ready", "status": ready}]}}

    assert st.node_counts([node("True"), node("False"), node("Unknown")]) == (1, 3)


def controller(available: int) -> dict[str, Any]:
    d = deployment("ingress-nginx-controller", ns="ingress-nginx")
    d["metadata"]["labels"] = {"app.kubernetes.io/version": "1.15.1"}  # set by the kind manifest
    d["status"] = {"availableReplicas": available}
    return d


def webhook(ca: str) -> dict[str, Any]:
    return {"kind": "ValidatingWebhookConfiguration", "metadata": {"name": "ingress-nginx-admission"},
            "webhooks": [{"clientConfig": {"caBundle": ca}}]}  # fmt: skip


def endpoints(ready: bool | None) -> dict[str, Any]:
    conditions = {} if ready is None else {"ready": ready}  # discovery/v1: an absent ready means ready
    return {
        "kind": "EndpointSlice",
        "metadata": {"name": "x", "namespace": "ingress-nginx",
                     "labels": {"kubernetes.io/service-name": "ingress-nginx-controller-admission"}},
        "endpoints": [{"addresses": ["10.244.0.7"], "conditions": conditions}],
    }  # fmt: skip


SERVICE = {"kind": "Service", "metadata": {"name": "ingress-nginx-controller-admission", "namespace": "ingress-nginx"}}


@pytest.mark.parametrize(
    ("items", "admitting", "detail"),
    [
        ([], False, "ingress-nginx is not installed"),
        ([webhook("Y2E=")], False, "is left from an earlier install"),
        ([controller(0), SERVICE, webhook("Y2E="), endpoints(True)], False, "controller not available (0/1)"),
        ([controller(1), SERVICE, webhook(""), endpoints(True)], False, "caBundle is not patched yet"),
        ([controller(1), SERVICE, webhook("Y2E="), endpoints(False)], False, "no ready endpoint yet"),
        ([controller(1), SERVICE, webhook("Y2E="), endpoints(True)], True, ""),
        ([controller(1), SERVICE, webhook("Y2E="), endpoints(None)], True, ""),
    ],
)
def test_the_ingress_part_is_the_controllers_own_verdict(
    items: list[dict[str, Any]], admitting: bool, detail: str
) -> None:
    from devctl.config import Config
    from devctl.ingress import controller_for

    reading = st.ApiReading("ok", "", tuple(items))
    got = st.ingress_health(Config(), reading)
    assert got.admitting is admitting and detail in got.detail
    assert got.admitting == controller_for(Config()).judge(items, Config().ingress_version).admitting


@pytest.mark.parametrize(("seconds", "text"), [(None, "-"), (5, "5s"), (125, "2m"), (7300, "2h"), (200000, "2d")])
def test_age_reads_like_kubectl(seconds: int | None, text: str) -> None:
    assert deployment_health.age_text(seconds) == text


# --- through the fake tools -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A healthy world built once per module (the fake calls take a few seconds); tests get copies."""
    import socket

    from tests.conftest import FAKES

    root = tmp_path_factory.mktemp("healthy")
    (root / "state").mkdir()
    (root / "hosts").write_text("127.0.0.1\tlocalhost\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ.get('PATH', '')}")
        mp.setenv("DEVCTL_FAKE_STATE", str(root / "state"))
        mp.setenv("DEVCTL_FAKE_PYTHON", sys.executable)
        mp.setenv("KUBECONFIG", str(root / "kubeconfig"))
        healthy_world(port, root / "hosts", SERVICES)
    return root, port


@pytest.fixture
def world(
    fake_tools: FakeWorld, template: tuple[Path, int], repo_cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> FakeWorld:
    import shutil

    root, port = template
    shutil.copy(root / "state" / "state.json", fake_tools.state_dir / "state.json")
    shutil.copy(root / "kubeconfig", fake_tools.kubeconfig)
    shutil.copy(root / "hosts", tmp_path / "hosts")
    monkeypatch.setenv("DEVCTL_REGISTRY_PORT", str(port))
    return fake_tools


def status_json() -> tuple[int, dict[str, Any]]:
    res = run_cli("status", "--json")
    return res.exit_code, json.loads(res.stdout)


def test_a_healthy_environment_exits_0_from_one_kubectl_call(world: FakeWorld) -> None:
    code, data = status_json()
    assert code == 0, data
    assert data["healthy"] is True
    assert [s["name"] for s in data["services"]] == list(SERVICES)
    assert all(s["ok"] and s["ready"] == s["desired"] == 1 for s in data["services"])
    assert data["services"][0]["image"] == "csup96/tour-auth"
    assert len(world.calls("kubectl", probes=False)) == 1  # all services, nodes and ingress together
    assert world.assert_pinned() == 1
    assert len(world.calls("docker")) <= 3  # the nodes, the registry and `docker info` (the engine's name)


def test_the_json_keys_are_stable(world: FakeWorld) -> None:
    _, data = status_json()
    assert list(data) == [
        "healthy", "next_step", "cluster", "registry", "ingress", "hosts", "services", "infrastructure", "engine",
    ]  # fmt: skip
    assert data["engine"] == {"name": "Docker Engine", "context": "default"}  # the fake plays a Linux dockerd
    assert list(data["cluster"]) == [
        "name", "context", "exists", "running", "api", "nodes_ready", "nodes_total", "drift", "ok", "detail",
    ]  # fmt: skip
    assert list(data["registry"]) == ["name", "exists", "running", "host_port", "drift", "ok", "detail"]
    assert list(data["ingress"]) == ["installed", "controller_ready", "admitting", "ok", "detail"]
    assert list(data["hosts"]) == ["host", "ip", "state", "ok", "detail"]
    assert list(data["services"][0]) == [
        "name", "deployed", "ready", "desired", "restarts", "age_seconds", "image", "ok", "reason",
    ]  # fmt: skip


def _stop_registry(w: FakeWorld, tmp: Path) -> None:
    w.stop_container("kind-registry")


def _ingress_never_ready(w: FakeWorld, tmp: Path) -> None:
    w.set_knob("ingress_never_ready", True)


def _no_hosts_line(w: FakeWorld, tmp: Path) -> None:
    (tmp / "hosts").write_text("127.0.0.1\tlocalhost\n")


def _auth_not_ready(w: FakeWorld, tmp: Path) -> None:
    w.set_knob("deploy_never_ready", ["auth"])


def _drifted(w: FakeWorld, tmp: Path) -> None:
    from devctl import config
    from devctl.cluster.spec import ClusterSpec, stamp_manifest

    spec = replace(ClusterSpec.from_config(config.load({})), http_port=8080)
    run("kubectl", "--context", "kind-tour", "apply", "-f", "-", input=stamp_manifest(spec))


@pytest.mark.parametrize(
    ("breakage", "part", "words"),
    [
        (_stop_registry, "registry", "is exited"),
        (_ingress_never_ready, "ingress", "controller not available"),
        (_no_hosts_line, "hosts", "tour.xyz"),
        (_drifted, "cluster", "http_port: 8080 now, 80 wanted"),
    ],
)
def test_each_unhealthy_part_is_named_and_exits_1(
    world: FakeWorld, tmp_path: Path, breakage: Any, part: str, words: str
) -> None:
    breakage(world, tmp_path)
    code, data = status_json()
    assert code == 1
    assert data["healthy"] is False and data[part]["ok"] is False
    assert words in data[part]["detail"]
    others = [p for p in ("cluster", "registry", "ingress", "hosts") if p != part]
    assert all(data[p]["ok"] for p in others), data


def test_a_service_that_is_not_ready_fails_the_whole(world: FakeWorld, tmp_path: Path) -> None:
    _auth_not_ready(world, tmp_path)
    code, data = status_json()
    auth = data["services"][0]
    assert code == 1 and (auth["ready"], auth["desired"], auth["ok"]) == (0, 1, False)


def test_without_a_cluster_everything_is_still_reported(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    code, data = status_json()
    assert code == 1
    assert data["cluster"]["exists"] is False and data["cluster"]["api"] == "no-context"
    assert "no kind cluster named tour" in data["cluster"]["detail"]
    assert data["services"][0]["ready"] is None  # not known, not zero
    assert data["registry"]["exists"] is False


def test_docker_down_is_said_once_per_part(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    fake_tools.docker_down()
    code, data = status_json()
    assert code == 1
    assert "Docker daemon is not reachable" in data["cluster"]["detail"]
    assert data["cluster"]["exists"] is None and data["registry"]["running"] is None


def test_no_permission_on_the_socket_is_said_instead_of_docker_down(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    fake_tools.docker_denied()
    code, data = status_json()
    assert code == 1
    assert "may not use the Docker daemon" in data["cluster"]["detail"]
    assert data["registry"]["detail"] == data["cluster"]["detail"]


def test_the_table_names_every_part_and_service_without_control_codes_when_piped(world: FakeWorld) -> None:
    res = run_cli("status")
    assert res.exit_code == 0
    for word in ("cluster", "registry", "ingress", "hosts", "healthy", *SERVICES):
        assert word in res.stdout
    assert "\x1b" not in res.stdout


def test_watch_prints_a_fresh_report_every_interval_until_ctrl_c(world: FakeWorld) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "devctl", "status", "--watch", "--json", "--interval", "0.2"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        reports = [json.loads(proc.stdout.readline()) for _ in range(3)]
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [r["healthy"] for r in reports] == [True, True, True]
    assert proc.returncode == 0


# --- the hosts verdict and the order of failures ----------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"127.0.0.1\tlocalhost\n",
        b"127.0.0.1\tlocalhost\n# BEGIN devctl cluster=tour (managed by `devctl hosts`; do not edit)\n"
        b"127.0.0.1\ttour.xyz\n# END devctl cluster=tour\n",
        b"10.0.0.5 tour.xyz\n",
        b"127.0.0.1 TOUR.XYZ # mine\n",
        b"# BEGIN devctl cluster=tour\n127.0.0.1\ttour.xyz\n",  # damaged block
        None,  # no file at all
    ],
)
def test_the_hosts_part_is_the_verdict_of_devctl_hosts_status(tmp_path: Path, content: bytes | None) -> None:
    from devctl.config import Config
    from devctl.errors import DevctlError
    from devctl.hosts import entry

    hosts = tmp_path / "hosts"
    if content is not None:
        hosts.write_bytes(content)
    cfg = Config(hosts_file=hosts)
    try:
        full = entry.status(cfg)
        want = (full.state, "" if full.ok else full.detail)
    except DevctlError as err:
        want = ("unknown", str(err))
    got = st.hosts_health(cfg)
    assert (got.state, got.detail) == want
    assert (got.host, got.ip) == (cfg.host, cfg.host_ip)


def test_collect_waits_for_every_read_and_raises_what_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    from devctl.errors import DevctlError

    finished: list[str] = []

    def kubectl_fails(ctx: Any) -> Any:
        import time

        time.sleep(0.2)  # ends last: collect must still wait for it
        finished.append("kubectl")
        raise DevctlError("reading the cluster failed")

    def docker_reads(ctx: Any, pool: Any) -> Any:
        finished.append("docker")
        return st.DockerReading(None, None, "")

    def hosts(cfg: Any) -> Any:
        finished.append("hosts")
        return st.HostsHealth("tour.xyz", "127.0.0.1", "ok", "")

    monkeypatch.setattr(st, "read_cluster", kubectl_fails)
    monkeypatch.setattr(st, "read_docker", docker_reads)
    monkeypatch.setattr(st, "hosts_health", hosts)
    with pytest.raises(DevctlError, match="reading the cluster failed"):
        st.collect(SimpleNamespace(cfg=None), services=["auth"])  # type: ignore[arg-type]
    assert sorted(finished) == ["docker", "hosts", "kubectl"]


def test_what_is_not_known_is_null_and_the_next_step_is_named(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    code, data = status_json()  # nothing exists: no cluster, no registry
    assert code == 1 and data["healthy"] is False
    assert data["registry"]["drift"] is None and data["cluster"]["drift"] is None
    assert all(s["image"] is None for s in data["services"])
    assert data["next_step"].startswith("run `devctl up`")
    res = run_cli("status")
    assert res.stdout.strip().splitlines()[-1] == "not healthy"
    assert res.stderr.strip().splitlines()[-1].startswith("ERROR: not healthy — run `devctl up`")


# --- why a service is not ready (devctl.pod_reasons through the fake cluster's pods) -------------------------


# Each failure shape of the fake's pods (tests/fakes/fakelib/sim_pods.py) and the reason devctl gives for it.
FAILURES = [
    ("CrashLoopBackOff", "CrashLoopBackOff: exit code 1 (Error); last log: Error: connect ECONNREFUSED"),
    ("OOMKilled", "CrashLoopBackOff: OOMKilled at the memory limit 256Mi (exit code 137); last log: Error"),
    ("ImagePullBackOff", "ImagePullBackOff: image csup96/tour-auth"),
    ("ErrImagePull", "ErrImagePull: image csup96/tour-auth: rpc error: code = NotFound desc = failed to pull"),
    ("CreateContainerConfigError", "couldn't find key JWT_ACCESS_SECRET in Secret default/tour-secrets"),
    ("Unschedulable", "Unschedulable: 0/1 nodes are available: 1 Insufficient memory. "),
    ("ReadinessFailed", "not ready: Readiness probe failed: dial tcp 10.244.0."),
]


def failing_auth(world: FakeWorld, shape: str) -> None:
    run("kubectl", "--context", "kind-tour", "apply", "-f", "-", input=AUTH_WITH_SECRET)
    world.set_knob("pod_failures", {"auth": shape})
    world.set_knob("previous_logs", {"auth": ["listening on 3000", "Error: connect ECONNREFUSED 10.96.0.5:27017"]})


@pytest.mark.parametrize(("shape", "reason"), FAILURES)
def test_each_failure_is_explained_in_the_json_and_the_table(world: FakeWorld, shape: str, reason: str) -> None:
    failing_auth(world, shape)
    code, data = status_json()
    auth = next(s for s in data["services"] if s["name"] == "auth")
    assert code == 1 and auth["ok"] is False
    assert reason in auth["reason"], auth["reason"]
    assert all(s["reason"] is None for s in data["services"] if s["name"] != "auth")  # ready, or not deployed
    table = run_cli("status").stdout
    assert "Why not ready" in table and reason.split(";")[0] in " ".join(table.split())


# The stand-in's Deployment as k8s/auth.yaml has it: JWT_ACCESS_SECRET comes from Secret tour-secrets.
AUTH_WITH_SECRET = """apiVersion: apps/v1
kind: Deployment
metadata: {name: auth, labels: {app: auth}}
spec:
  replicas: 1
  selector: {matchLabels: {app: auth}}
  template:
    metadata: {labels: {app: auth}}
    spec:
      containers:
        - name: auth
          image: csup96/tour-auth
          env:
            - name: JWT_ACCESS_SECRET
              valueFrom: {secretKeyRef: {name: tour-secrets, key: JWT_ACCESS_SECRET}}
          resources: {requests: {memory: 64Mi}, limits: {memory: 256Mi}}
"""


def test_the_warm_path_is_one_kubectl_call_and_a_red_service_adds_only_its_own_reads(world: FakeWorld) -> None:
    assert status_json()[0] == 0
    assert len(world.calls("kubectl", probes=False)) == 1
    world.clear_calls()
    world.set_knob("pod_failures", {"auth": "CrashLoopBackOff"})
    assert status_json()[0] == 1
    reads = [c["argv"][2:] for c in world.calls("kubectl", probes=False)]
    assert len(reads) == 2 and reads[1][:2] == ["logs", reads[1][1]] and "--previous" in reads[1], reads
    world.clear_calls()
    world.set_knob("pod_failures", {"auth": "ReadinessFailed"})
    status_json()
    reads = [c["argv"][2:] for c in world.calls("kubectl", probes=False)]
    assert reads[1] == ["get", "events", "-n", "default", "--field-selector", "reason=Unhealthy", "-o", "json"]
    assert world.assert_pinned() == 2


@pytest.mark.parametrize(("shape", "reason"), FAILURES)
def test_the_dev_loops_table_shows_why_a_row_is_not_ready(world: FakeWorld, shape: str, reason: str) -> None:
    from rich.console import Console

    from devctl import config
    from devctl.context import Context
    from devctl.devloop.live import LiveView
    from devctl.devloop.model import DevModel, PodCounts
    from devctl.devloop.texts import Frame
    from devctl.report import SilentReporter

    failing_auth(world, shape)
    # What the dev loop's poll reads every few seconds (devctl.devloop.run), into the live table.
    counts = st.pod_counts(Context.create(config.load({}), reporter=SilentReporter()), SERVICES)
    assert counts["auth"][:2] == (0, 1) and reason in str(counts["auth"][3])
    assert counts["tour"] == (1, 1, 0, None)
    model = DevModel(SERVICES, {})
    model.set_pods({n: PodCounts(*c) for n, c in counts.items()})
    out = Console(record=True, width=400, color_system=None)
    out.print(LiveView(out, model, Frame("http://tour.xyz", False, SERVICES))._table(model.rows()))
    line = next(ln for ln in out.export_text().splitlines() if ln.startswith("auth "))
    assert reason in line


def test_the_databases_redis_and_nats_are_judged_too_and_say_why_they_wait(world: FakeWorld) -> None:
    # What five 320Mi MongoDBs meet on a small Docker VM: no node has room for one more.
    run("kubectl", "--context", "kind-tour", "apply", "-f", str(REPO / "k8s" / "infra"))
    code, data = status_json()
    assert code == 0 and data["healthy"] is True
    assert [s["name"] for s in data["infrastructure"]] == sorted(
        ["auth-mongo", "booking-mongo", "payment-mongo", "review-mongo", "tour-mongo", "review-redis",
         "expiration-redis", "nats"])  # fmt: skip
    world.set_knob("pod_failures", {"tour-mongo": "Unschedulable"})
    code, data = status_json()
    mongo = next(s for s in data["infrastructure"] if s["name"] == "tour-mongo")
    assert code == 1 and mongo["ok"] is False
    assert mongo["reason"].startswith("Unschedulable: 0/1 nodes are available: 1 Insufficient memory.")
    # On the node: the other 4 MongoDBs (128Mi each), 2 Redis (16Mi), NATS (32Mi) and the ingress-nginx
    # controller (90Mi in its kind manifest); this world's stand-ins request nothing.
    assert mongo["reason"].endswith(
        "(the pod requests 128Mi of memory; node tour-control-plane has 3.8Gi allocatable, 666Mi of it requested)")
    table = " ".join(run_cli("status").stdout.split())
    assert "STORE READY" in table and "tour-mongo 0/1" in table and "Insufficient memory" in table
