"""A developer's first day and daily loop, in order, against one environment: fresh `up` -> second `up` -> `dev`
-> `verify` -> a synced change -> data created -> Ctrl-C -> `up` again, the data is there -> Ctrl-C with
--keep -> `down`.

Each test is one step and builds on the ones before it (the toolbox, and in real mode its cluster, is
per module); after a failed step the rest are skipped, since their failures would only echo it. The
assertions go through devctl's own outputs (`status --json`, `hosts status --json`, `secrets show
--json`, `cluster status --json`, `verify --json`, `routes check --json`) and the tools themselves
(`kubectl`, `kind`, `docker` via ``toolbox.call``), so they hold with the fakes and with the real tools
alike; fake-only extras (the call log, the fake's objects) are guarded by ``toolbox.world``.

What the fakes cannot do, and how it is handled:
- serve HTTP through an ingress: in fake mode `verify` meets a local stand-in of ingress-nginx on the
  toolbox's HTTP port, routing by a table written by hand from ingress-nginx.md §7 (not by devctl.routing,
  or the test could not fail) to real stand-in servers (services/standin/server.py, in-process), which the
  fake API server's service proxy reaches for `/healthz` too (tests/fakes/fakelib/service_proxy.py);
- copy synced files into containers: the fake `skaffold dev` prints Skaffold's sync lines and runs a new
  DevLoop (skaffold.md §3, §5), so devctl's side of a sync is checked in both modes; that the stand-in
  then answers with the new code through the ingress is real-only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import posixpath
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
import yaml

from tests.conftest import REPO, load_standin
from tests.scenarios.conftest import Run, Started, Toolbox, e2e_requested, earlier_failure
from tests.stack_world import living, processes_with_env

HOST = "tour.xyz"
STANDIN_DIR = REPO / "services" / "standin"
STANDIN_SOURCE = STANDIN_DIR / "server.py"
MANIFESTS = REPO / "k8s"
# How long a step may take to settle after devctl said it is done (endpoints, pod reloads, deletions).
SETTLE: dict[str, float] = {"fake": 10.0, "real": 180.0}
PROC = Path("/proc/self/environ")
T = TypeVar("T")


# --- the project, read independently of devctl -------------------------------------------------------


def _docs(folder: Path = MANIFESTS) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def infrastructure() -> tuple[set[str], set[str]]:
    """The Deployments and PersistentVolumeClaims of k8s/infra/ (what `up` applies, not Skaffold)."""
    docs = _docs(MANIFESTS / "infra")
    return ({d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"},
            {d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"})  # fmt: skip


def seeded_documents(folder: Path) -> dict[str, list[Any]]:
    """Every seed file's documents by service/collection, sorted (a dump is sorted by _id, a seed need not be)."""
    out = {}
    for path in sorted(folder.glob("*/*.json")):
        docs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        out[f"{path.parent.name}/{path.stem}"] = sorted(docs, key=lambda d: json.dumps(d, sort_keys=True))
    return out


def ingress_rules() -> dict[str, str]:
    """Every path of the host's Ingress rules -> its backend Service (k8s/ingress.yaml)."""
    rules: dict[str, str] = {}
    for doc in _docs():
        if doc.get("kind") != "Ingress":
            continue
        for rule in doc["spec"]["rules"]:
            if rule.get("host") == HOST:
                for p in rule["http"]["paths"]:
                    rules[p["path"]] = p["backend"]["service"]["name"]
    return rules


def deployment_env(name: str) -> dict[str, str]:
    """The literal `env` values of Deployment ``name`` in k8s/."""
    for doc in _docs():
        if doc.get("kind") == "Deployment" and doc["metadata"]["name"] == name:
            containers = doc["spec"]["template"]["spec"]["containers"]
            return {e["name"]: str(e["value"]) for e in containers[0].get("env") or [] if "value" in e}
    raise AssertionError(f"no Deployment {name} in {MANIFESTS}")


def secret_keys_read_by_manifests() -> set[str]:
    """Every key a Deployment reads from the dev Secret through secretKeyRef."""

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if isinstance(node.get("secretKeyRef"), dict):
                yield node["secretKeyRef"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    return {ref["key"] for doc in _docs() for ref in walk(doc) if ref.get("name") == "tour-secrets"}


def stack_images() -> dict[str, str]:
    """image -> service for every artifact of skaffold.yaml's default build."""
    cfg = yaml.safe_load((REPO / "skaffold.yaml").read_text())
    return {a["image"]: a["image"].rsplit("-", 1)[-1] for a in cfg["build"]["artifacts"]}


standin = load_standin("standin_for_scenarios")


# --- small helpers -----------------------------------------------------------------------------------


def as_json(run: Run, what: str) -> Any:
    try:
        return json.loads(run.stdout)
    except ValueError:
        pytest.fail(f"`{what}` printed no JSON (exit {run.code}):\n{run.stdout}\n{run.stderr}")


def kubectl(toolbox: Toolbox, *args: str) -> Run:
    binary = toolbox.which("kubectl")
    assert binary is not None
    return toolbox.call([binary, *args])


def deployments(toolbox: Toolbox, resource: str = "deployments") -> set[str]:
    """The Deployments (or another resource) in the stack's namespace, as the user would list them."""
    res = kubectl(toolbox, "--context", toolbox.context, "get", resource, "-o", "name")
    assert res.code == 0, res.stderr
    return {line.split("/", 1)[1] for line in res.stdout.split()}


def eventually(check: Callable[[], T], timeout: float, interval: float = 0.2) -> T:
    """Poll ``check()`` until it returns something truthy; the last value either way."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def toolbox_processes(toolbox: Toolbox) -> list[int]:
    """Living processes started for this toolbox: all of them (devctl, Skaffold, kubectl children, fake or
    real) inherit its private KUBECONFIG, which nothing else on the machine has."""
    return processes_with_env(f"KUBECONFIG={toolbox.kubeconfig}")


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


READY = re.compile(r"ready \(iteration (\d+)\)")


def ready_iterations(dev: Started) -> int:
    """The highest iteration devctl announced as ready (PlainView: `devctl | ready (iteration N): URL`)."""
    _, err = dev.output()
    return max((int(m) for m in READY.findall(err)), default=0)


def step_lines(text: str) -> list[str]:
    """The PlainReporter's finished-step lines (` ✓ Title (1.2s): note`, ` ✓ Title: reason`, ` ✗ ...`)."""
    return [line for line in text.splitlines() if line.startswith((" ✓ ", " ✗ "))]


# report.py PlainReporter: done ` ✓ Title (1.2s): note` (apply ran), skipped ` ✓ Title: reason` (check said done).
STEP = re.compile(r"^ (?P<mark>[✓✗]) (?P<title>.+?)(?P<took> \((?:\d+m)?\d+\.\ds\))?(?:: (?P<note>.*))?$")


def parse_step(line: str) -> tuple[str, str, bool, str]:
    """(mark, title, ran, note): ``ran`` when a duration is shown (the step's apply ran, not its check)."""
    m = STEP.match(line)
    assert m, f"not a step line: {line!r}"
    return m["mark"], m["title"], m["took"] is not None, m["note"] or ""


def through_ingress(toolbox: Toolbox, path: str) -> tuple[int, dict[str, str]]:
    """GET ``path`` from the ingress on 127.0.0.1:<http port> with the Host header (no hosts file needed)."""
    conn = http.client.HTTPConnection("127.0.0.1", toolbox.ports.http, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": HOST, "Connection": "close"})
        resp = conn.getresponse()
        resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


@contextlib.contextmanager
def changed_standin_source() -> Iterator[str]:
    """The stand-in's source with one comment line added (behaviour unchanged), restored byte for byte
    afterwards whatever happens; yields the revision the changed code answers with."""
    original = STANDIN_SOURCE.read_bytes()
    try:
        STANDIN_SOURCE.write_bytes(original + f"\n# devctl scenario change {secrets.token_hex(4)}\n".encode())
        yield standin.source_revision(STANDIN_DIR)
    finally:
        STANDIN_SOURCE.write_bytes(original)


# --- the journey's shared state ---------------------------------------------------------------------


@dataclass
class Journey:
    hosts_before: bytes  # the hosts file as it was before devctl touched it
    first_up: Run | None = None
    dev: Started | None = None


@pytest.fixture(scope="module")
def journey(toolbox: Toolbox) -> Journey:
    return Journey(hosts_before=toolbox.hosts_file.read_bytes())


@pytest.fixture(autouse=True)
def _in_order(request: pytest.FixtureRequest) -> None:
    if earlier_failure(request.node):
        pytest.skip("an earlier step of this journey failed, and this one builds on it")


# --- fake mode: ingress-nginx and the stand-ins on 127.0.0.1 -----------------------------------------

# ingress-nginx.md §7: the tour rules in the order NGINX tries them (regex mode: case-insensitive,
# anchored at the start only, first match wins). Written by hand on purpose; see the module docstring.
TOUR_LOCATIONS: tuple[tuple[str, str], ...] = (
    (r"/api/v1/tours/?(.*)/bookings", "booking"),
    (r"/api/v1/admin/bookings/?(.*)", "booking"),
    (r"/api/v1/tours/?(.*)/reviews", "review"),
    (r"/api/v1/admin/reviews/?(.*)", "review"),
    (r"/api/v1/admin/users/?(.*)", "auth"),
    (r"/api/v1/admin/tours/?(.*)", "tour"),
    (r"/api/v1/payments/?(.*)", "payment"),
    (r"/api/v1/bookings/?(.*)", "booking"),
    (r"/api/v1/reviews/?(.*)", "review"),
    (r"/api/v1/oauth2/?(.*)", "auth"),
    (r"/api/v1/users/?(.*)", "auth"),
    (r"/api/v1/tours/?(.*)", "tour"),
    (r"/api/v1/auth/?(.*)", "auth"),
    (r"/?(.*)", "client"),
)


def nginx_uri(target: str) -> str:
    """ingress-nginx.md §5 "Matching a request" 1: no query, percent-decoded, slashes merged, dot segments resolved."""
    path = re.sub(r"/{2,}", "/", unquote(target.split("?", 1)[0]))
    resolved = posixpath.normpath(path)
    if path.endswith("/") and resolved != "/":
        resolved += "/"
    return resolved


def route(host: str | None, target: str) -> str | None:
    if (host or "").rsplit(":", 1)[0] != HOST:
        return None  # the catch-all server: default backend (§5 "Host selection")
    uri = nginx_uri(target)
    return next((svc for pattern, svc in TOUR_LOCATIONS if re.match(pattern, uri, re.IGNORECASE)), None)


class Listener:
    """A port that accepts TCP connections and hangs up, as a database would after a stand-in's check."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.05)
        self.port = int(self.sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def local_env(service: str, port: int) -> dict[str, str]:
    """The Deployment's dependency settings, every address pointed at 127.0.0.1:``port``."""
    env = deployment_env(service)
    out: dict[str, str] = {}
    for key in ("MONGO_URI", "NATS_URL"):
        if key in env:
            u = urlsplit(env[key])
            out[key] = urlunsplit((u.scheme, f"127.0.0.1:{port}", u.path, u.query, u.fragment))
    if "REDIS_HOST" in env:
        out.update(REDIS_HOST="127.0.0.1", REDIS_PORT=str(port))
    return out


class LocalStack:
    """Stand-in servers (the real code) and, in front of them on the toolbox's HTTP port, an "ingress"."""

    def __init__(self, http_port: int, services: set[str]) -> None:
        self.requests: list[tuple[str, str | None]] = []  # (path as sent, Host) the ingress received
        self.standin_log: list[str] = []
        standin.log = self.standin_log.append  # the stand-ins' request log, instead of stdout
        self.listener = Listener()
        self.servers: dict[str, ThreadingHTTPServer] = {}
        revision = standin.source_revision(STANDIN_DIR)
        for name in sorted(services):
            app = standin.App(name, standin.dependencies(local_env(name, self.listener.port)), revision)
            server = standin.make_server(app, "127.0.0.1", 0)
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
            self.servers[name] = server
        self.ingress = self._ingress(http_port)

    def backends(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{s.server_address[1]}" for name, s in self.servers.items()}

    def _ingress(self, port: int) -> ThreadingHTTPServer:
        outer = self

        class Ingress(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                host = self.headers.get("Host")
                outer.requests.append((self.path, host))
                service = route(host, self.path)
                if service is None or service not in outer.servers:
                    self._send(404, {}, b"<html><body>404 Not Found</body></html>")  # default backend
                    return
                conn = http.client.HTTPConnection("127.0.0.1", outer.servers[service].server_address[1], timeout=5)
                try:
                    conn.request("GET", self.path, headers={"Host": host or ""})
                    resp = conn.getresponse()
                    body = resp.read()
                    keep = ("Content-Type", "X-Served-By", "X-Standin-Revision")
                    self._send(resp.status, {k: v for k in keep if (v := resp.getheader(k))}, body)
                finally:
                    conn.close()

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Ingress)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return server

    def close(self) -> None:
        for server in (self.ingress, *self.servers.values()):
            server.shutdown()
            server.server_close()
        self.listener.close()


@pytest.fixture
def local_stack(toolbox: Toolbox) -> Iterator[LocalStack | None]:
    """Fake mode: the local ingress + stand-ins, registered as the Services' endpoints for the API
    server's service proxy. Real mode: None (the cluster serves)."""
    if toolbox.world is None:
        yield None
        return
    stack = LocalStack(toolbox.ports.http, set(ingress_rules().values()))
    toolbox.world.set_knob("service_proxy", stack.backends())
    try:
        yield stack
    finally:
        toolbox.world.set_knob("service_proxy", {})
        stack.close()


# --- (a) a fresh `devctl up --no-dev` ---------------------------------------------------------------


def test_a1_up_no_dev_on_a_fresh_machine_succeeds_and_prints_the_url(toolbox: Toolbox, journey: Journey) -> None:
    run = toolbox.run("up", "--no-dev")
    journey.first_up = run
    assert run.code == 0, run.stderr
    assert f"Ready: http://{HOST}:{toolbox.ports.http}" in run.stdout
    assert not [line for line in step_lines(run.stderr) if line.startswith(" ✗ ")], run.stderr
    if toolbox.world is not None:
        assert toolbox.world.assert_pinned(toolbox.cluster) > 0  # every kubectl/skaffold call was pinned


def test_a2_status_sees_cluster_registry_admitting_ingress_and_hosts_entry_and_nothing_deployed(
    toolbox: Toolbox,
) -> None:
    run = toolbox.run("status", "--json")
    report = as_json(run, "devctl status --json")
    assert report["cluster"]["ok"] and report["cluster"]["context"] == toolbox.context, report["cluster"]
    assert report["registry"]["ok"] and report["registry"]["host_port"] == toolbox.ports.registry, report["registry"]
    assert report["ingress"]["admitting"] is True, report["ingress"]
    assert report["hosts"]["ok"] and report["hosts"]["host"] == HOST, report["hosts"]
    # No dev loop yet: nothing of the stack runs, so status is not healthy, and says why (exit 1).
    assert report["services"] and all(s["deployed"] is False for s in report["services"]), report["services"]
    assert (run.code, report["healthy"]) == (1, False)


def test_a3_cluster_status_finds_cluster_and_registry_as_wanted(toolbox: Toolbox) -> None:
    run = toolbox.run("cluster", "status", "--json")
    assert run.code == 0, run.stderr
    st = as_json(run, "devctl cluster status --json")
    assert st["exists"] and st["api"] == "ok", st
    assert [n["state"] for n in st["nodes"]] == ["running"]
    assert st["registry"]["name"] == toolbox.registry_name and st["registry"]["state"] == "running"
    assert st["registry"]["host_port"] == toolbox.ports.registry
    assert st["registry_hosting"]["host"] == f"localhost:{toolbox.ports.registry}"  # KEP-1755 ConfigMap
    assert st["drift"] == [] and st["plan"]["noop"] is True, st["plan"]
    if toolbox.world is not None:
        containers = toolbox.world.containers()
        assert f"{toolbox.cluster}-control-plane" in containers and toolbox.registry_name in containers


def test_a4_hosts_status_maps_the_host_in_devctls_block(toolbox: Toolbox, journey: Journey) -> None:
    run = toolbox.run("hosts", "status", "--json")
    st = as_json(run, "devctl hosts status --json")
    assert run.code == 0 and st["ok"] is True, st
    assert st["path"] == str(toolbox.hosts_file) and st["block"] is True
    assert [(e["address"], e["in_block"]) for e in st["entries"]] == [("127.0.0.1", True)]
    assert toolbox.hosts_file.read_bytes().startswith(journey.hosts_before)  # what was there stays as it was


def test_a5_the_dev_secret_holds_every_key_the_manifests_read(toolbox: Toolbox) -> None:
    wanted = secret_keys_read_by_manifests()
    assert wanted, "the manifests read no key of tour-secrets: this test would prove nothing"
    hidden = toolbox.run("secrets", "show", "--json")
    shown = as_json(hidden, "devctl secrets show --json")
    assert hidden.code == 0 and set(shown["keys"]) >= wanted, shown
    assert all(v is None for v in shown["keys"].values()), "values printed without --reveal"
    revealed = as_json(toolbox.run("secrets", "show", "--json", "--reveal"), "devctl secrets show --reveal")
    assert all(len(revealed["keys"][k]) >= 32 for k in wanted), "a secret value is empty or short"


# --- (e) a second `devctl up --no-dev` ----------------------------------------------------------------

# doctor's checks: they only read, and run every time by design.
ALWAYS_RUN = ("Preflight checks",)
BUILD = "Build images"
# Calls that change something (the fakes log every call; reads are get/inspect/ps/info/...).
CHANGING = {
    "kind": {"create", "delete", "load", "build"},
    "docker": {"run", "start", "stop", "restart", "rm", "exec", "network", "pull", "push", "tag", "kill"},
    "kubectl": {"apply", "create", "patch", "replace", "delete", "label", "annotate", "scale", "rollout", "set"},
}


def _verb(tool: str, argv: list[str]) -> str:
    if any(a.startswith("--dry-run=") and a != "--dry-run=none" for a in argv):
        return "dry-run"  # kubectl's server/client dry-run changes nothing
    words = [a for a in argv if not a.startswith("-")]
    if tool == "kubectl" and argv[:1] == ["--context"]:
        words = [a for a in argv[2:] if not a.startswith("-")]
    return words[0] if words else ""


def test_e1_a_second_up_is_a_no_op_that_says_each_step_was_already_done(toolbox: Toolbox, journey: Journey) -> None:
    assert journey.first_up is not None
    if toolbox.world is not None:
        toolbox.world.clear_calls()
    run = toolbox.run("up", "--no-dev")
    assert run.code == 0, run.stderr
    steps = [parse_step(line) for line in step_lines(run.stderr)]
    first_titles = [parse_step(line)[1] for line in step_lines(journey.first_up.stderr)]
    assert sorted(t for _, t, _, _ in steps) == sorted(first_titles), "not every step reported its state"
    for mark, title, ran, note in steps:
        assert mark == "✓", f"{title}: {note}"
        if title in ALWAYS_RUN or title == BUILD:  # the build: test_e2
            continue
        already = not ran or "already" in note or "nothing to change" in note
        assert already, f"a second `up` did the step {title!r} again: {note}"
    if toolbox.world is not None:
        changes = [
            (c["tool"], c["argv"])
            for c in toolbox.world.calls()
            if _verb(c["tool"], c["argv"]) in CHANGING.get(c["tool"], set())
        ]
        assert changes == [], f"a second `up` changed things: {changes}"


def test_e2_a_second_up_does_not_build_the_images_again(toolbox: Toolbox) -> None:
    if toolbox.world is not None:
        toolbox.world.clear_calls()
    run = toolbox.run("up", "--no-dev")
    assert run.code == 0, run.stderr
    build = [parse_step(line) for line in step_lines(run.stderr) if parse_step(line)[1] == BUILD]
    assert build, "no build step reported"
    _, _, ran, note = build[0]
    assert not ran or "already" in note, f"{BUILD}: {note}"
    if toolbox.world is not None:
        assert not [a for a in toolbox.world.argvs("skaffold") if a[:1] == ["build"]]


# --- (c) `devctl dev` until ready ---------------------------------------------------------------------


def test_c1_dev_becomes_ready_and_every_service_runs(toolbox: Toolbox, journey: Journey) -> None:
    if toolbox.world is not None:
        # A child in Skaffold's process group that ignores SIGINT/SIGTERM, like a stuck `kubectl
        # port-forward` (#2690): step d1 proves devctl leaves nothing behind even so.
        toolbox.world.set_knob("skaffold_spawn_child", True)
    journey.dev = toolbox.start("dev")
    journey.dev.wait_for(lambda out, err: ready_iterations(journey.dev) >= 1, timeout=SETTLE[toolbox.mode] * 5)
    _, err = journey.dev.output()
    assert f"ready (iteration 1): http://{HOST}:{toolbox.ports.http}" in err
    run = toolbox.run("status", "--json")
    report = as_json(run, "devctl status --json")
    not_ok = [s for s in report["services"] if not s["ok"]]
    assert run.code == 0 and report["healthy"] is True and not not_ok, not_ok or report
    assert {s["name"] for s in report["services"]} >= set(stack_images().values())


def test_c1b_every_image_was_pushed_to_the_local_registry_and_services_keep_their_names(toolbox: Toolbox) -> None:
    # skaffold.md §6: devctl publishes kube-public/local-registry-hosting, so Skaffold renames every image
    # into localhost:<registry port>, pushes it, and the node pulls it through the hosts.toml devctl wrote.
    report = as_json(toolbox.run("status", "--json"), "devctl status --json")
    images = {s["name"]: s["image"] for s in report["services"]}
    for image, service in stack_images().items():
        renamed = f"localhost:{toolbox.ports.registry}/{image.replace('/', '_')}:"
        assert images[service].startswith(renamed), images
    if toolbox.world is not None:
        toolbox.world.set_logs({"auth": ["auth is listening"]})
        pushed = toolbox.world.containers()[toolbox.registry_name].get("registry") or []
        names = {ref.split("/", 1)[1].rsplit(":", 1)[0] for ref in pushed}  # localhost:<port>/<name>:<tag>
        assert names >= {i.replace("/", "_") for i in stack_images()}, pushed
    logs = toolbox.run("logs", "auth", "--tail", "5")
    assert logs.code == 0, logs.stderr
    lines = logs.stdout.splitlines()
    assert all(line.startswith("auth | ") for line in lines), logs.stdout
    if toolbox.world is not None:
        assert lines == ["auth | auth is listening"]
    assert "not deployed" not in logs.stderr and "No resources found" not in logs.stderr


# --- (b) `devctl verify` against the running stack -----------------------------------------------------


def test_b_verify_proves_every_ingress_route_reaches_the_service_routes_check_predicts(
    toolbox: Toolbox, local_stack: LocalStack | None
) -> None:
    def attempt() -> tuple[Run, dict[str, Any]] | None:
        run = toolbox.run("verify", "--json")
        return (run, as_json(run, "devctl verify --json")) if run.code == 0 else None

    result = eventually(attempt, timeout=SETTLE[toolbox.mode], interval=2.0)
    if result is None:  # one more, for the failure message
        run = toolbox.run("verify", "--json")
        pytest.fail(f"`devctl verify` failed (exit {run.code}):\n{run.stdout}\n{run.stderr}")
    _, report = result
    rules = ingress_rules()
    assert report["ok"] is True and report["host"] == HOST
    assert sorted(r["rule"] for r in report["routes"]) == sorted(rules), "not every Ingress rule was probed"
    for r in report["routes"]:
        assert r["result"] == "ok" and r["served_by"] == r["expected"], r
        check = toolbox.run("routes", "check", r["path"], "--json")
        predicted = as_json(check, f"devctl routes check {r['path']}")
        assert predicted["service"] == r["served_by"], f"{r['path']}: routes check says {predicted}, served {r}"
    health = {h["service"]: h for h in report["health"]}
    assert set(health) == set(rules.values()), "not every backend's health was read"
    assert all(h["ok"] for h in health.values()), report["health"]
    if local_stack is not None:
        sent = {path for path, host in local_stack.requests if host == HOST}
        assert sent >= {r["path"] for r in report["routes"]}, "verify did not go through the ingress"
        probed = {line.split()[0] for line in local_stack.standin_log if " GET /healthz " in line}
        assert probed == set(rules.values()), "the health checks did not reach every stand-in"


# --- (c) a changed stand-in source ----------------------------------------------------------------------

SYNC = re.compile(r"^skaffold\s+\| Syncing (\d+) files? for (\S+)$", re.MULTILINE)


def test_c2_a_changed_standin_source_is_synced_into_every_service_and_devctl_shows_it(
    toolbox: Toolbox, journey: Journey
) -> None:
    dev = journey.dev
    assert dev is not None
    timeout = SETTLE[toolbox.mode]
    before = ready_iterations(dev)
    out_before = len(dev.output()[0])
    with changed_standin_source():
        dev.wait_for(lambda out, err: ready_iterations(dev) > before, timeout=timeout)
    synced = SYNC.findall(dev.output()[0][out_before:])
    # With the cluster's local registry Skaffold renames the images (skaffold.md §6: `acme/web` ->
    # `localhost:5001/acme_web`) and syncs into the image it pushed, `<name>:<tag>@sha256:<digest>`; the
    # service is the name's `tour-<service>` end either way.
    names = [ref.split("@", 1)[0].rsplit(":", 1)[0] for _, ref in synced]
    services = {m.group(1) for name in names if (m := re.search(r"tour-([a-z]+)$", name))}
    assert services == set(stack_images().values()), synced
    assert {count for count, _ in synced} == {"1"}, synced
    # The restore is a change too: synced again, and the loop is ready for the next step.
    after_change = ready_iterations(dev)
    dev.wait_for(lambda out, err: ready_iterations(dev) > after_change, timeout=timeout)
    if toolbox.world is not None:
        log = [json.loads(line) for line in (toolbox.world.state_dir / "skaffold-dev.jsonl").read_text().splitlines()]
        syncs = [e for e in log if e["event"] == "iteration" and e["kind"] == "sync"]
        assert syncs and all(e["files"] == [str(STANDIN_SOURCE)] for e in syncs), syncs


@pytest.mark.skipif(
    not e2e_requested(os.environ),
    reason="real-only: the fake cluster runs no containers, so nothing receives the synced file, and no "
    "ingress serves HTTP (devctl's side of the sync is step c2, in both modes)",
)
def test_c3_the_changed_code_answers_through_the_ingress(toolbox: Toolbox, journey: Journey) -> None:
    assert journey.dev is not None and journey.dev.proc.poll() is None, "the dev loop of step c1 is not running"
    path = "/api/v1/users/me"  # auth's, ingress-nginx.md §7 #11
    timeout = SETTLE[toolbox.mode]
    original = standin.source_revision(STANDIN_DIR)  # what the deployed image's /app/*.py answer with

    def revision() -> str | None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            status, headers = through_ingress(toolbox, path)
            if status == 200 and headers.get("x-served-by") == "auth":
                return headers.get("x-standin-revision")
        return None

    assert eventually(lambda: revision() == original, timeout), (
        f"{path} through the ingress: revision {revision()!r}, the source's is {original}"
    )
    with changed_standin_source() as changed:
        assert eventually(lambda: revision() == changed, timeout), (
            f"the ingress still serves revision {revision()!r} of {path}, not the synced {changed}"
        )
    assert eventually(lambda: revision() == original, timeout), "the restored source was not served again"


# --- (d) Ctrl-C ends everything; with --keep the workloads stay -------------------------------------------


def _scan_or_skip() -> None:
    if not PROC.exists():
        pytest.skip("the process-table scan reads /proc (Linux only)")


def _stop_with_ctrl_c(toolbox: Toolbox, dev: Started) -> tuple[int, str]:
    """Ctrl-C to a ready `devctl dev`; proves its processes ran before and none is left after."""
    running = toolbox_processes(toolbox)
    assert dev.proc.pid in running, "the scan does not see devctl itself: it would prove nothing"
    skaffold = [pid for pid in running if "skaffold" in cmdline(pid) and " dev " in cmdline(pid)]
    assert skaffold, f"no `skaffold dev` among the toolbox's processes: {[cmdline(p) for p in running]}"
    code = dev.interrupt()
    left = eventually(lambda: not toolbox_processes(toolbox), timeout=5.0)
    assert left, f"still running after Ctrl-C: {[(p, cmdline(p)) for p in toolbox_processes(toolbox)]}"
    assert not any(living(pid) for pid in skaffold)
    return code, dev.output()[1]


def test_d0_data_created_while_the_loop_runs_lands_in_the_databases(toolbox: Toolbox, journey: Journey) -> None:
    assert journey.dev is not None and journey.dev.proc.poll() is None, "the dev loop of step c1 is not running"
    # Right after the first `up` the databases may still be starting (a real image pull): seed when they run.
    run = eventually(lambda: (r := toolbox.run("data", "seed")).code == 0 and r, timeout=SETTLE[toolbox.mode])
    assert run, f"`devctl data seed` failed:\n{toolbox.run('data', 'seed').stderr}"
    assert "auth: users 3 document(s) into auth" in run.stdout


def test_d1_ctrl_c_leaves_no_process_and_no_service_but_the_databases_and_their_claims(
    toolbox: Toolbox, journey: Journey
) -> None:
    _scan_or_skip()
    dev = journey.dev
    assert dev is not None and dev.proc.poll() is None, "the dev loop of step c1 is not running"
    deployed = deployments(toolbox)
    stores, claims = infrastructure()
    assert deployed >= set(stack_images().values()) | stores, deployed
    code, err = _stop_with_ctrl_c(toolbox, dev)
    assert code == 0, err  # skaffold.md §4: a signal is a graceful stop, exit 0
    assert "stopped and cleaned up" in err
    only_stores = eventually(lambda: deployments(toolbox) == stores, timeout=SETTLE[toolbox.mode])
    assert only_stores, f"after Ctrl-C: {deployments(toolbox)}; the databases, Redis and NATS should stay: {stores}"
    assert deployments(toolbox, "persistentvolumeclaims") == claims


def test_d1b_up_again_finds_the_data_created_before_ctrl_c(toolbox: Toolbox, tmp_path: Path) -> None:
    if toolbox.world is not None:
        toolbox.world.clear_calls()
    run = toolbox.run("up", "--no-dev")
    assert run.code == 0, run.stderr
    dump = toolbox.run("data", "dump", "--to", str(tmp_path))
    assert dump.code == 0, dump.stderr
    assert seeded_documents(tmp_path) == seeded_documents(REPO / "seed")
    if toolbox.world is not None:  # the infrastructure was only read, not applied again
        applies = [c["argv"] for c in toolbox.world.calls("kubectl") if _verb("kubectl", c["argv"]) == "apply"]
        assert applies == [], applies


def test_d2_with_keep_ctrl_c_leaves_the_workloads_but_no_process(toolbox: Toolbox) -> None:
    _scan_or_skip()
    if toolbox.world is not None:
        toolbox.world.set_knob("skaffold_spawn_child", False)
    stores, _ = infrastructure()
    assert deployments(toolbox) == stores, "step d1 left services deployed: this step would prove nothing"
    dev = toolbox.start("dev", "--keep")
    dev.wait_for(lambda out, err: ready_iterations(dev) >= 1, timeout=SETTLE[toolbox.mode] * 5)
    deployed = deployments(toolbox)
    assert deployed >= set(stack_images().values()), deployed
    code, err = _stop_with_ctrl_c(toolbox, dev)
    assert code == 0, err
    assert "deployed objects left in place (--keep)" in err
    assert deployments(toolbox) == deployed


# --- (f) `devctl down --registry --hosts` ---------------------------------------------------------------


def test_f_down_with_registry_and_hosts_leaves_nothing_behind(toolbox: Toolbox, journey: Journey) -> None:
    run = toolbox.run("down", "--registry", "--hosts")
    assert run.code == 0, run.stderr
    kind = toolbox.which("kind")
    docker = toolbox.which("docker")
    assert kind is not None and docker is not None
    clusters = toolbox.call([kind, "get", "clusters"])
    assert clusters.code == 0 and toolbox.cluster not in clusters.stdout.split(), clusters
    registry = toolbox.call([docker, "inspect", toolbox.registry_name])
    assert registry.code != 0, f"registry container {toolbox.registry_name} still exists"
    assert toolbox.hosts_file.read_bytes() == journey.hosts_before, "the hosts file is not as it was"
    contexts = kubectl(toolbox, "config", "get-contexts", "-o", "name")
    assert toolbox.context not in contexts.stdout.split(), contexts
    if toolbox.world is not None:
        assert toolbox.world.containers() == {}
        assert toolbox.world.state()["clusters"] == {}
