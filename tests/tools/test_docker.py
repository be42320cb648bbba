"""devctl.tools.docker: the one reading of docker's "cannot reach the daemon" texts, and `docker info`.

The texts are the real clients' (docker-kubectl.md §2; tests/docker/ checks them again on a real engine).
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Sequence
from typing import Any

import pytest

from devctl.errors import CommandError, DevctlError
from devctl.runner import Result, Runner
from devctl.tools.docker import (
    Docker,
    DockerAccessDenied,
    DockerContextMissing,
    DockerDown,
    access_hint,
    classify,
    is_port_taken,
    taken_port,
    unavailable,
)
from tests.conftest import REPO, FakeWorld
from tests.docker import shapes

SOCK = "unix:///var/run/docker.sock"
DOWN_28 = f"Cannot connect to the Docker daemon at {SOCK}. Is the docker daemon running?"
DENIED_28 = (
    f"permission denied while trying to connect to the Docker daemon socket at {SOCK}: Get "
    '"http://%2Fvar%2Frun%2Fdocker.sock/v1.50/info": dial unix /var/run/docker.sock: connect: permission denied'
)
TEMPLATE_20_10 = (
    'template: :1:7: executing "" at <.ServerVersion>: reflect: indirection through nil pointer to embedded '
    "struct field Info"
)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (DOWN_28, DockerDown),
        # The reason first, a template error after it: the detail is the reason, not the last line.
        (f"{DOWN_28}\n{TEMPLATE_20_10}", DockerDown),
        ("error during connect: this error may indicate that the docker daemon is not running", DockerDown),
        (DENIED_28, DockerAccessDenied),
        ("Error response from daemon: No such container: x", None),
        (TEMPLATE_20_10, None),
        ("", None),
    ],
)
def test_classify_tells_daemon_down_from_permission_denied(text: str, kind: type | None) -> None:
    got = classify(CommandError(["docker", "ps"], 1, "", text))
    assert (type(got) if got else None) is kind


def test_the_down_line_is_dockers_own_and_says_start_docker() -> None:
    got = unavailable(f"{DOWN_28}\n{TEMPLATE_20_10}")
    assert isinstance(got, DockerDown)
    assert got.message == f"the Docker daemon is not reachable ({DOWN_28})"
    assert got.hint and "start Docker" in got.hint


@pytest.mark.parametrize(
    ("host", "env", "start"),
    [
        ("unix:///Users/dev/.colima/default/docker.sock", {}, "start Colima: `colima start --memory 6`"),
        ("unix:///Users/dev/.orbstack/run/docker.sock", {}, "start OrbStack: `orb start`"),
        ("unix:///Users/dev/.rd/docker.sock", {}, "start Rancher Desktop"),
        ("unix:///Users/dev/.docker/run/docker.sock", {}, "start Docker Desktop"),
        ("unix:///run/user/1000/podman/podman.sock", {}, "Podman"),
        ("unix:///var/run/docker.sock", {"DOCKER_CONTEXT": "colima-work"}, "colima start --profile work"),
    ],
)
def test_the_down_hint_names_the_engine_behind_the_address(host: str, env: dict[str, str], start: str) -> None:
    got = DockerDown(f"Cannot connect to the Docker daemon at {host}. Is the docker daemon running?", env)
    assert got.hint is not None and start in got.hint


def test_the_down_hint_names_what_chose_the_address() -> None:
    host = "unix:///tmp/x/docker.sock"
    line = f"Cannot connect to the Docker daemon at {host}. Is the docker daemon running?"
    assert f"unset DOCKER_HOST (it points at {host})" in (DockerDown(line, {"DOCKER_HOST": host}).hint or "")
    by_context = DockerDown(line, {"DOCKER_CONTEXT": "dead"}).hint or ""
    assert "unset DOCKER_CONTEXT (it selects context 'dead')" in by_context
    assert "`docker context use NAME`" in (DockerDown(line, {}).hint or "")


@pytest.mark.parametrize(
    "text",
    [
        # 28.2 client (seen here with DOCKER_CONTEXT=nosuch)
        'Failed to initialize: unable to resolve docker endpoint: context "nosuch": context not found: open '
        "/root/.docker/contexts/meta/9e62f93e/meta.json: no such file or directory",
        # 20.10 client
        'unable to resolve docker endpoint: context "nosuch" does not exist',
    ],
)
def test_a_missing_context_is_its_own_line(text: str) -> None:
    got = unavailable(text)
    assert isinstance(got, DockerContextMissing)
    assert got.message.startswith("the docker CLI is set to context 'nosuch', which does not exist")
    assert "meta.json" not in got.message
    assert got.hint and "docker context ls" in got.hint


def test_the_denied_line_names_the_socket_and_the_fix_not_start_docker() -> None:
    got = unavailable(DENIED_28)
    assert isinstance(got, DockerAccessDenied)
    assert got.message == (
        f"this user may not use the Docker daemon (permission denied while trying to connect to the Docker "
        f"daemon socket at {SOCK})"
    )
    assert got.hint == access_hint(sys.platform)
    assert "start Docker" not in (got.hint or "")


def test_on_linux_the_fix_is_the_docker_group_said_to_be_root_equivalent_or_rootless() -> None:
    hint = access_hint("linux")
    assert "usermod -aG docker" in hint and "root-equivalent" in hint and "rootless" in hint
    assert "docker group" not in access_hint("darwin")


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        # another container holds it (moby's port allocator; every engine version)
        (
            "driver failed programming external connectivity on endpoint r (x): Bind for 127.0.0.1:5001 failed: "
            "port is already allocated",
            True,
        ),
        # a host process holds it: Docker 20.10, then 28.x
        (
            "driver failed programming external connectivity on endpoint r (x): Error starting userland proxy: "
            "listen tcp4 127.0.0.1:5001: bind: address already in use",
            True,
        ),
        (
            "failed to set up container networking: driver failed programming external connectivity on endpoint r "
            "(x): failed to bind host port for 127.0.0.1:5001:172.17.0.2:5000/tcp: address already in use",
            True,
        ),
        # Docker Desktop
        (
            "Ports are not available: exposing port TCP 127.0.0.1:5001 -> 0.0.0.0:0: listen tcp 127.0.0.1:5001: "
            "bind: address already in use",
            True,
        ),
        ('Conflict. The container name "/r" is already in use by container "abc"', False),
    ],
)
def test_every_family_of_port_taken_texts_is_recognised(text: str, taken: bool) -> None:
    err = CommandError(["docker", "run"], 125, "", "docker: Error response from daemon: " + text)
    assert is_port_taken(err) is taken
    # ... and the port is read from each (kind quotes the same text after `Command Output:`).
    assert taken_port(err.stderr) == (5001 if taken else None)
    quoted_by_kind = 'ERROR: failed to create cluster: command "docker run ..." failed with error: exit status 125\n\n'
    assert taken_port(quoted_by_kind + "Command Output: docker: " + text) == (5001 if taken else None)


# --- docker info ------------------------------------------------------------------------------------


def test_info_reads_the_engines_fields(fake_tools: FakeWorld) -> None:
    info = Docker(Runner()).info()
    assert info.server_version == "28.2.2"
    assert info.mem_total == 8 * 1024**3 and info.ncpu == 2
    assert Docker(Runner()).server_version() == "28.2.2"


def test_info_raises_docker_down_and_access_denied(fake_tools: FakeWorld) -> None:
    fake_tools.docker_down()
    with pytest.raises(DockerDown):
        Docker(Runner()).info()
    fake_tools.docker_denied()
    with pytest.raises(DockerAccessDenied):
        Docker(Runner()).info()


class Answering(Runner):
    """A runner that answers every call with one recorded result of the real client."""

    def __init__(self, exit_code: int, stdout: str, stderr: str = "") -> None:
        super().__init__()
        self.answer = (exit_code, stdout, stderr)

    def output(self, argv: Sequence[str], **kw: Any) -> Result:
        code, out, err = self.answer
        if code:
            raise CommandError(argv, code, out, err)
        return Result(list(argv), code, out, err)

    def run(self, argv: Sequence[str], **kw: Any) -> Result:
        return self.output(argv, **kw)


def test_a_20_10_client_reports_the_unreachable_daemon_in_server_errors_with_exit_0() -> None:
    # Debian's docker.io 20.10 client, `docker info --format '{{json .}}'` with nothing on the socket
    # (docker-kubectl.md §2: exit 0, the reason only in ServerErrors).
    down = {"ServerErrors": [DOWN_28], "ClientInfo": {"Debug": False, "Context": "default", "Plugins": []}}
    with pytest.raises(DockerDown, match="Cannot connect to the Docker daemon"):
        Docker(Answering(0, json.dumps(down))).info()
    denied = {"ServerErrors": [DENIED_28.replace("v1.50", "v1.24")]}
    with pytest.raises(DockerAccessDenied):
        Docker(Answering(0, json.dumps(denied))).info()


def test_any_other_server_error_is_said_as_it_is() -> None:
    with pytest.raises(DevctlError, match="the Docker daemon reported: boom"):
        Docker(Answering(0, json.dumps({"ServerErrors": ["boom"]}))).info()


def test_info_that_is_not_json_is_one_clear_error() -> None:
    with pytest.raises(DevctlError, match="not a JSON object"):
        Docker(Answering(0, "Client: Docker Engine\n")).info()


def test_every_read_and_change_turns_a_down_daemon_into_docker_down() -> None:
    docker = Docker(Answering(1, "", DOWN_28))
    calls = [
        lambda: docker.inspect("r"),
        lambda: docker.containers("l=v"),
        lambda: docker.info(),
        lambda: docker.run_detached(["--name", "r", "img"]),
        lambda: docker.start(["r"]),
        lambda: docker.remove("r"),
        lambda: docker.network_connect("kind", "r"),
        lambda: docker.exec("r", ["true"]),
    ]
    for call in calls:
        with pytest.raises(DockerDown):
            call()


# --- every docker argv comes from the adapter, and the docker tier knows them all -------------------


def test_the_docker_tier_knows_how_to_call_every_public_method_of_the_adapter() -> None:
    # tests/docker/test_argv_coverage.py then checks each shape ran against a real engine.
    assert set(shapes.CALLS) == shapes.public_methods()


def test_each_shape_matches_its_own_kind_of_argv_and_not_the_others() -> None:
    built = shapes.shapes()
    assert built["exec"] == [
        ("docker", "exec", shapes.ONE, shapes.REST),
        ("docker", "exec", "-i", shapes.ONE, shapes.REST),
    ]
    plain, piped = built["exec"]
    assert shapes.matches(plain, ["docker", "exec", "node", "mkdir", "-p", "/d"])
    assert not shapes.matches(plain, ["docker", "exec", "-i", "node", "cp", "/dev/stdin", "/f"])
    assert shapes.matches(piped, ["docker", "exec", "-i", "node", "cp", "/dev/stdin", "/f"])
    (ps,) = built["containers"]
    assert shapes.matches(ps, ["docker", "ps", "-a", "--filter", "label=k=v", "--format", "{{.Names}}\t{{.State}}"])
    assert not shapes.matches(ps, ["docker", "ps", "-a", "--filter", "name=x", "--format", "{{.Names}}\t{{.State}}"])
    (rm,) = built["remove"]
    assert not shapes.matches(rm, ["docker", "rm", "-f", "a", "b"])


def test_no_module_but_the_adapter_builds_a_docker_argv() -> None:
    builders = []
    for path in sorted((REPO / "devctl").rglob("*.py")):
        if path == REPO / "devctl" / "tools" / "docker.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            first = node.elts[0] if isinstance(node, ast.List) and node.elts else None
            if isinstance(first, ast.Constant) and first.value == "docker":
                builders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert builders == []
