"""A real HTTP server on 127.0.0.1 serving a fake release tree under the upstream path layouts, for the
toolchain tests (used through DEVCTL_TOOLS_MIRROR, or as the "origin" a test lock points at).

For each tool, version and platform it serves the "binary" at the upstream path (``/kubernetes-sigs/kind/
releases/download/v0.31.0/kind-linux-amd64``, ``/release/v1.35.0/bin/linux/amd64/kubectl``, ...) and, next
to it, the checksum file in that upstream's own format: kind's ``.sha256sum`` and Skaffold's ``.sha256``
are ``shasum -a 256`` lines (``<digest>  <name>``), kubectl's ``.sha256`` the bare digest (the sources are
cited in devctl/toolchain/catalog.py). A binary is a small shell script that execs the matching fake in
tests/fakes by its absolute path, so an installed tool answers like the fakes (the pinned versions).

Knobs make it misbehave the ways a real server or network does: an HTTP status for a path, a body cut
short (the connection closed mid-body), a delay before each body. Every request is logged.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from devctl.toolchain.catalog import PLATFORMS, TOOLS
from devctl.toolchain.lockfile import LOCK_NAME, TO_COMPLETE, Lock, LockedTool, LockEntry, write_lock
from tests.conftest import FAKES

PINS = {"kind": "v0.31.0", "kubectl": "v1.35.0", "skaffold": "v2.24.0"}  # what the fakes report
PADDING = 256 * 1024  # bytes of comment after the exec line: big enough for several chunks of progress


def upstream_path(tool: str, version: str, platform: str) -> str:
    return urlsplit(TOOLS[tool].url(version, platform)).path


def fake_binary(tool: str, version: str, platform: str) -> bytes:
    head = f"#!/bin/sh\n# fake {tool} {version} for {platform}\nexec '{FAKES / tool}' \"$@\"\n"
    return head.encode() + (b"#" * 79 + b"\n") * (PADDING // 80)


def checksum_file(tool: str, binary_name: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    if tool == "kubectl":
        return digest.encode()  # the bare digest (install-kubectl-linux.md)
    return f"{digest}  {binary_name}\n".encode()  # shasum -a 256 output


def release_tree(pins: Mapping[str, str] = PINS) -> dict[str, bytes]:
    """path -> body for every pinned tool on every platform, with its checksum file."""
    files: dict[str, bytes] = {}
    for tool, version in pins.items():
        for platform in PLATFORMS:
            path = upstream_path(tool, version, platform)
            body = fake_binary(tool, version, platform)
            files[path] = body
            files[path + TOOLS[tool].checksum_suffix] = checksum_file(tool, PurePosixPath(path).name, body)
    return files


def sha256_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class ReleaseServer:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.status: dict[str, int] = {}  # path -> HTTP status to answer instead
        self.truncate: set[str] = set()  # paths whose body stops halfway (Content-Length says the whole)
        self.delay = 0.0  # seconds before each body
        self.requests: list[str] = []  # paths, in order
        self.proxied: list[str] = []  # absolute URLs asked of this server as a proxy
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="release server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def got(self, path: str) -> int:
        """How many times ``path`` was requested."""
        with self._lock:
            return self.requests.count(path)

    def start(self) -> ReleaseServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: a cut body ends with the connection

            def do_GET(self) -> None:
                path = self.path
                if path.startswith(("http://", "https://")):  # asked as a proxy (absolute-form request)
                    with server._lock:
                        server.proxied.append(path)
                    path = urlsplit(path).path
                with server._lock:
                    server.requests.append(path)
                status = server.status.get(path)
                if status is not None:
                    self.send_error(status)
                    return
                body = server.files.get(path)
                if body is None:
                    self.send_error(404)
                    return
                if server.delay:
                    time.sleep(server.delay)
                cut = path in server.truncate
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2] if cut else body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a test interrupted it)
                    pass
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def serving(files: dict[str, bytes] | None = None) -> Iterator[ReleaseServer]:
    server = ReleaseServer(release_tree() if files is None else files).start()
    try:
        yield server
    finally:
        server.stop()


# -- a clone of a repo that pins the tools -------------------------------------------------------------

PROXY_VARS = tuple(v for name in ("http", "https", "no", "all") for v in (f"{name}_proxy", f"{name.upper()}_PROXY"))


def lock_for(files: Mapping[str, bytes], pins: Mapping[str, str] = PINS, origin: str = "") -> Lock:
    """The lock a maintainer's `devctl tools lock` would write for ``files``: the upstream URLs (or, with
    ``origin``, the same paths on that server) and each binary's SHA-256."""
    tools = {}
    for tool, version in pins.items():
        platforms = {}
        for platform in PLATFORMS:
            url = TOOLS[tool].url(version, platform)
            if origin:
                url = origin + urlsplit(url).path
            body = files[upstream_path(tool, version, platform)]
            platforms[platform] = LockEntry(url, sha256_of(body), "published: test release tree")
        tools[tool] = LockedTool(version, platforms)
    return Lock(tools)


def without(lock: Lock, tool: str, platform: str, *, keep_url: bool = False) -> Lock:
    """``lock`` with no checksum (``keep_url``) or no entry at all for ``tool`` on ``platform``."""
    locked = lock.tools[tool]
    platforms = dict(locked.platforms)
    if keep_url:
        platforms[platform] = LockEntry(platforms[platform].url, None, TO_COMPLETE)
    else:
        del platforms[platform]
    return Lock({**lock.tools, tool: LockedTool(locked.version, platforms)})


def write_repo(root: Path, lock: Lock | None, pins: Mapping[str, str] = PINS) -> Path:
    """A clone: pyproject.toml pinning ``pins`` under [tool.devctl.tools], and ``lock`` next to it."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["[tool.devctl]", 'cluster = "tour"', "", "[tool.devctl.tools]"]
    lines += [f'{tool} = "{version}"' for tool, version in pins.items()]
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")
    if lock is not None:
        write_lock(root / LOCK_NAME, lock)
    return root


def files_under(path: Path) -> list[str]:
    """Every file and directory under ``path`` (relative), sorted; [] when it does not exist."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []
