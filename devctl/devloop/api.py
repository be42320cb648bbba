"""Client of Skaffold's ``GET /v2/events`` (skaffold.md §5), with the standard library only.

The server listens on 127.0.0.1 only and starts before Skaffold parses its config, but not before the
process is up: connecting is retried while the port refuses, for at most ``connect_timeout`` (a Skaffold
whose port never accepts has no API for us: its console lines stay the source). Once the port accepts,
the answer is awaited for as long as Skaffold runs: Skaffold writes the status line and headers only
with its first event (``DevLoop-1 InProgress``), after it has read its config, looked up the registry
ConfigMap and listed the nodes, which takes many seconds on a busy machine. The stream replays every
event since start, so connecting or answering late loses nothing. Chunked transfer is decoded by
``http.client``; each line is one ``{"result": <Event>}``.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import threading
import time
from collections.abc import Callable

HOST = "127.0.0.1"
RETRY_SECONDS = 0.1
PORT_WAIT_SECONDS = 30.0  # how long the port may refuse connections before the console stays the source
CONNECT_SECONDS = 2.0  # one TCP connect to loopback: refused or accepted at once
WAIT_POLL_SECONDS = 0.5  # how often a wait for the answer looks whether Skaffold still runs


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
        connect_timeout: float | None = None,
        host: str = HOST,
    ) -> None:
        self.port = port
        self.host = host
        self._on_line = on_line
        self._alive = alive
        self._on_connected = on_connected
        self._on_lost = on_lost
        self.connect_timeout = PORT_WAIT_SECONDS if connect_timeout is None else connect_timeout
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
            conn = http.client.HTTPConnection(self.host, self.port, timeout=CONNECT_SECONDS)
            try:
                conn.connect()
            except OSError:  # refused: Skaffold has not bound its port yet
                conn.close()
                time.sleep(RETRY_SECONDS)
                continue
            resp = self._answer(conn)
            if resp is None:
                conn.close()
                if self._stopped.is_set() or not self._alive():
                    return None
                time.sleep(RETRY_SECONDS)  # it hung up without an answer: ask again
                continue
            if resp.status != 200:
                conn.close()
                return None  # an API without /v2/events (not Skaffold v2): use the console
            self._conn = conn
            return resp
        return None

    def _answer(self, conn: http.client.HTTPConnection) -> http.client.HTTPResponse | None:
        """Send the request on the accepted connection and wait for the answer, however long, while
        Skaffold runs; None when it hung up without one (or ended, or we were stopped)."""
        self._conn = conn  # stop() can shut the socket down while we wait
        try:
            conn.request("GET", "/v2/events", headers={"Accept": "application/json"})
            sock = conn.sock
            if sock is None:
                return None
            while not select.select([sock], [], [], WAIT_POLL_SECONDS)[0]:
                if self._stopped.is_set() or not self._alive():
                    return None
            sock.settimeout(None)  # events may be minutes apart
            return conn.getresponse()
        except (OSError, http.client.HTTPException, ValueError):
            return None
        finally:
            self._conn = None
