"""A taken registry port, held by a host process or published by another container (devctl.cluster.steps
``check_ports``, devctl.cluster.registry ``ensure_registry``): devctl stops before creating anything and
names the setting to change. The engine's own texts for the two holders differ (kind.md §3.1)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from devctl.cluster import registry as reg_ops
from devctl.cluster.plan import RegistryPlan
from devctl.errors import CommandError, DevctlError
from devctl.workflows.steps import StepFailed
from tests.docker import parts
from tests.docker.conftest import Devctl
from tests.docker.engine import Engine
from tests.docker.images import Images

LISTEN = (
    "import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); "
    "print('ready', flush=True); time.sleep(600)"
)


@pytest.fixture
def host_process(devctl: Devctl) -> Iterator[subprocess.Popen[str]]:
    """Another process, a Python socket listening on the registry port."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LISTEN, str(devctl.registry_port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def other_container(devctl: Devctl, engine: Engine, images: Images) -> str:
    """Another container publishing the registry port on 127.0.0.1."""
    return engine.container(
        images.busybox,
        "sleep",
        "3600",
        name=engine.name("holder"),
        options=["-p", f"127.0.0.1:{devctl.registry_port}:5000"],
    )


def registry_step_refusal(devctl: Devctl, engine: Engine) -> DevctlError:
    with pytest.raises(StepFailed) as failed:
        parts.registry_part()
    cause = failed.value.__cause__
    assert isinstance(cause, DevctlError)
    assert not engine.exists(devctl.registry)
    assert not [c for c in devctl.docker_calls() if c[1] in ("run", "start", "rm", "network", "exec")]
    return cause


def test_a_host_process_on_the_port_stops_devctl_before_it_creates_anything(
    devctl: Devctl, engine: Engine, host_process: subprocess.Popen[str]
) -> None:
    err = registry_step_refusal(devctl, engine)
    assert f"host port {devctl.registry_port} (registry) on 127.0.0.1 is in use by python" in err.message
    assert f"(pid {host_process.pid})" in err.message
    assert err.hint is not None and "DEVCTL_REGISTRY_PORT=<port>" in err.hint


def test_a_container_publishing_the_port_stops_devctl_before_it_creates_anything(
    devctl: Devctl, engine: Engine, other_container: str
) -> None:
    err = registry_step_refusal(devctl, engine)
    assert f"host port {devctl.registry_port} (registry) on 127.0.0.1 is in use" in err.message
    assert err.hint is not None and "DEVCTL_REGISTRY_PORT=<port>" in err.hint
    assert engine.state(other_container) == "running"


def refused_run(devctl: Devctl, engine: Engine) -> str:
    """The registry's `docker run` when the port was taken after devctl looked: devctl's error names the
    setting, no container is left behind, and the engine's own words are returned."""
    with pytest.raises(DevctlError) as refused:
        reg_ops.ensure_registry(parts.context(), parts.spec(), RegistryPlan(run_registry=True))
    err = refused.value
    assert err.message == f"host port {devctl.registry_port} (registry) is already in use"
    assert err.hint is not None and "DEVCTL_REGISTRY_PORT=<port>" in err.hint
    # docker created the container before the port failed and left it "created"; devctl removed it.
    assert not engine.exists(devctl.registry)
    assert [c[1] for c in devctl.docker_calls()] == ["run", "rm"]
    failed = err.__cause__
    assert isinstance(failed, CommandError) and failed.returncode == 125
    return failed.stderr


def test_when_a_container_takes_the_port_first_the_engine_says_port_is_already_allocated(
    devctl: Devctl, engine: Engine, other_container: str
) -> None:
    said = refused_run(devctl, engine)
    assert f"Bind for 127.0.0.1:{devctl.registry_port} failed: port is already allocated" in said


def test_when_a_host_process_takes_the_port_first_the_engine_says_address_already_in_use(
    devctl: Devctl, engine: Engine, host_process: subprocess.Popen[str]
) -> None:
    said = refused_run(devctl, engine)
    assert "address already in use" in said and "port is already allocated" not in said
    assert f"127.0.0.1:{devctl.registry_port}" in said
