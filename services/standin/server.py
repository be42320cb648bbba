"""Stand-in for one tour service: answers every request with who it is, so routing can be seen.

Standard library only (Python >= 3.10). Configured by the same environment as the real services
(see services/README.md):

- ``SERVICE_NAME`` (required): the name it answers with.
- ``PORT``: serve HTTP there. Without it the stand-in is a worker (expiration): it only checks its
  dependencies and logs the result.
- ``MONGO_URI``, ``REDIS_HOST``/``REDIS_PORT``, ``NATS_URL``: the dependencies ``/healthz`` checks
  (TCP connect).

Every request gets JSON ``{"service", "method", "path"}`` and the header ``X-Served-By``;
``/healthz`` adds the dependency checks (503 if one fails). The client also serves an HTML page at
``/`` listing example routes. One line per request goes to stdout.

Live reload: when a ``*.py`` file next to this one changes (Skaffold's file sync copies it in), the
process re-executes itself in place (same PID), so the next request is answered by the new code.
A file that does not compile is reported and the old code keeps serving.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
CHECK_TIMEOUT = 1.0  # seconds per TCP connect; the cluster network answers in milliseconds
MAX_BODY = 1 << 20

# Example requests and the service the Ingress (k8s/ingress.yaml) routes each to; the client page
# lists them, and tests/test_k8s_manifests.py checks them against the Ingress rules.
EXAMPLE_ROUTES: tuple[tuple[str, str], ...] = (
    ("/api/v1/auth/signin", "auth"),
    ("/api/v1/oauth2/google", "auth"),
    ("/api/v1/users/me", "auth"),
    ("/api/v1/admin/users", "auth"),
    ("/api/v1/tours", "tour"),
    ("/api/v1/tours/42", "tour"),
    ("/api/v1/admin/tours", "tour"),
    ("/api/v1/tours/42/bookings", "booking"),
    ("/api/v1/bookings", "booking"),
    ("/api/v1/admin/bookings", "booking"),
    ("/api/v1/payments", "payment"),
    ("/api/v1/tours/42/reviews", "review"),
    ("/api/v1/reviews", "review"),
    ("/api/v1/admin/reviews", "review"),
    ("/about", "client"),
)


@dataclass(frozen=True)
class Dependency:
    name: str
    host: str
    port: int


@dataclass(frozen=True)
class Check:
    dependency: Dependency
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        d = self.dependency
        return {"name": d.name, "host": d.host, "port": d.port, "ok": self.ok, "detail": self.detail}

    def __str__(self) -> str:
        d = self.dependency
        return f"{d.name} {d.host}:{d.port} {'ok' if self.ok else 'DOWN (' + self.detail + ')'}"


def dependencies(env: Mapping[str, str]) -> list[Dependency]:
    """The dependencies named in the environment. Raises ValueError for a malformed value."""
    deps: list[Dependency] = []
    if env.get("MONGO_URI"):
        deps.append(_from_url("mongo", "MONGO_URI", env["MONGO_URI"], 27017))
    if env.get("REDIS_HOST"):
        port = env.get("REDIS_PORT") or "6379"
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"REDIS_PORT {port!r} is not a port number")
        deps.append(Dependency("redis", env["REDIS_HOST"], int(port)))
    if env.get("NATS_URL"):
        deps.append(_from_url("nats", "NATS_URL", env["NATS_URL"], 4222))
    return deps


def _from_url(name: str, var: str, url: str, default_port: int) -> Dependency:
    # A MongoDB URI may carry credentials and several hosts ("a:1,b:2"); the first host will do.
    netloc = urlsplit(url).netloc.rpartition("@")[2].split(",")[0]
    parts = urlsplit("//" + netloc)
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError(f"{var} {url!r} has an invalid port") from None
    if not parts.hostname:
        raise ValueError(f"{var} {url!r} names no host")
    return Dependency(name, parts.hostname, port)


def check(dep: Dependency, timeout: float = CHECK_TIMEOUT) -> Check:
    try:
        with socket.create_connection((dep.host, dep.port), timeout=timeout):
            return Check(dep, True, "accepts connections")
    except OSError as err:
        return Check(dep, False, err.strerror or str(err))


def check_all(deps: list[Dependency]) -> list[Check]:
    if not deps:
        return []
    with ThreadPoolExecutor(max_workers=len(deps)) as pool:
        return list(pool.map(check, deps))


def source_revision(directory: Path = HERE) -> str:
    """A short digest of the ``*.py`` files in ``directory``: changes when synced code changes."""
    h = hashlib.sha256()
    for p in sorted(directory.glob("*.py")):
        h.update(p.name.encode())
        try:
            h.update(p.read_bytes())
        except OSError:  # mid-sync; the next poll sees the complete file
            h.update(b"?")
    return h.hexdigest()[:12]


def client_page(name: str) -> str:
    rows = "\n".join(
        f'<tr><td><a href="{html.escape(p)}">{html.escape(p)}</a></td><td>{html.escape(s)}</td></tr>'
        for p, s in EXAMPLE_ROUTES
    )
    return (
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>tour</title></head><body>\n"
        f"<h1>tour: stand-in {html.escape(name)}</h1>\n"
        "<p>These services are stand-ins: each answers every request with its name as JSON. "
        "The Ingress decides which one answers a path.</p>\n"
        f"<table><tr><th>Path</th><th>Answered by</th></tr>\n{rows}\n</table>\n</body></html>\n"
    )


def log(line: str) -> None:
    print(line, flush=True)


class App:
    """What a request handler needs: the service's identity and its dependencies."""

    def __init__(self, name: str, deps: list[Dependency], revision: str) -> None:
        self.name = name
        self.deps = deps
        self.revision = revision


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tour-standin"
    app: App  # set on a subclass by make_server

    def do_GET(self) -> None:
        self._answer()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool = True) -> None:
        self._drain_body()
        app = self.app
        path = urlsplit(self.path).path
        status = 200
        content_type = "application/json"
        payload: dict[str, object] = {"service": app.name, "method": self.command, "path": self.path}
        if path == "/healthz":
            checks = check_all(app.deps)
            payload["ok"] = all(c.ok for c in checks)
            payload["dependencies"] = [c.as_dict() for c in checks]
            status = 200 if payload["ok"] else 503
        if app.name == "client" and path in ("/", "/index.html") and self.command in ("GET", "HEAD"):
            body = client_page(app.name).encode()
            content_type = "text/html; charset=utf-8"
        else:
            body = (json.dumps(payload) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Served-By", app.name)
        self.send_header("X-Standin-Revision", app.revision)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _drain_body(self) -> None:
        # Read what the client sent so the connection can be reused; an unframed body closes it.
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return
        if length > 0:
            self.rfile.read(length)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log(f"{self.app.name} {self.command} {self.path} {code}")

    def log_message(self, format: str, *args: object) -> None:
        log(f"{self.app.name} {self.address_string()} {format % args}")


def make_server(app: App, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True  # a hanging client must not delay shutdown
    return server


class Stop:
    """Why the main loop ends: a signal (exit) or changed source (re-exec)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reload = False

    def request(self, reload: bool = False) -> None:
        self.reload = self.reload or reload
        self.event.set()


def watch_sources(stop: Stop, revision: str, interval: float) -> None:
    rejected = ""
    while not stop.event.wait(interval):
        current = source_revision()
        if current in (revision, rejected):
            continue
        error = _compile_error()
        if error:
            log(f"reload skipped, keeping the running code: {error}")
            rejected = current
            continue
        log(f"source changed ({revision} -> {current}), reloading")
        stop.request(reload=True)
        return


def _compile_error() -> str:
    for p in sorted(HERE.glob("*.py")):
        try:
            compile(p.read_bytes(), str(p), "exec")
        except (SyntaxError, ValueError, OSError) as err:
            return f"{p.name}: {err}"
    return ""


def run_worker(app: App, stop: Stop, interval: float) -> None:
    """The expiration stand-in: no port; reports its dependency checks (on change, else each minute)."""
    log(f"{app.name} worker started (revision {app.revision}); checking {len(app.deps)} dependencies")
    last, last_at = "", 0.0
    while True:
        checks = check_all(app.deps)
        line = f"{app.name} dependencies: " + ("; ".join(map(str, checks)) or "none")
        if line != last or time.monotonic() - last_at >= 60:
            log(line)
            last, last_at = line, time.monotonic()
        if stop.event.wait(interval):
            return


def run_http(app: App, stop: Stop, host: str, port: int) -> None:
    server = make_server(app, host, port)
    bound_host, bound_port = server.server_address[:2]
    log(f"{app.name} listening on {bound_host!s}:{bound_port} (revision {app.revision})")
    # A short poll interval makes shutdown (SIGTERM, reload) take ~0.1 s instead of 0.5 s.
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), name="http", daemon=True)
    thread.start()
    while not stop.event.wait(1.0):  # a timeout keeps the wait interruptible on every platform
        pass
    server.shutdown()
    server.server_close()


def stop_on_signals(stop: Stop) -> None:
    """SIGTERM (Kubernetes stopping the pod) and SIGINT ask the main loop to end.

    The handler only writes a byte to a pipe and a thread calls ``stop.request()``: the handler runs on
    the main thread, which spends its time in ``stop.event.wait()`` and there briefly holds the Event's
    lock; a handler setting the Event at that moment would wait for that lock forever (and the pod would
    be killed only after its termination grace period).
    """
    wake_r, wake_w = os.pipe()

    def relay() -> None:
        while os.read(wake_r, 1):
            stop.request()

    threading.Thread(target=relay, name="signals", daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os.write(wake_w, b"x"))


def main() -> int:
    env = os.environ
    name = env.get("SERVICE_NAME", "").strip()
    if not name:
        print("standin: SERVICE_NAME is not set (k8s/<service>.yaml sets it)", file=sys.stderr)
        return 2
    try:
        deps = dependencies(env)
        port = int(env["PORT"]) if env.get("PORT") else None
    except ValueError as err:
        print(f"standin: {err}", file=sys.stderr)
        return 2
    app = App(name, deps, source_revision())
    stop = Stop()
    stop_on_signals(stop)
    reload_interval = float(env.get("STANDIN_RELOAD_INTERVAL", "1"))
    if reload_interval > 0:
        threading.Thread(
            target=watch_sources, args=(stop, app.revision, reload_interval), name="watch", daemon=True
        ).start()
    if port is None:
        run_worker(app, stop, float(env.get("STANDIN_CHECK_INTERVAL", "5")))
    else:
        run_http(app, stop, env.get("STANDIN_BIND", "0.0.0.0"), port)
    if stop.reload:
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
    log(f"{name} stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
