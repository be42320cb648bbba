"""`devctl forward`: local ports on 127.0.0.1 to the stack's Services, kept up until stopped.

Each Service gets one ``kubectl port-forward service/<name>`` with all its ports. Local ports are fixed so a
developer's tools keep their settings: the Service's own port, plus one for each Service before it (by name)
that has the same port. So the MongoDBs are 27017 (auth-mongo) to 27021 (tour-mongo), the Redis 6379
(expiration-redis) and 6380 (review-redis), NATS 4222 and 8222, the HTTP services 3000 (auth) to 3005
(tour). A port something else holds gets the next free one, and the table says so.

A forward that ends (kubectl's ``error: lost connection to pod`` when its pod is replaced, or any other
failure) is started again on the same local port, after a short pause that grows while it keeps failing.
kubectl picks a running pod of the Service each time it starts (client-go tools/portforward).
"""

from __future__ import annotations

import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from devctl.context import Context
from devctl.errors import DevctlError
from devctl.topology import NAMESPACE, Topology

ADDRESS = "127.0.0.1"
SCHEMES = {27017: "mongodb", 6379: "redis", 4222: "nats"}  # anything else is HTTP
PAUSES = (0.5, 1.0, 2.0, 5.0)  # before each new try of a forward that keeps failing
PORT_SEARCH = 200
STOP_GRACE = 3.0
# kubectl (client-go tools/portforward): `Unable to listen on port 27017: ... bind: address already in use`.
_BUSY = re.compile(r"Unable to listen on port (\d+)")


@dataclass(frozen=True)
class PortPlan:
    """One port of one Service and where it should appear on this machine."""

    service: str
    name: str  # the Service's name for the port (mongo, http, client, monitor...)
    remote: int
    wanted: int  # the documented local port
    database: str = ""  # for MongoDB: the database its service uses (for the connection string)

    @property
    def scheme(self) -> str:
        return SCHEMES.get(self.remote, "http")

    def url(self, local: int) -> str:
        if self.scheme == "mongodb":
            return f"mongodb://{ADDRESS}:{local}/{self.database}"
        return f"{self.scheme}://{ADDRESS}:{local}" + ("/" if self.scheme == "http" else "")


def plan(topo: Topology, targets: Sequence[str] = ()) -> list[PortPlan]:
    """Every port of the chosen Services (all when none), each with its documented local port."""
    seen: dict[int, int] = {}
    databases = {d.host: d.name for d in topo.databases}
    out = []
    for endpoint in topo.endpoints:  # by name: the order that fixes the local ports
        for port in endpoint.ports:
            wanted = port.port + seen.get(port.port, 0)
            seen[port.port] = seen.get(port.port, 0) + 1
            if not targets or endpoint.name in targets:
                out.append(PortPlan(endpoint.name, port.name, port.port, wanted, databases.get(endpoint.name, "")))
    return out


def port_is_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:port (bound with SO_REUSEADDR, as kubectl's Go listener is)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ADDRESS, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class ForwardRow:
    """One line of the table (text or --json)."""

    target: str
    port_name: str
    remote_port: int
    local_port: int
    wanted_port: int
    url: str
    state: str  # up | starting | retrying
    note: str

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "port_name": self.port_name,
            "remote_port": self.remote_port,
            "local_port": self.local_port,
            "wanted_port": self.wanted_port,
            "url": self.url,
            "state": self.state,
            "note": self.note,
        }


@dataclass
class _Forward:
    service: str
    ports: list[PortPlan]
    local: dict[int, int] = field(default_factory=dict)  # remote -> local
    state: str = "starting"
    error: str = ""
    settled: threading.Event = field(default_factory=threading.Event)  # up, or failed once


class Forwarder:
    """Keeps one kubectl port-forward per Service running; ``on_change`` hears every change, as a line."""

    def __init__(self, ctx: Context, plans: Sequence[PortPlan], on_change: Callable[[str], None] = print) -> None:
        self.ctx = ctx
        self.on_change = on_change
        by_service: dict[str, list[PortPlan]] = {}
        for p in plans:
            by_service.setdefault(p.service, []).append(p)
        self._forwards = [_Forward(s, ports) for s, ports in by_service.items()]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- the table -------------------------------------------------------------------------------------

    def rows(self) -> list[ForwardRow]:
        with self._lock:
            out = []
            for f in self._forwards:
                for p in f.ports:
                    local = f.local.get(p.remote, p.wanted)
                    note = f"{p.wanted} is in use" if local != p.wanted else ""
                    if f.state != "up" and f.error:
                        note = "; ".join(x for x in (note, f.error) if x)
                    out.append(ForwardRow(p.service, p.name, p.remote, local, p.wanted, p.url(local), f.state, note))
            return out

    def summary(self) -> str:
        """One line for the dev loop's footer."""
        rows = self.rows()
        shown = [f"{r.target} :{r.local_port}" + ("" if r.state == "up" else " (waiting)") for r in rows]
        return "forwards on 127.0.0.1: " + " · ".join(shown) if shown else ""

    def wait_settled(self, timeout: float) -> None:
        """Until every forward is up or has failed once, or ``timeout`` seconds have passed."""
        deadline = time.monotonic() + timeout
        for f in self._forwards:
            f.settled.wait(max(0.0, deadline - time.monotonic()))

    # -- running -----------------------------------------------------------------------------------------

    def start(self) -> Forwarder:
        for f in self._forwards:
            # Each kubectl is started from the thread that watches it: on Linux it gets SIGTERM when that
            # thread ends (Runner.start), so none outlives its keeper.
            t = threading.Thread(target=self._keep, args=(f,), name=f"forward {f.service}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(STOP_GRACE + 5)

    def _choose_ports(self, f: _Forward, busy: set[int]) -> None:
        with self._lock:
            taken = {port for other in self._forwards if other is not f for port in other.local.values()}
            taken |= {p.wanted for other in self._forwards if other is not f for p in other.ports}
            for p in f.ports:
                start = f.local.get(p.remote, p.wanted)
                f.local[p.remote] = next(
                    (c for c in range(start, start + PORT_SEARCH) if c not in taken | busy and port_is_free(c)), start
                )
                taken.add(f.local[p.remote])

    def _set(self, f: _Forward, state: str, error: str = "") -> None:
        with self._lock:
            changed = (f.state, f.error) != (state, error)
            f.state, f.error = state, error
        if state == "up" or error:
            f.settled.set()
        if changed:
            self.on_change(self._describe(f))

    def _describe(self, f: _Forward) -> str:
        ports = ", ".join(f"{ADDRESS}:{f.local.get(p.remote, p.wanted)} -> {p.remote}" for p in f.ports)
        if f.state == "up":
            return f"{f.service}: forwarding {ports}"
        return f"{f.service}: {f.state} ({f.error})" if f.error else f"{f.service}: {f.state}"

    def _keep(self, f: _Forward) -> None:
        failures = 0
        busy: set[int] = set()
        while not self._stop.is_set():
            self._choose_ports(f, busy)
            errors: list[str] = []
            try:
                code = self._run_once(f, errors)
            except DevctlError as err:  # kubectl could not be started at all: said, and tried again later
                code, errors = None, [str(err)]
            if self._stop.is_set():
                return
            taken = [int(m.group(1)) for line in errors if (m := _BUSY.search(line))]
            if taken:  # someone took the port meanwhile: the next free one, at once
                busy.update(taken)
                continue
            why = next((ln for ln in reversed(errors) if ln.strip()), f"kubectl exited {code}")
            pause = PAUSES[min(failures, len(PAUSES) - 1)]
            failures = 0 if f.state == "up" else failures + 1
            self._set(f, "retrying", why.strip())
            self._stop.wait(pause)

    def _run_once(self, f: _Forward, errors: list[str]) -> int | None:
        forwarding = [0]

        def out(line: str) -> None:
            if line.startswith("Forwarding from"):
                forwarding[0] += 1
                if forwarding[0] == len(f.ports):
                    self._set(f, "up")

        args = ["port-forward", "-n", NAMESPACE, f"service/{f.service}", "--address", ADDRESS]
        args += [f"{f.local[p.remote]}:{p.remote}" for p in f.ports]
        proc = self.ctx.kubectl.stream(*args, on_stdout=out, on_stderr=lambda line: errors.append(line.rstrip()))
        code = proc.wait(0.2)
        while code is None and not self._stop.is_set():
            code = proc.wait(0.2)
        if code is None:  # stopping: kubectl ends on SIGINT; the group goes in any case
            proc.signal_group(signal.SIGINT)
            code = proc.wait(STOP_GRACE)
            proc.signal_group(signal.SIGKILL)
            proc.wait(STOP_GRACE)
        proc.drain(2.0)
        return code
