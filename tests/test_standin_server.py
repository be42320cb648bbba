"""The stand-in service (services/standin/server.py), run for real on 127.0.0.1.

Pure parts are imported; everything else starts the server as a process, as the container does.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

SERVER = Path(__file__).resolve().parents[1] / "services" / "standin" / "server.py"
DEADLINE = 10.0  # generous for a loaded CI machine; a healthy run takes well under a second


def _load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("standin_server", SERVER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    # No __pycache__ next to the image's sources: it would change Skaffold's build context.
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = before
    return module


standin = _load_module()


class Proc:
    """A running stand-in, its stdout collected line by line."""

    def __init__(self, env: dict[str, str], script: Path = SERVER) -> None:
        base = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "STANDIN_BIND": "127.0.0.1"}
        self.popen = subprocess.Popen(
            [sys.executable, str(script)],
            env={**base, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = DEADLINE) -> re.Match[str]:
        end = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} within {timeout}s; saw {self.seen}") from None
            self.seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m

    def port(self) -> int:
        return int(self.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=DEADLINE)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()


@contextlib.contextmanager
def running(env: dict[str, str], script: Path = SERVER) -> Iterator[Proc]:
    proc = Proc(env, script)
    try:
        yield proc
    finally:
        proc.stop()


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.fixture
def listening() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts TCP connections."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def auth() -> Iterator[int]:
    with running({"SERVICE_NAME": "auth", "PORT": "0"}) as proc:
        yield proc.port()


# --- pure parts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, []),
        ({"MONGO_URI": "mongodb://auth-mongo:27017/auth"}, [("mongo", "auth-mongo", 27017)]),
        ({"MONGO_URI": "mongodb://auth-mongo/auth"}, [("mongo", "auth-mongo", 27017)]),
        ({"MONGO_URI": "mongodb://u:p%40ss@db1:27018,db2:27019/x?replicaSet=rs"}, [("mongo", "db1", 27018)]),
        ({"REDIS_HOST": "review-redis"}, [("redis", "review-redis", 6379)]),
        ({"REDIS_HOST": "review-redis", "REDIS_PORT": "6380"}, [("redis", "review-redis", 6380)]),
        ({"REDIS_PORT": "6379"}, []),
        ({"NATS_URL": "http://nats:4222"}, [("nats", "nats", 4222)]),
        ({"NATS_URL": "nats://nats"}, [("nats", "nats", 4222)]),
        (
            {"NATS_URL": "http://nats:4222", "REDIS_HOST": "r", "MONGO_URI": "mongodb://m:1/x"},
            [("mongo", "m", 1), ("redis", "r", 6379), ("nats", "nats", 4222)],
        ),
    ],
)
def test_dependencies_are_read_from_the_services_environment(
    env: dict[str, str], expected: list[tuple[str, str, int]]
) -> None:
    assert [(d.name, d.host, d.port) for d in standin.dependencies(env)] == expected


@pytest.mark.parametrize(
    "env",
    [
        {"REDIS_HOST": "r", "REDIS_PORT": "six"},
        {"REDIS_HOST": "r", "REDIS_PORT": "70000"},
        {"MONGO_URI": "mongodb://m:99999/x"},
        {"NATS_URL": "http://:4222"},
    ],
)
def test_malformed_dependency_settings_are_rejected(env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        standin.dependencies(env)


def test_source_revision_changes_with_the_code(tmp_path: Path) -> None:
    (tmp_path / "server.py").write_text("x = 1\n")
    first = standin.source_revision(tmp_path)
    assert standin.source_revision(tmp_path) == first
    (tmp_path / "server.py").write_text("x = 2\n")
    assert standin.source_revision(tmp_path) != first


# --- HTTP, for real -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("path", ["/", "/api/v1/users/me", "/api/v1/tours/42/reviews?page=2", "/no/such/route"])
def test_every_request_is_answered_with_the_service_method_and_path(auth: int, method: str, path: str) -> None:
    status, headers, body = request(auth, method, path)
    assert status == 200
    assert headers["x-served-by"] == "auth"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"service": "auth", "method": method, "path": path}


def test_head_is_answered_with_headers_only(auth: int) -> None:
    status, headers, body = request(auth, "HEAD", "/api/v1/users")
    assert (status, headers["x-served-by"], body) == (200, "auth", b"")
    assert int(headers["content-length"]) > 0


def test_request_bodies_are_read_so_a_connection_serves_several_requests(auth: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", auth, timeout=DEADLINE)
    try:
        for i in range(3):
            conn.request("POST", f"/api/v1/bookings/{i}", body=b'{"tour": "42"}' * 100)
            resp = conn.getresponse()
            assert json.loads(resp.read())["path"] == f"/api/v1/bookings/{i}"
    finally:
        conn.close()


def test_healthz_is_ok_when_every_dependency_accepts_connections(listening: int) -> None:
    env = {
        "SERVICE_NAME": "review",
        "PORT": "0",
        "MONGO_URI": f"mongodb://127.0.0.1:{listening}/review",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(listening),
        "NATS_URL": f"http://127.0.0.1:{listening}",
    }
    with running(env) as proc:
        status, headers, body = request(proc.port(), "GET", "/healthz")
    data = json.loads(body)
    assert (status, headers["x-served-by"], data["ok"]) == (200, "review", True)
    assert [(d["name"], d["ok"]) for d in data["dependencies"]] == [("mongo", True), ("redis", True), ("nats", True)]
    assert (data["service"], data["method"], data["path"]) == ("review", "GET", "/healthz")


def test_healthz_is_503_and_names_the_dependency_that_refuses(listening: int, closed_port: int) -> None:
    env = {
        "SERVICE_NAME": "booking",
        "PORT": "0",
        "MONGO_URI": f"mongodb://127.0.0.1:{listening}/booking",
        "NATS_URL": f"http://127.0.0.1:{closed_port}",
    }
    with running(env) as proc:
        status, _, body = request(proc.port(), "GET", "/healthz")
    data = json.loads(body)
    assert (status, data["ok"]) == (503, False)
    by_name = {d["name"]: d for d in data["dependencies"]}
    assert by_name["mongo"]["ok"] is True
    assert by_name["nats"]["ok"] is False
    assert by_name["nats"]["port"] == closed_port
    assert "refused" in by_name["nats"]["detail"].lower()


def test_client_serves_a_page_listing_the_routes_and_json_elsewhere() -> None:
    with running({"SERVICE_NAME": "client", "PORT": "0"}) as proc:
        port = proc.port()
        status, headers, body = request(port, "GET", "/")
        other = request(port, "GET", "/about")
    page = body.decode()
    assert (status, headers["x-served-by"]) == (200, "client")
    assert headers["content-type"].startswith("text/html")
    for path, service in standin.EXAMPLE_ROUTES:
        assert f'href="{path}"' in page
        assert f"<td>{service}</td>" in page
    assert other[1]["x-served-by"] == "client"
    assert json.loads(other[2]) == {"service": "client", "method": "GET", "path": "/about"}


def test_one_log_line_per_request_goes_to_stdout() -> None:
    with running({"SERVICE_NAME": "payment", "PORT": "0"}) as proc:
        port = proc.port()
        request(port, "POST", "/api/v1/payments")
        proc.wait_for(r"^payment POST /api/v1/payments 200$")


# --- process behaviour --------------------------------------------------------------------------------


def test_sigterm_stops_the_server_promptly_with_exit_0() -> None:
    proc = Proc({"SERVICE_NAME": "tour", "PORT": "0"})
    proc.port()
    started = time.monotonic()
    code = proc.stop()
    assert code == 0
    assert time.monotonic() - started < 3.0
    proc.wait_for(r"^tour stopped$")


def test_without_port_it_is_a_worker_that_logs_its_dependency_checks(listening: int, closed_port: int) -> None:
    env = {
        "SERVICE_NAME": "expiration",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(listening),
        "NATS_URL": f"http://127.0.0.1:{closed_port}",
    }
    with running(env) as proc:
        proc.wait_for(r"^expiration worker started")
        line = proc.wait_for(r"^expiration dependencies: ").string
        code = proc.stop()
    assert f"redis 127.0.0.1:{listening} ok" in line
    assert f"nats 127.0.0.1:{closed_port} DOWN" in line
    assert code == 0
    assert not any("listening on" in seen for seen in proc.seen)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "0"}, "SERVICE_NAME is not set"),
        ({"SERVICE_NAME": "auth", "PORT": "http"}, "invalid literal"),
        ({"SERVICE_NAME": "review", "PORT": "0", "REDIS_HOST": "r", "REDIS_PORT": "x"}, "REDIS_PORT"),
    ],
)
def test_bad_configuration_exits_2_with_a_reason(env: dict[str, str], message: str) -> None:
    proc = Proc(env)
    code = proc.popen.wait(timeout=DEADLINE)
    assert proc.popen.stderr
    assert code == 2
    assert message in proc.popen.stderr.read()


def test_a_changed_source_file_is_served_by_the_same_process(tmp_path: Path) -> None:
    # What Skaffold's sync does to /app/server.py in the pod: the file changes under the running server.
    script = tmp_path / "server.py"
    shutil.copy(SERVER, script)
    with running({"SERVICE_NAME": "auth", "PORT": "0", "STANDIN_RELOAD_INTERVAL": "0.1"}, script) as proc:
        before = request(proc.port(), "GET", "/api/v1/users")[1]["x-standin-revision"]
        script.write_text(script.read_text() + "\n# a synced change\n")
        proc.wait_for(r"source changed .* reloading")
        status, headers, body = request(proc.port(), "GET", "/api/v1/users")
        assert proc.popen.poll() is None  # re-executed in place, not exited
    assert headers["x-standin-revision"] == standin.source_revision(tmp_path) != before
    assert (status, json.loads(body)["service"]) == (200, "auth")


def test_a_synced_file_that_does_not_compile_leaves_the_old_code_serving(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    shutil.copy(SERVER, script)
    with running({"SERVICE_NAME": "auth", "PORT": "0", "STANDIN_RELOAD_INTERVAL": "0.1"}, script) as proc:
        port = proc.port()
        before = request(port, "GET", "/")[1]["x-standin-revision"]
        (tmp_path / "broken.py").write_text("def broken(:\n")
        proc.wait_for(r"reload skipped, keeping the running code: broken\.py")
        status, headers, _ = request(port, "GET", "/")
    assert (status, headers["x-standin-revision"]) == (200, before)
