"""Is Docker there, and may this user use it? `doctor`, `status`, `up` and `down` against a real client
and engine (devctl.tools.docker: ``info``, ``classify``).

Each test runs with every real docker client on this machine (a Debian machine may have Docker's 28.x
and the docker.io package's 20.10, which answer a dead daemon differently: docker-kubectl.md §2).
"""

from __future__ import annotations

import json
import os
import platform
import pwd
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from devctl.runner import Runner
from devctl.tools.docker import Docker
from tests.conftest import REPO, run_cli
from tests.docker.conftest import Devctl
from tests.docker.engine import Engine

COMMANDS = (("doctor", "--json"), ("status", "--json"), ("up", "--no-dev"), ("down", "--registry"))


@pytest.fixture
def closed_socket(devctl: Devctl) -> Iterator[str]:
    """A unix socket file nobody listens on: what a stopped daemon leaves behind."""
    path = devctl.work / "docker.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()
    yield f"unix://{path}"
    path.unlink(missing_ok=True)


def error_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("ERROR:")]


def checks(stdout: str) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in json.loads(stdout)["checks"]}


# --- what `docker info` says -----------------------------------------------------------------------


def test_the_info_fields_devctl_reads_parse_from_the_real_output(client: str, engine: Engine) -> None:
    info = Docker(Runner()).info()
    assert info.server_version == engine.ok("version", "--format", "{{.Server.Version}}")
    assert info.mem_total == int(engine.ok("info", "--format", "{{.MemTotal}}")) > 0
    assert info.ncpu == int(engine.ok("info", "--format", "{{.NCPU}}")) >= 1
    assert info.operating_system == engine.ok("info", "--format", "{{.OperatingSystem}}") != ""
    assert info.name == engine.ok("info", "--format", "{{.Name}}") != ""
    assert list(info.security_options) == json.loads(engine.ok("info", "--format", "{{json .SecurityOptions}}"))
    assert Docker(Runner()).server_version() == info.server_version


def test_an_engine_on_this_host_reports_this_hosts_memory(client: str) -> None:
    info = Docker(Runner()).info()
    if info.name != platform.node() or not Path("/proc/meminfo").exists():
        pytest.skip(f"the engine runs on {info.name!r}, not on this host: its memory is its own")
    kib = next(
        int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal:")
    )
    assert info.mem_total == kib * 1024


def test_doctor_names_the_client_and_the_engine_it_talks_to(client: str, engine: Engine) -> None:
    res = run_cli("doctor", "--json")
    found = checks(res.stdout)
    client_version = engine.ok("version", "--format", "{{.Client.Version}}", docker=client)
    server_version = engine.ok("version", "--format", "{{.Server.Version}}")
    assert found["docker"]["status"] == "ok"
    assert client_version.startswith(found["docker"]["detail"])  # 20.10.24+dfsg1 -> 20.10.24
    assert found["docker daemon"] == {
        "name": "docker daemon",
        "status": "ok",
        "detail": f"running (server {server_version})",
        "hint": "",
        "required": True,
    }


# --- a daemon that is not running --------------------------------------------------------------------


def test_a_closed_socket_is_docker_not_running_for_doctor_status_up_and_down(
    client: str, devctl: Devctl, closed_socket: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", closed_socket)
    line = (
        f"the Docker daemon is not reachable (Cannot connect to the Docker daemon at {closed_socket}. "
        "Is the docker daemon running?)"
    )

    doctor = run_cli("doctor", "--json")
    assert doctor.exit_code == 1
    found = checks(doctor.stdout)
    assert found["docker daemon"]["status"] == "fail" and found["docker daemon"]["detail"] == line
    assert "start Docker" in found["docker daemon"]["hint"]
    assert found["docker"]["status"] == "ok"  # the client still tells its version (and exits 1)

    status = run_cli("status", "--json")
    assert status.exit_code == 1, status.stderr
    assert status.stdout, status.stderr
    data = json.loads(status.stdout)
    assert data["cluster"]["detail"] == line and data["cluster"]["exists"] is None
    assert data["registry"]["detail"] == line and data["registry"]["running"] is None

    for args in (("up", "--no-dev"), ("down", "--registry")):
        res = run_cli(*args)
        assert res.exit_code == 1, (args, res.stderr)
        errors = error_lines(res.stderr)
        assert len(errors) == 1 and line in errors[0] and "start Docker" in errors[0], (args, res.stderr)
        assert "Traceback" not in res.output
    assert not engine.exists(devctl.registry)


# --- a user who may not use the socket ---------------------------------------------------------------


def run_as_nobody(python: str, args: tuple[str, ...], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """devctl run by `nobody`, with this checkout and this venv's packages (its Python may be root's only)."""
    nobody = pwd.getpwnam("nobody")
    env = {**env, "PYTHONPATH": os.pathsep.join([str(REPO), sysconfig.get_paths()["purelib"]])}
    env["DEVCTL_FAKE_PYTHON"] = python
    return subprocess.run(
        [python, "-m", "devctl", *args],
        cwd=REPO,
        env=env,
        user=nobody.pw_uid,
        group=nobody.pw_gid,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_as_a_user_outside_the_docker_group_the_fix_is_the_group_not_starting_docker(
    client: str, devctl: Devctl, engine: Engine, python_for_all: str | None
) -> None:
    if os.geteuid() != 0:
        pytest.skip("runs devctl as `nobody`, which needs root")
    if python_for_all is None:
        pytest.skip(f"no Python {sys.version_info[0]}.{sys.version_info[1]} that `nobody` may run")
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    sock = Path(host.removeprefix("unix://"))
    if not host.startswith("unix://") or sock.stat().st_mode & 0o006:
        pytest.skip(f"the engine's socket {host} is open to every user: nobody is refused nothing")
    line = (
        "this user may not use the Docker daemon (permission denied while trying to connect to the Docker daemon "
        f"socket at {host})"
    )

    doctor = run_as_nobody(python_for_all, ("doctor", "--json"), devctl.env)
    assert doctor.returncode == 1, doctor.stderr
    found = checks(doctor.stdout)
    assert found["docker daemon"]["status"] == "fail" and found["docker daemon"]["detail"] == line
    hint = found["docker daemon"]["hint"]
    assert "usermod -aG docker" in hint and "root-equivalent" in hint and "start Docker" not in hint

    status = run_as_nobody(python_for_all, ("status", "--json"), devctl.env)
    assert status.returncode == 1, status.stderr
    assert json.loads(status.stdout)["cluster"]["detail"] == line

    for args in (("up", "--no-dev"), ("down", "--registry")):
        res = run_as_nobody(python_for_all, args, devctl.env)
        assert res.returncode == 1, (args, res.stderr)
        errors = error_lines(res.stderr)
        assert len(errors) == 1 and line in errors[0] and "usermod -aG docker" in errors[0], (args, res.stderr)
    assert not engine.exists(devctl.registry)
