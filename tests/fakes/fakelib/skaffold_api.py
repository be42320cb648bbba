"""The fake `skaffold dev`'s HTTP event API (skaffold.md §5; skaffold pkg/skaffold/server/server.go).

- It binds 127.0.0.1:<--rpc-http-port> first thing (PersistentPreRunE, before the config is read); a busy
  port ends Skaffold with `initializing api server: starting HTTP server: creating listener: listen tcp
  127.0.0.1:N: bind: address already in use` (cmd/skaffold/app/cmd/cmd.go, server.go newHTTPServer).
- `GET /v2/events` replays every event since start, then streams live ones: chunked, one
  `{"result": <Event>}` per line. The status line and headers go out only with the first event
  (grpc-gateway's ForwardResponseStream writes them inside its receive loop): until then a client sees an
  accepted connection and no answer at all, however long Skaffold takes to reach its first event.
- Other paths answer 404 with gRPC-gateway's JSON body; knob `skaffold_api_missing` makes `/v2/events` 404
  too (an API devctl cannot use).
"""

from __future__ import annotations

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fakelib import state


class Bus:
    """Every event since start (for the replay) and a condition for the live part."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.closed = False
        self.cond = threading.Condition()

    def emit(self, body: dict[str, Any]) -> None:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self.cond:
            self.events.append({"timestamp": stamp, **body})
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait(self, sent: int) -> tuple[list[dict[str, Any]], bool]:
        """The events after the first ``sent`` (waiting for one), and whether the stream has ended."""
        with self.cond:
            while sent >= len(self.events) and not self.closed:
                self.cond.wait(0.5)
            return self.events[sent:], self.closed


def serve(port: int, bus: Bus, record: Any) -> ThreadingHTTPServer:
    missing_events = bool(state.knob("skaffold_api_missing"))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            record("api", path=self.path)
            if self.path.split("?", 1)[0] != "/v2/events" or missing_events:
                body = b'{"code":5,"message":"Not Found","details":[]}'
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            try:
                self._stream()
            except (BrokenPipeError, ConnectionResetError):
                return

        def _stream(self) -> None:
            batch, done = bus.wait(0)
            if not batch:
                return  # Skaffold ended before its first event: the connection closes unanswered
            record("api_answered", path=self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            sent = 0
            while True:
                for ev in batch:
                    data = (json.dumps({"result": ev}) + "\n").encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                sent += len(batch)
                if done and not batch:
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
                batch, done = bus.wait(sent)

    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler, bind_and_activate=False)
    srv.daemon_threads = True
    srv.allow_reuse_address = False
    srv.server_bind()
    srv.server_activate()
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return srv
