"""One fake `skaffold dev` as a real process, with its event stream read on a thread (a plain HTTP client,
not devctl's), for the fidelity tests of tests/fidelity/test_skaffold*.py."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devctl.devloop.api import free_port
from tests.conftest import FAKES

WAIT = 30.0  # generous: the fakes start slowly on a busy machine; a pass never waits this long


class SkaffoldRun:
    def __init__(self, project: Path, *extra: str, events: bool = True) -> None:
        self.port = free_port()
        self.out = project / "skaffold.out"
        self.err = project / "skaffold.err"
        argv = [
            str(FAKES / "skaffold"),
            "dev",
            "--kube-context",
            "kind-tour",
            "-f",
            str(project / "skaffold.yaml"),
            "--rpc-http-port",
            str(self.port),
            "--port-forward=off",
            *extra,
        ]
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                argv, cwd=project, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        if events:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and self.proc.poll() is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)
            try:
                conn.request("GET", "/v2/events")
                resp = conn.getresponse()
                for raw in iter(resp.readline, b""):
                    with self._lock:
                        self.events.append(json.loads(raw)["result"])
                return
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
            finally:
                conn.close()

    def stdout(self) -> str:
        return self.out.read_text()

    def stderr(self) -> str:
        return self.err.read_text()

    def tasks(self) -> list[tuple[str, str, str]]:
        """(id, status, description) of every taskEvent so far."""
        with self._lock:
            return [
                (e["taskEvent"]["id"], e["taskEvent"]["status"], e["taskEvent"]["description"])
                for e in self.events
                if "taskEvent" in e
            ]

    def task(self, task_id: str, status: str) -> dict[str, Any] | None:
        with self._lock:
            return next(
                (
                    e["taskEvent"]
                    for e in self.events
                    if e.get("taskEvent", {}).get("id") == task_id and e["taskEvent"]["status"] == status
                ),
                None,
            )

    def wait_for(self, check: Callable[[], object], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {WAIT:g}s; stderr:\n{self.stderr()}\nstdout:\n{self.stdout()}")
            time.sleep(0.05)

    def interrupt(self) -> int:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(WAIT)
        finally:
            self.kill()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
