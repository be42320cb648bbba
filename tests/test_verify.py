"""`devctl verify`: every Ingress rule probed on the running stack, and every service's health.

The "running stack" is local: an HTTP server on 127.0.0.1 plays ingress-nginx plus the stand-ins,
routing by a table written by hand from ingress-nginx.md §7 (not by devctl.routing, or the test
could not fail); the fake kubectl's service proxy forwards `/healthz` to real stand-in servers
(services/standin/server.py, served in-process).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from devctl.routing.rules import build_routes, load_ingresses
from devctl.runner import Runner
from devctl.tools.kind import Kind
from devctl.tools.kubectl import Kubectl
from devctl.verify import HealthTarget, Probe, ProbeResult, parse_health, plan_probes, run_probes
from tests.conftest import REPO, FakeWorld, load_standin, run_cli

HOST = "tour.xyz"

# Sample path of each tour rule -> the service ingress-nginx sends it to, from the rendered order
# in ingress-nginx.md §7 (regex mode, first match in length order wins).
TOUR_ROUTES: dict[str, str] = {
    "/api/v1/tours/x/bookings": "booking",  # #1
    "/api/v1/admin/bookings/x": "booking",  # #2
    "/api/v1/tours/x/reviews": "review",  # #3
    "/api/v1/admin/reviews/x": "review",  # #4
    "/api/v1/admin/users/x": "auth",  # #5
    "/api/v1/admin/tours/x": "tour",  # #6
    "/api/v1/payments/x": "payment",  # #7
    "/api/v1/bookings/x": "booking",  # #8
    "/api/v1/reviews/x": "review",  # #9
    "/api/v1/oauth2/x": "auth",  # #10
    "/api/v1/users/x": "auth",  # #11
    "/api/v1/tours/x": "tour",  # #12
    "/api/v1/auth/x": "auth",  # #13
    "/x": "client",  # #14
}
WEB_SERVICES = ("auth", "booking", "client", "payment", "review", "tour")


# --- a local "ingress" ------------------------------------------------------------------------------


class FakeIngress:
    """Answers like ingress-nginx in front of the stand-ins, by a hand-written table."""

    def __init__(self, table: dict[str, str], delay: float = 0.0) -> None:
        self.table = table
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append((self.path, self.headers.get("Host")))
                if delay:
                    time.sleep(delay)
                service = outer.table.get(self.path) if self.headers.get("Host") == HOST else None
                body = json.dumps({"service": service, "method": "GET", "path": self.path}).encode()
                # Unknown host or path: the default backend's 404, without the stand-in's header.
                self.send_response(200 if service else 404)
                if service:
                    self.send_header("X-Served-By", service)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ingress(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeIngress]]:
    started: list[FakeIngress] = []

    def start(table: dict[str, str], delay: float = 0.0) -> FakeIngress:
        server = FakeIngress(table, delay)
        started.append(server)
        monkeypatch.setenv("DEVCTL_HTTP_PORT", str(server.port))
        return server

    yield start
    for s in started:
        s.close()


# --- stand-ins behind the fake kubectl's service proxy ------------------------------------------------


standin = load_standin("standin_for_verify")


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A port where something accepts TCP connections (a dependency that is up)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        s.settimeout(0.05)
        stop = threading.Event()

        def accept() -> None:  # accept and hang up, as a database would after a stand-in's TCP check
            while not stop.is_set():
                try:
                    conn, _ = s.accept()
                except OSError:
                    continue
                conn.close()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        yield int(s.getsockname()[1])
        stop.set()
        thread.join()


def closed_port() -> int:
    """A port nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def standins(
    fake_tools: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[dict[str, dict[str, str]]], None]]:
    """Start a real stand-in per service (name -> its dependency environment) behind the service proxy."""
    servers: list[Any] = []
    # In-process, the stand-ins' request log would land in the CLI output under test.
    monkeypatch.setattr(standin, "log", lambda line: None)

    def start(envs: dict[str, dict[str, str]]) -> None:
        backends = {}
        for name, env in envs.items():
            app = standin.App(name, standin.dependencies(env), "test")
            server = standin.make_server(app, "127.0.0.1", 0)
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
            servers.append(server)
            backends[name] = f"http://127.0.0.1:{server.server_address[1]}"
        fake_tools.set_knob("service_proxy", backends)

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture
def stack(fake_tools: FakeWorld, repo_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> FakeWorld:
    """A fake kind cluster `tour` with the repo's k8s/ applied (so its Services exist)."""
    runner = Runner()
    Kind(runner).create_cluster("tour", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n")
    Kubectl(runner, "kind-tour").apply_file(str(repo_cwd / "k8s"))
    fake_tools.clear_calls()
    monkeypatch.setenv("COLUMNS", "250")  # rich tables on one line per row
    return fake_tools


def healthy_env(port: int) -> dict[str, str]:
    return {"MONGO_URI": f"mongodb://127.0.0.1:{port}/db", "NATS_URL": f"http://127.0.0.1:{port}"}


def verify_json(*args: str) -> tuple[int, dict[str, Any]]:
    res = run_cli("verify", "--json", *args)
    return res.exit_code, json.loads(res.stdout)


# --- planning ---------------------------------------------------------------------------------------


def test_every_tour_rule_gets_one_probe_whose_prediction_matches_the_reference_table() -> None:
    routes = build_routes(load_ingresses(REPO / "k8s"))
    probes = plan_probes(routes, HOST)
    assert [p.order for p in probes] == list(range(1, 15))
    assert {p.path: p.expected for p in probes} == TOUR_ROUTES


def test_a_host_without_rules_has_nothing_to_probe() -> None:
    routes = build_routes(load_ingresses(REPO / "k8s"))
    assert plan_probes(routes, "elsewhere.example") == []


def test_manifests_without_a_rule_for_the_host_are_a_usage_error_before_any_request(
    fake_tools: FakeWorld, repo_cwd: Path, tmp_path: Path
) -> None:
    other = tmp_path / "manifests"
    other.mkdir()
    ingress_yaml = (REPO / "k8s" / "ingress.yaml").read_text().replace("host: tour.xyz", "host: other.example")
    (other / "ingress.yaml").write_text(ingress_yaml)

    res = run_cli("verify", "--manifests", str(other))

    assert res.exit_code == 2
    assert res.stderr.startswith("ERROR: no Ingress rule serves host tour.xyz: nothing to verify")
    assert fake_tools.calls() == []


# --- probing the running stack ------------------------------------------------------------------------


def test_a_backend_answering_for_the_wrong_rule_is_the_only_mismatch(
    stack: FakeWorld, ingress: Callable[..., FakeIngress], standins: Any, listening_port: int
) -> None:
    wrong = {**TOUR_ROUTES, "/api/v1/tours/x/reviews": "tour"}  # as if the tour service won #3
    server = ingress(wrong)
    standins({name: healthy_env(listening_port) for name in WEB_SERVICES})

    code, report = verify_json()

    assert code == 1
    assert sorted(path for path, _ in server.requests) == sorted(TOUR_ROUTES)  # the sample paths, each once
    assert all(host == HOST for _, host in server.requests)
    failed = [r for r in report["routes"] if not r["ok"]]
    assert failed == [
        {
            "order": 3,
            "rule": "/api/v1/tours/?(.*)/reviews",
            "ingress": "default/tour-ingress",
            "path": "/api/v1/tours/x/reviews",
            "expected": "review",
            "expected_redirect": None,
            "served_by": "tour",
            "status": 200,
            "result": "mismatch",
            "ok": False,
            "error": "expected review, served by tour",
        }
    ]
    assert len(report["routes"]) == 14
    assert all(h["ok"] for h in report["health"])
    assert stack.assert_pinned("tour") == len(WEB_SERVICES)


def test_the_table_names_the_mismatch_and_the_summary_fails(
    stack: FakeWorld, ingress: Callable[..., FakeIngress], standins: Any, listening_port: int
) -> None:
    ingress({**TOUR_ROUTES, "/x": "auth"})
    standins({name: healthy_env(listening_port) for name in WEB_SERVICES})

    res = run_cli("verify")

    assert res.exit_code == 1
    lines = [ln for ln in res.stdout.splitlines() if "MISMATCH" in ln]
    assert len(lines) == 1
    assert "/?(.*)" in lines[0] and "expected client, served by auth" in lines[0]
    assert "verify FAILED: 13 of 14 routes reach the predicted service; 6 of 6 services healthy." in res.stdout


def test_verify_passes_when_every_rule_reaches_its_predicted_service(
    stack: FakeWorld, ingress: Callable[..., FakeIngress], standins: Any, listening_port: int
) -> None:
    server = ingress(TOUR_ROUTES)
    standins({name: healthy_env(listening_port) for name in WEB_SERVICES})

    res = run_cli("verify")

    assert res.exit_code == 0
    assert f"routes of tour.xyz via http://127.0.0.1:{server.port}" in res.stdout
    assert "verify passed: 14 of 14 routes reach the predicted service; 6 of 6 services healthy." in res.stdout
    assert "MISMATCH" not in res.stdout and "UNHEALTHY" not in res.stdout


def test_a_refused_connection_is_one_line_that_says_to_run_devctl_up(
    fake_tools: FakeWorld, repo_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    monkeypatch.setenv("DEVCTL_HTTP_PORT", str(port))

    res = run_cli("verify")

    assert res.exit_code == 1
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        f"ERROR: nothing answers on http://127.0.0.1:{port} (connection refused): the stack is not running"
        " — start it with `devctl up`"
    ]
    assert fake_tools.calls("kubectl") == []  # no health checks against a stack that is not there


def test_a_route_that_does_not_answer_in_time_is_reported_not_waited_for(
    ingress: Callable[..., FakeIngress],
) -> None:
    server = ingress(TOUR_ROUTES, delay=2.0)
    probes = plan_probes(build_routes(load_ingresses(REPO / "k8s")), HOST)
    started = time.monotonic()

    results = run_probes(probes, f"http://127.0.0.1:{server.port}", HOST, timeout=0.3)

    assert [r.probe for r in results] == probes
    assert {(r.outcome, r.note) for r in results} == {("error", "no answer within 0.3 s")}
    assert time.monotonic() - started < 1.5  # in parallel, not 14 x 0.3 s one after the other


# --- health -----------------------------------------------------------------------------------------


def test_health_lists_each_dependency_and_names_the_unhealthy_services(
    stack: FakeWorld, ingress: Callable[..., FakeIngress], standins: Any, listening_port: int
) -> None:
    ingress(TOUR_ROUTES)
    down = closed_port()
    envs = {name: healthy_env(listening_port) for name in WEB_SERVICES if name != "payment"}
    envs["auth"] = {**healthy_env(listening_port), "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(listening_port)}
    envs["booking"] = {"MONGO_URI": f"mongodb://127.0.0.1:{listening_port}/b", "NATS_URL": f"http://127.0.0.1:{down}"}
    standins(envs)  # payment: no stand-in registered, i.e. no ready pod

    code, report = verify_json()

    assert code == 1
    assert all(r["ok"] for r in report["routes"])
    health = {h["service"]: h for h in report["health"]}
    assert [(d["name"], d["port"], d["ok"]) for d in health["auth"]["dependencies"]] == [
        ("mongo", listening_port, True),
        ("redis", listening_port, True),
        ("nats", listening_port, True),
    ]
    assert health["auth"]["ok"] is True and health["auth"]["error"] is None
    # The stand-in answers 503; kubectl drops the body of an error answer, so only that is known.
    assert health["booking"]["ok"] is False
    assert health["booking"]["dependencies"] == []
    assert health["booking"]["error"].startswith("/healthz answered 503: a dependency is down")
    assert health["payment"]["ok"] is False
    no_pod = 'Error from server (ServiceUnavailable): no endpoints available for service "payment"'
    assert health["payment"]["error"] == no_pod
    assert [name for name, h in health.items() if not h["ok"]] == ["booking", "payment"]
    assert stack.assert_pinned("tour") == len(WEB_SERVICES)
    auth_health = "/api/v1/namespaces/default/services/auth:3000/proxy/healthz"
    assert ["--context", "kind-tour", "get", "--raw", auth_health] in stack.argvs("kubectl")


def test_the_health_table_shows_dependencies_and_failures(
    stack: FakeWorld, ingress: Callable[..., FakeIngress], standins: Any, listening_port: int
) -> None:
    ingress(TOUR_ROUTES)
    envs = {name: healthy_env(listening_port) for name in WEB_SERVICES}
    envs["review"] = {"MONGO_URI": f"mongodb://127.0.0.1:{closed_port()}/r"}
    standins(envs)

    res = run_cli("verify")

    assert res.exit_code == 1
    rows = [ln.split() for ln in res.stdout.splitlines()]
    assert ["tour:3000", "mongo", f"127.0.0.1:{listening_port}", "reachable"] in rows
    assert ["tour:3000", "nats", f"127.0.0.1:{listening_port}", "reachable"] in rows
    review = [ln for ln in res.stdout.splitlines() if ln.strip().startswith("review:3000")]
    assert len(review) == 1 and "UNHEALTHY: /healthz answered 503" in review[0]
    assert "verify FAILED: 14 of 14 routes reach the predicted service; 5 of 6 services healthy." in res.stdout


# --- pure parts -------------------------------------------------------------------------------------

PROBE = Probe(order=3, rule="/r", ingress="default/i", path="/r/x", expected="review")


@pytest.mark.parametrize(
    ("status", "served_by", "outcome", "note"),
    [
        (200, "review", "ok", ""),
        (500, "review", "ok", ""),  # routing is right even when the service fails
        (200, "tour", "mismatch", "expected review, served by tour"),
        (503, None, "mismatch", "ingress-nginx answered 503 itself: review has no ready pod (see `devctl status`)"),
        (404, None, "mismatch", "404 without X-Served-By: no rule matched (is the Ingress applied?)"),
    ],
)
def test_a_probe_result_judges_by_the_served_by_header(
    status: int, served_by: str | None, outcome: str, note: str
) -> None:
    r = ProbeResult(PROBE, status=status, served_by=served_by)
    assert (r.outcome, r.note, r.ok) == (outcome, note, outcome == "ok")


def test_a_rule_without_a_sample_path_is_skipped_not_failed() -> None:
    r = ProbeResult(Probe(order=2, rule="/shadowed", ingress=None, path=None, expected="x"))
    assert (r.outcome, r.ok) == ("skipped", True)


def test_a_prediction_of_the_default_backend_wants_a_bare_404() -> None:
    probe = Probe(order=1, rule="/", ingress=None, path="/nothing", expected=None)
    assert ProbeResult(probe, status=404).ok
    assert not ProbeResult(probe, status=200, served_by="client").ok


def test_a_service_whose_pods_answer_under_another_name_is_unhealthy() -> None:
    target = HealthTarget("default", "auth", 3000)
    body = json.dumps({"service": "tour", "ok": True, "dependencies": []})
    assert parse_health(target, body).error == "Service auth reaches the pods of tour (check its selector)"


def test_an_answer_that_is_not_the_stand_ins_report_is_unhealthy() -> None:
    target = HealthTarget("default", "auth", 3000)
    assert not parse_health(target, "<html>hello</html>").ok
