"""The fake docker's texts that differ by engine (tests/docker/README.md "Fake-only: texts that differ by
version"; docker-kubectl.md §2). The fake plays a 28.2.2 client; ``FakeWorld.docker_engine`` picks the
engine behind it: "28" (default), "20.10" (this machine's), or Docker Desktop."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import FakeWorld
from tests.fidelity.conftest import fake

RUN_HELP = "\n\nRun 'docker run --help' for more information\n"


@pytest.mark.parametrize(
    ("engine", "stderr"), [("28", ""), ("20.10", "Error response from daemon: No such container: gone\n")]
)
def test_rm_f_of_a_missing_container_exits_0(fake_tools: FakeWorld, engine: str, stderr: str) -> None:
    fake_tools.docker_engine(engine)
    res = fake("docker", "rm", "-f", "gone")
    assert (res.returncode, res.stdout, res.stderr) == (0, "", stderr)


@pytest.mark.parametrize(
    ("engine", "why"),
    [
        ("28", "failed to set up container networking: driver failed programming external connectivity on endpoint "
               "r ({id}): failed to bind host port for 127.0.0.1:{port}:172.17.0.2:5000/tcp: address already in use"),
        ("20.10", "driver failed programming external connectivity on endpoint r ({id}): Error starting userland "
                  "proxy: listen tcp4 127.0.0.1:{port}: bind: address already in use"),
        ("desktop", "Ports are not available: exposing port TCP 127.0.0.1:{port} -> 0.0.0.0:0: listen tcp "
                    "127.0.0.1:{port}: bind: address already in use"),
    ],
)  # fmt: skip
def test_a_port_a_host_process_holds_fails_in_the_engines_words(fake_tools: FakeWorld, engine: str, why: str) -> None:
    fake_tools.docker_engine(engine)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        res = fake("docker", "run", "-d", "--name", "r", "-p", f"127.0.0.1:{port}:5000", "registry:2")
    container = res.stdout.strip()
    assert res.returncode == 125 and container  # created, its id printed, then left "created"
    assert res.stderr == f"docker: Error response from daemon: {why.format(id=container, port=port)}{RUN_HELP}"
    assert fake_tools.containers()["r"]["state"] == "created"
