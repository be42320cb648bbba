"""A host port taken after devctl checked it: whoever holds it, Docker's words differ (kind.md §3.1 item 3,
docker-kubectl.md §2), and devctl recognises each family, for the node's ports (through `kind create`) and
for the registry's, naming the setting to change.

The holders are real: a listening socket of this process, or a container of the fake docker publishing the
port; the fake docker answers in the words of the engine it plays (``FakeWorld.docker_engine``).
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import pytest

from devctl import config
from devctl.cluster.plan import RegistryPlan
from devctl.cluster.registry import ensure_registry
from devctl.cluster.spec import ClusterSpec
from devctl.context import Context
from devctl.devloop.api import free_port
from devctl.errors import DevctlError
from devctl.report import SilentReporter
from tests.conftest import FAKES, FakeWorld, run_cli

# (who holds the port, the engine the fake docker plays, the words that engine uses)
HOLDERS = [
    ("container", "28", "port is already allocated"),
    ("process", "28", "failed to bind host port"),
    ("process", "20.10", "Error starting userland proxy"),
    ("process", "desktop", "Ports are not available"),
]


@pytest.fixture
def held(request: pytest.FixtureRequest, fake_tools: FakeWorld) -> Iterator[tuple[int, str]]:
    """A free port, then taken by the holder of the test's case; yields (port, the engine's words)."""
    holder, engine, words = request.param
    fake_tools.docker_engine(engine)
    port = free_port()
    sock = None
    if holder == "process":
        sock = socket.socket()
        sock.bind(("127.0.0.1", port))
        sock.listen()
    else:
        subprocess.run(
            [str(FAKES / "docker"), "run", "-d", "--name", "holder", "-p", f"127.0.0.1:{port}:80", "busybox"],
            capture_output=True, check=True,
        )  # fmt: skip
    try:
        yield port, words
    finally:
        if sock is not None:
            sock.close()


@pytest.mark.parametrize("held", HOLDERS, indirect=True, ids=[f"{h}-{e}" for h, e, _ in HOLDERS])
def test_a_node_port_taken_after_the_check_names_the_port_and_its_setting(
    held: tuple[int, str], fake_tools: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, words = held
    monkeypatch.setenv("DEVCTL_HTTP_PORT", str(port))
    monkeypatch.setenv("DEVCTL_HTTPS_PORT", str(free_port()))
    monkeypatch.setenv("DEVCTL_REGISTRY_PORT", str(free_port()))
    # The port is taken between devctl's checks and kind's `docker run` of the node.
    monkeypatch.setattr("devctl.cluster.steps.check_ports", lambda *a, **k: None)
    monkeypatch.setattr("devctl.cluster.actions.check_ports", lambda *a, **k: None)

    res = run_cli("cluster", "up")

    assert res.exit_code == 1
    errors = [line for line in res.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, res.stderr
    assert f"host port {port} (HTTP) on 127.0.0.1 is already in use: kind could not publish it" in errors[0]
    assert errors[0].endswith("— stop what holds it, or pick another port with DEVCTL_HTTP_PORT=<port>")
    assert words in res.stderr  # kind's own output follows, in the engine's words
    assert "tour-control-plane" not in fake_tools.containers()  # kind deleted the node it could not start


@pytest.mark.parametrize("held", HOLDERS, indirect=True, ids=[f"{h}-{e}" for h, e, _ in HOLDERS])
def test_the_registry_port_taken_after_the_check_names_the_setting(
    held: tuple[int, str], fake_tools: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _ = held
    monkeypatch.setenv("DEVCTL_REGISTRY_PORT", str(port))
    ctx = Context.create(config.load({}, cwd=fake_tools.root), reporter=SilentReporter())

    with pytest.raises(DevctlError) as refused:
        ensure_registry(ctx, ClusterSpec.from_config(ctx.cfg), RegistryPlan(run_registry=True))

    assert refused.value.message == f"host port {port} (registry) is already in use"
    assert refused.value.hint is not None and "DEVCTL_REGISTRY_PORT=<port>" in refused.value.hint
    assert "kind-registry" not in fake_tools.containers()  # the container docker left "created" is gone
