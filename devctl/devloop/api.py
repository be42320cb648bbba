"""Client of Skaffold's ``GET /v2/events`` (skaffold.md §5), with the standard library only.

The server listens on 127.0.0.1 only and starts before Skaffold parses its config, but not before the
process is up: connect with retries until it answers, Skaffold exits, or a deadline passes. The stream
replays every event since start, so connecting late loses nothing. Chunked transfer is decoded by
``http.client``; each line is one ``{"result": <Event>}``.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Callable

HOST = "127.0.0.1"
RETRY_SECONDS = 0.1


def free_port(host: str = HOST) -> int:
    """A port nobody listens on right now (bind to 0, read it, close). Skaffold has no fallback port (§2)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class EventStream:
    """Reads the event stream on a daemon thread and hands each line to ``on_line``.

    ``on_connected`` runs once the server answered 200; ``on_lost`` when a stream that was connected
    ends while ``alive()`` still holds (Skaffold is still running but the API went away).
    """

    def __init__(
        self,
        port: int,
        on_line: Callable[[str], None],
        *,
        alive: Callable[[], bool],
        on_connected: Callable[[], None] = lambda: None,
        on_lost: Callable[[], None] = lambda: None,
        connect_timeout: float = 30.0,
        host: str = HOST,
    ) -> None:
        self.port = port
        self.host = host
        self._on_line = on_line
        self._alive = alive
        self._on_connected = on_connected
        self._on_lost = on_lost
        self.connect_timeout = connect_timeout
        self.connected = threading.Event()
        self._stopped = threading.Event()
        self._conn: http.client.HTTPConnection | None = None
        self._thread = threading.Thread(target=self._run, name="skaffold-events", daemon=True)

    def start(self) -> EventStream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        conn = self._conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        resp = self._connect()
        if resp is None:
            return
        self.connected.set()
        self._on_connected()
        try:
            while not self._stopped.is_set():
                raw = resp.readline()
                if not raw:
                    break
                self._on_line(raw.decode("utf-8", errors="replace"))
        except (OSError, http.client.HTTPException):
            pass
        finally:
            if self._conn is not None:
                self._conn.close()
        if not self._stopped.is_set() and self._alive():
            self._on_lost()

    def _connect(self) -> http.client.HTTPResponse | None:
        deadline = time.monotonic() + self.connect_timeout
        while not self._stopped.is_set() and time.monotonic() < deadline:
            if not self._alive():
                return None
            conn = http.client.HTTPConnection(self.host, self.port, timeout=2.0)
            try:
                conn.request("GET", "/v2/events", headers={"Accept": "application/json"})
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException):
                conn.close()
                time.sleep(RETRY_SECONDS)
                continue
            if resp.status != 200:
                conn.close()
                return None  # an API without /v2/events (not Skaffold v2): use the console
            if conn.sock is not None:
                conn.sock.settimeout(None)  # events may be minutes apart
            self._conn = conn
            return resp
        return None
