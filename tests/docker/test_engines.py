"""Which engine, through which context, on which network: devctl's reads of the docker CLI's context and of
a network's subnets against the real client and engine (devctl.engine, devctl.netcheck), with every real
client on this machine.

Contexts are made in a private DOCKER_CONFIG (a temporary directory), selected with DOCKER_CONTEXT: the
user's own contexts and current context are never touched, and the directory goes at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devctl.engine import products
from devctl.engine.detect import read_endpoint
from devctl.runner import Runner
from devctl.tools.docker import Docker, DockerContextMissing
from tests.conftest import run_cli
from tests.docker.conftest import Devctl
from tests.docker.engine import LABEL, Engine


@pytest.fixture
def dead_context(client: str, devctl: Devctl, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """A context made with `docker context create`, pointing at a socket nobody listens on, in a private
    DOCKER_CONFIG and selected with DOCKER_CONTEXT. Yields (name, host)."""
    config = Path(tempfile.mkdtemp(prefix="devctl-docker-config-"))
    sock = config / "dead.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(sock))
    s.close()
    name, host = "devctl-dead", f"unix://{sock}"
    env = {**os.environ, "DOCKER_CONFIG": str(config)}
    done = Engine(client).call("context", "create", name, "--docker", f"host={host}", env=env)
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.setenv("DOCKER_CONTEXT", name)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    try:
        yield name, host
    finally:
        Engine(client).call("context", "rm", "--force", name, env=env)
        shutil.rmtree(config, ignore_errors=True)


def checks(stdout: str) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in json.loads(stdout)["checks"]}


def test_the_current_context_is_read_as_the_client_prints_it(client: str, engine: Engine) -> None:
    raw = json.loads(engine.ok("context", "inspect", docker=client))[0]
    endpoint = read_endpoint(Docker(Runner()))
    assert endpoint.context == raw["Name"]
    assert endpoint.host == raw["Endpoints"]["docker"]["Host"]
    expected = products.FROM_DOCKER_HOST if os.environ.get("DOCKER_HOST") else products.FROM_CURRENT_CONTEXT
    assert endpoint.source == expected


def test_this_engine_is_docker_engine_with_its_own_memory_and_cpus(client: str, devctl: Devctl, engine: Engine) -> None:
    res = run_cli("doctor", "--json")
    data = json.loads(res.stdout)
    assert data["engine"]["kind"] == products.DOCKER_ENGINE and data["engine"]["name"] == "Docker Engine"
    assert data["engine"]["memory_bytes"] == int(engine.ok("info", "--format", "{{.MemTotal}}"))
    assert data["engine"]["cpus"] == int(engine.ok("info", "--format", "{{.NCPU}}"))
    assert data["engine"]["rootless"] is ("rootless" in engine.ok("info", "--format", "{{json .SecurityOptions}}"))
    assert checks(res.stdout)["docker engine"]["status"] == "ok"
    assert checks(res.stdout)["engine memory"]["status"] in ("ok", "warn", "fail")  # whatever this machine has


def test_a_context_at_a_dead_socket_is_named_with_the_context_that_chose_it(
    client: str, devctl: Devctl, dead_context: tuple[str, str]
) -> None:
    name, host = dead_context
    endpoint = read_endpoint(Docker(Runner()))
    assert (endpoint.context, endpoint.host, endpoint.source) == (name, host, products.FROM_DOCKER_CONTEXT)

    res = run_cli("doctor", "--json")
    assert res.exit_code == 1
    found = checks(res.stdout)
    daemon = found["docker daemon"]
    assert daemon["status"] == "fail"
    assert daemon["detail"] == (
        f"the Docker daemon is not reachable (Cannot connect to the Docker daemon at {host}. Is the docker "
        "daemon running?)"
    )
    assert f"unset DOCKER_CONTEXT (it selects context '{name}')" in daemon["hint"]
    assert found["docker context"]["detail"] == f"{name} -> {host} (DOCKER_CONTEXT is set)"
    engine_json = json.loads(res.stdout)["engine"]
    assert (engine_json["context"], engine_json["host"], engine_json["running"]) == (name, host, False)

    up = run_cli("up", "--no-dev")
    assert up.exit_code == 1
    errors = [ln for ln in up.stderr.splitlines() if ln.startswith("ERROR:")]
    assert len(errors) == 1 and host in errors[0], up.stderr


def test_a_context_that_does_not_exist_is_one_line(
    client: str, devctl: Devctl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", devctl.work.as_posix())  # empty: no contexts at all
    monkeypatch.setenv("DOCKER_CONTEXT", "devctl-no-such-context")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    with pytest.raises(DockerContextMissing, match="context 'devctl-no-such-context', which does not exist"):
        read_endpoint(Docker(Runner()))
    with pytest.raises(DockerContextMissing):
        Docker(Runner()).info()
    res = run_cli("doctor", "--json")
    assert res.exit_code == 1
    assert checks(res.stdout)["docker context"]["status"] == "fail"


def test_a_networks_subnets_and_a_missing_network(client: str, devctl: Devctl, engine: Engine) -> None:
    name = engine.name("net")
    engine.ok("network", "create", "--label", LABEL, name)
    want = [c["Subnet"] for c in json.loads(engine.ok("network", "inspect", "--format", "{{json .IPAM.Config}}", name))]
    assert Docker(Runner()).network_subnets(name) == want and want
    assert Docker(Runner()).network_subnets(engine.name("absent")) is None


def test_doctor_checks_the_kind_network_against_this_machines_routes(
    client: str, devctl: Devctl, engine: Engine, kind_network: str
) -> None:
    subnets = [
        c["Subnet"]
        for c in json.loads(engine.ok("network", "inspect", "--format", "{{json .IPAM.Config}}", kind_network))
    ]
    res = run_cli("doctor", "--json")
    network = json.loads(res.stdout)["network"]
    assert network["checked"] is True
    assert network["kind_network"] == [s for s in subnets if ":" not in s]
    # The engine routes the kind network through its own bridge (br-<id>): that is no VPN.
    assert all(not r["interface"].startswith("br-") for r in network["overlapping_routes"])
