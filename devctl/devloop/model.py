"""The dev loop's view model: one row per service plus the loop's state, fed by both parsers.

Thread-safe: Skaffold's stdout, stderr and the event stream arrive on different threads. Once the
event stream delivers, it is the source of build/deploy state and console lines only add application
log lines and errors (the two describe the same facts; mixing them would make rows flicker).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from devctl.devloop import updates as u

CONSOLE = "console"
EVENTS = "events"


@dataclass
class Row:
    name: str
    service: bool  # one of the stack's services (else a Deployment Skaffold reported, e.g. a database)
    build: str = "-"
    deploy: str = "-"
    ready: int | None = None
    desired: int | None = None
    restarts: int | None = None
    last: str = ""  # last application log line
    error: str = ""
    reason: str = ""  # why its pods are not ready (devctl.pod_reasons), from the pod poll


@dataclass(frozen=True)
class PodCounts:
    """What ``kubectl get`` says about a Deployment (``devctl.status``), merged into its row."""

    ready: int
    desired: int
    restarts: int
    reason: str | None = None


class DevModel:
    def __init__(self, services: Iterable[str], images: Mapping[str, str]) -> None:
        self.images = dict(images)
        self._rows: dict[str, Row] = {s: Row(s, True) for s in services}
        self._lock = threading.Lock()
        self.source = CONSOLE
        self.iteration = 0
        self.loop = "starting"  # starting | running | ready | failed | cleaning up | stopped
        self.phase = ""
        self.failures: list[str] = []
        self.forwards = ""  # the port forwards running with the loop (devctl.forward), for the footer

    # -- input ---------------------------------------------------------------------------------------

    def use_events(self) -> None:
        with self._lock:
            self.source = EVENTS

    def use_console(self) -> None:
        """The event stream broke off: console lines are the source again."""
        with self._lock:
            self.source = CONSOLE

    def apply(self, updates: Iterable[u.Update], *, source: str) -> None:
        with self._lock:
            for up in updates:
                if isinstance(up, u.AppLog | u.Failure) or source == self.source:
                    self._apply(up)

    def set_pods(self, counts: Mapping[str, PodCounts]) -> None:
        """Every Deployment's pods; one Skaffold does not deploy (the databases `up` applies) gets a row too."""
        with self._lock:
            for name, c in counts.items():
                row = self._row(name)
                row.ready, row.desired, row.restarts = c.ready, c.desired, c.restarts
                row.reason = "" if c.ready >= c.desired else (c.reason or "")

    def set_forwards(self, text: str) -> None:
        with self._lock:
            self.forwards = text

    def set_loop(self, state: str) -> None:
        with self._lock:
            self.loop = state

    def _row(self, name: str) -> Row:
        row = self._rows.get(name)
        if row is None:
            row = self._rows[name] = Row(name, False)
        return row

    def _apply(self, up: u.Update) -> None:
        if isinstance(up, u.BuildState):
            row = self._row(up.service)
            row.build = up.state
            if up.state == u.BUILD_FAILED:
                row.error = up.detail or "build failed"
            elif up.state in (u.BUILDING, u.PENDING, u.CHECKING):
                row.error = ""
        elif isinstance(up, u.DeployState):
            row = self._row(up.name)
            row.deploy = up.state
            if up.ready is not None:
                row.ready, row.desired = up.ready, up.desired
            if up.state == u.DEPLOY_FAILED:
                row.error = up.detail or "deploy failed"
            elif up.state == u.READY:
                row.error = ""
                if row.desired is not None:
                    row.ready = row.desired
            elif up.state == u.DEPLOYING:
                row.error = ""
        elif isinstance(up, u.LoopState):
            self._loop(up)
        elif isinstance(up, u.Phase):
            if up.state == u.RUNNING:
                self.phase = up.name
            if up.name == "cleanup":
                self.loop = "cleaning up"
        elif isinstance(up, u.AppLog):
            name = self.service_of(up.pod, up.container)
            if name is not None:
                self._rows[name].last = up.text
        elif isinstance(up, u.Failure) and up.text not in self.failures:
            self.failures.append(up.text)

    def _loop(self, up: u.LoopState) -> None:
        if up.state == u.RUNNING:
            iteration = up.iteration or (self.iteration + (0 if self.loop == "running" else 1))
            if iteration != self.iteration:
                self.failures.clear()  # a new iteration: the last one's reasons are history
            self.iteration = iteration
            self.loop = "running"
        elif up.state == u.LOOP_READY and not up.iteration and self.loop == "failed":
            # skaffold.md §3: after a failed iteration Skaffold prints `Watching for changes...` too; on the
            # console (no iteration numbers) that line does not mean the iteration succeeded.
            return
        elif up.state == u.LOOP_READY:
            self.iteration = up.iteration or max(self.iteration, 1)
            self.loop = "ready"
            self.phase = ""
        elif up.state == u.LOOP_FAILED:
            self.iteration = up.iteration or self.iteration
            self.loop = "failed"
            if up.detail and up.detail not in self.failures:
                self.failures.append(up.detail)

    # -- output --------------------------------------------------------------------------------------

    def service_of(self, pod: str, container: str) -> str | None:
        """The row a pod's log line belongs to: a pod ``<deployment>-<rs hash>-<id>``, else the container."""
        parts = pod.rsplit("-", 2)
        if len(parts) == 3 and parts[0] in self._rows:
            return parts[0]
        if container in self._rows:
            return container
        return None

    def rows(self) -> list[Row]:
        """A copy: services first in their order, then other Deployments as Skaffold reported them."""
        with self._lock:
            return [dataclasses.replace(r) for r in self._rows.values()]

    def reason(self) -> str:
        """Why the loop failed, in Skaffold's words: the failed rows, then its own final error lines."""
        with self._lock:
            failed = [r for r in self._rows.values() if u.DEPLOY_FAILED in (r.deploy, r.build)]
            parts = [f"deployment/{r.name}: {r.error}" for r in failed if r.deploy == u.DEPLOY_FAILED]
            parts += [f"build {r.name}: {r.error}" for r in failed if r.build == u.BUILD_FAILED]
            # Skaffold's last words matter (a usage text or a long chain would drown the reason); the ones
            # that only repeat a row's error (`build [img] failed: <error>`) are left out.
            said = [r.error for r in failed if r.error]
            parts += [f for f in self.failures[-3:] if not any(f in p or e in f for p in parts for e in said)]
            return "; ".join(parts)
