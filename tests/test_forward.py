"""`devctl forward`: fixed local ports to the stack's Services, a busy port moved to the next free one, a
forward whose pod is replaced set up again, and nothing left running after Ctrl-C.

`devctl forward` runs as a real process; the fake `kubectl port-forward` it starts listens on real sockets
and relays each connection to a real echo server of this test (the knob `port_forward_backends`)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devctl import config, topology
from devctl import forward as fw
from tests.conftest import REPO, FakeWorld, run_cli
from tests.stack_world import create_cluster, processes_with_env, run

WAIT = 30.0  # generous: the machine is shared; every wait below ends as soon as its condition holds


# --- the ports (pure) ---------------------------------------------------------------------------------


def test_every_service_has_its_documented_local_port_and_connection_string() -> None:
    plans = fw.plan(topology.load(config.load({}, env={}, cwd=REPO)))
    got = {(p.service, p.remote): (p.wanted, p.url(p.wanted)) for p in plans}
    assert got == {
        ("auth", 3000): (3000, "http://127.0.0.1:3000/"),
        ("auth-mongo", 27017): (27017, "mongodb://127.0.0.1:27017/auth"),
        ("booking", 3000): (3001, "http://127.0.0.1:3001/"),
        ("booking-mongo", 27017): (27018, "mongodb://127.0.0.1:27018/booking"),
        ("client", 3000): (3002, "http://127.0.0.1:3002/"),
        ("expiration-redis", 6379): (6379, "redis://127.0.0.1:6379"),
        ("nats", 4222): (4222, "nats://127.0.0.1:4222"),
        ("nats", 8222): (8222, "http://127.0.0.1:8222/"),
        ("payment", 3000): (3003, "http://127.0.0.1:3003/"),
        ("payment-mongo", 27017): (27019, "mongodb://127.0.0.1:27019/payment"),
        ("review", 3000): (3004, "http://127.0.0.1:3004/"),
        ("review-mongo", 27017): (27020, "mongodb://127.0.0.1:27020/review"),
        ("review-redis", 6379): (6380, "redis://127.0.0.1:6380"),
        ("tour", 3000): (3005, "http://127.0.0.1:3005/"),
        ("tour-mongo", 27017): (27021, "mongodb://127.0.0.1:27021/tour"),
    }


def test_choosing_targets_keeps_their_ports() -> None:
    topo = topology.load(config.load({}, env={}, cwd=REPO))
    assert [(p.service, p.wanted) for p in fw.plan(topo, ["tour-mongo", "review"])] == [
        ("review", 3004), ("tour-mongo", 27021)]  # fmt: skip


# --- through a real `devctl forward` ----------------------------------------------------------------------


class Echo:
    """A TCP server on a free port that answers every line with `<name>: <line>`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            for line in lines:
                conn.sendall(f"{self.name}: ".encode() + line)

    def close(self) -> None:
        self.sock.close()


def ask(port: int, text: str = "ping") -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(text.encode() + b"\n")
        return s.makefile("rb").readline().decode().strip()


def until(check: Any, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return check()


class Forwarding:
    """`python -m devctl forward ...` in its own process group, its output collected as it comes."""

    def __init__(self, *args: str) -> None:
        self.out: list[str] = []
        self.err: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "devctl", *args], cwd=REPO, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, k=sink: [k.append(ln) for ln in s], daemon=True).start()

    def table(self) -> list[dict[str, Any]]:
        text = until(lambda: "".join(self.out) if self.out and self.out[-1] == "}\n" else None)
        assert text, f"no table from devctl forward: {''.join(self.err)}"
        rows: list[dict[str, Any]] = json.loads(text)["forwards"]
        return rows

    def said(self, text: str) -> bool:
        return any(text in line for line in self.err)

    def stop(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)  # Ctrl-C on the terminal
        return self.proc.wait(timeout=WAIT)


@pytest.fixture
def stack(fake_tools: FakeWorld, repo_cwd: Path) -> Iterator[dict[str, Echo]]:
    """A cluster running the stack's databases and the auth service, each port leading to an echo server."""
    create_cluster()
    run("kubectl", "--context", "kind-tour", "apply", "-f", str(REPO / "k8s" / "infra"))
    run("kubectl", "--context", "kind-tour", "apply", "-f", str(REPO / "k8s" / "auth.yaml"))
    echoes = {name: Echo(name) for name in ("auth-mongo", "auth")}
    fake_tools.set_knob("port_forward_backends", {
        "auth-mongo": {"27017": f"127.0.0.1:{echoes['auth-mongo'].port}"},
        "auth": {"3000": f"127.0.0.1:{echoes['auth'].port}"},
    })  # fmt: skip
    yield echoes
    for e in echoes.values():
        e.close()
    assert until(lambda: not processes_with_env(f"DEVCTL_FAKE_STATE={fake_tools.state_dir}"), 10), "left running"


def test_the_table_lists_each_forward_and_traffic_reaches_the_pod(stack: dict[str, Echo]) -> None:
    fwd = Forwarding("forward", "--json", "auth-mongo", "auth")
    try:
        rows = {r["target"]: r for r in fwd.table()}
        assert set(rows) == {"auth-mongo", "auth"} and {r["state"] for r in rows.values()} == {"up"}
        mongo = rows["auth-mongo"]
        assert mongo["remote_port"] == 27017 and mongo["url"] == f"mongodb://127.0.0.1:{mongo['local_port']}/auth"
        assert (mongo["note"] == "") == (mongo["local_port"] == 27017)  # 27017 unless this machine had it taken
        assert ask(mongo["local_port"]) == "auth-mongo: ping"
        assert ask(rows["auth"]["local_port"], "GET /") == "auth: GET /"
    finally:
        assert fwd.stop() == 0


def test_a_busy_port_gets_the_next_free_one_and_the_table_says_so(stack: dict[str, Echo]) -> None:
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 27017))
        holder.listen(1)
    except OSError:
        pass  # something on this machine already holds it: busy either way
    fwd = Forwarding("forward", "--json", "auth-mongo")
    try:
        (row,) = fwd.table()
        assert row["wanted_port"] == 27017 and row["local_port"] > 27017
        assert row["note"] == "27017 is in use"
        assert ask(row["local_port"]) == "auth-mongo: ping"
    finally:
        assert fwd.stop() == 0
        holder.close()


def test_a_forward_whose_pod_is_replaced_comes_back_on_the_same_port(stack: dict[str, Echo], fake_tools: FakeWorld
                                                                     ) -> None:
    fwd = Forwarding("forward", "--json", "auth-mongo")
    try:
        (row,) = fwd.table()
        assert ask(row["local_port"]) == "auth-mongo: ping"
        fake_tools.set_knob("pod_generations", {"auth-mongo": 1})  # a restart: a new pod, a new name
        assert until(lambda: fwd.said("auth-mongo: retrying (error: lost connection to pod)")), fwd.err
        back = f"auth-mongo: forwarding 127.0.0.1:{row['local_port']} -> 27017"
        assert until(lambda: sum(back in line for line in fwd.err) == 2), fwd.err
        assert ask(row["local_port"], "again") == "auth-mongo: again"
    finally:
        assert fwd.stop() == 0
    starts = [a for a in fake_tools.argvs("kubectl") if "port-forward" in a]
    assert len(starts) == 2 and starts[0] == starts[1]
    assert fake_tools.assert_pinned() > 0


def test_an_unknown_target_lists_the_known_ones(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    res = run_cli("forward", "mongo")
    assert res.exit_code == 2
    assert "unknown target 'mongo'" in res.stderr and "auth-mongo" in res.stderr
    assert fake_tools.calls("kubectl") == []


def test_without_a_cluster_it_says_to_run_up(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    res = run_cli("forward")
    assert res.exit_code == 1
    assert "ERROR: the cluster tour is not ready" in res.stderr and "devctl up" in res.stderr


def test_dry_run_prints_each_kubectl_port_forward(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    res = run_cli("--dry-run", "forward", "nats")
    assert res.exit_code == 0
    assert res.stdout.splitlines() == [
        "kubectl --context kind-tour port-forward -n default service/nats --address 127.0.0.1 4222:4222"
        "   # nats://127.0.0.1:4222",
        "kubectl --context kind-tour port-forward -n default service/nats --address 127.0.0.1 8222:8222"
        "   # http://127.0.0.1:8222/",
    ]


def test_the_live_views_footer_shows_the_forwards() -> None:
    from rich.console import Console

    from devctl.devloop.live import LiveView
    from devctl.devloop.model import DevModel
    from devctl.devloop.texts import Frame

    model = DevModel(("auth",), {})
    model.set_forwards("forwards on 127.0.0.1: auth-mongo :27017 · auth :3000")
    out = Console(record=True, width=200, color_system=None)
    out.print(LiveView(out, model, Frame("http://tour.xyz", False, ("auth",)))._render())
    assert "forwards on 127.0.0.1: auth-mongo :27017 · auth :3000" in out.export_text()



def test_the_dev_loop_forwards_while_it_runs_and_leaves_no_forward_behind(
    fake_tools: FakeWorld, repo_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from devctl.context import Context
    from devctl.devloop.api import free_port
    from devctl.devloop.run import run_dev
    from devctl.report import SilentReporter
    from tests.stack_world import INGRESS_MANIFEST, ctrl_c_when, dev_ready

    for var in ("DEVCTL_HTTP_PORT", "DEVCTL_HTTPS_PORT", "DEVCTL_REGISTRY_PORT"):
        monkeypatch.setenv(var, str(free_port()))
    monkeypatch.setenv("DEVCTL_INGRESS_MANIFEST", str(INGRESS_MANIFEST))
    assert run_cli("up", "--no-dev").exit_code == 0
    fake_tools.set_knob("skaffold_dev_delay", 0.02)
    forwarded = "auth: forwarding 127.0.0.1:"  # the service's own forward: up once Skaffold deployed it
    ctrl_c_when(lambda: dev_ready(fake_tools.state_dir)() and forwarded in capsys.readouterr().err, timeout=WAIT * 2)
    ctx = Context.create(config.load({}, cwd=REPO), reporter=SilentReporter())
    assert run_dev(ctx, forward=True) == 0
    starts = {a[a.index("port-forward") + 3] for a in fake_tools.argvs("kubectl") if "port-forward" in a}
    assert {"service/auth-mongo", "service/nats", "service/auth"} <= starts
    marker = f"DEVCTL_FAKE_STATE={fake_tools.state_dir}"
    assert until(lambda: not processes_with_env(marker), 10), "a kubectl port-forward outlived the loop"
