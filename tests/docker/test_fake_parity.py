"""The fake docker (tests/fakes/fakelib/docker.py) against the real engine: the same calls, in the same
order, must give the same exit codes, the same output (ids and versions aside) and the words devctl and
the other tests rely on. Texts that differ between engine or client versions are compared by those words
only; tests/docker/README.md lists them.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devctl.devloop.api import free_port
from tests.conftest import FAKES
from tests.docker.engine import LABEL, Engine
from tests.docker.images import Images


@dataclass(frozen=True)
class Call:
    argv: tuple[str, ...]
    code: int
    stdout: str | None = None  # after normalising ids and versions; None: not compared
    says: tuple[str, ...] = ()  # in stderr, from both
    same_stderr: bool = False  # stderr identical (normalised) on every engine and client version
    input: str | None = None


@dataclass(frozen=True)
class Case:
    name: str
    calls: tuple[Call, ...]
    daemon: str = "up"  # the fake's daemon; "down" runs the real client against a closed socket
    holds_port: bool = False  # a host process listens on {port} during the case


RUN = ("run", "-d", "--label", "{label}")
SLEEP = ("{image}", "sleep", "3600")
STATUS = ("inspect", "--type", "container", "-f", "{{.State.Status}}")
PS_KIND = ("ps", "-a", "--format", "{{.Names}}\t{{.State}}", "--filter")
PUBLISH = ("-p", "127.0.0.1:{port}:5000")
FILE = "/etc/x/localhost:5001/hosts.toml"
TOML = '[host."http://r:5000"]'
DAEMON = "Error response from daemon:"
NO_SUCH = "No such container: {a}"
DOWN = "Cannot connect to the Docker daemon at {closed}. Is the docker daemon running?"


def ok(*argv: str, stdout: str | None = "", same: bool = True, input: str | None = None) -> Call:
    return Call(argv, 0, stdout, (), same, input)


def fails(code: int, *argv: str, says: tuple[str, ...], stdout: str | None = "", same: bool = False) -> Call:
    return Call(argv, code, stdout, says, same)


CASES = [
    Case(
        "inspect --type container, missing",
        (fails(1, "inspect", "--type", "container", "{a}", says=(NO_SUCH,), stdout="[]"),),
    ),
    Case(
        "inspect, missing", (fails(1, "inspect", "{a}", says=("Error: No such object: {a}",), stdout="[]", same=True),)
    ),
    Case("inspect -f, missing", (fails(1, "inspect", "-f", "{{.State.Running}}", "{a}", says=("{a}",), same=True),)),
    Case("rm -f, missing", (ok("rm", "-f", "{a}", same=False),)),  # its stderr depends on the engine version
    Case("rm, missing", (fails(1, "rm", "{a}", says=(NO_SUCH,)),)),
    Case("stop, missing", (fails(1, "stop", "{a}", says=(f"{DAEMON} {NO_SUCH}",), same=True),)),
    Case(
        "start, missing",
        (fails(1, "start", "{a}", says=(f"{DAEMON} {NO_SUCH}", "Error: failed to start containers: {a}"), same=True),),
    ),
    Case(
        "run; start and rm -f of a running container",
        (
            ok(*RUN, "--name", "{a}", *SLEEP, stdout="<id>"),
            ok("start", "{a}", stdout="{a}"),
            ok("rm", "-f", "{a}", stdout="{a}"),
        ),
    ),
    Case(
        "run with a name in use",
        (
            ok(*RUN, "--name", "{a}", *SLEEP, stdout="<id>"),
            fails(
                125,
                *RUN,
                "--name",
                "{a}",
                *SLEEP,
                says=('Conflict. The container name "/{a}" is already in use by container "<id>"',),
            ),
        ),
    ),
    Case(
        "run with a port another container publishes",
        (
            ok(*RUN, "--name", "{a}", *PUBLISH, *SLEEP, stdout="<id>"),
            fails(
                125,
                *RUN,
                "--name",
                "{b}",
                *PUBLISH,
                *SLEEP,
                stdout="<id>",
                says=("Bind for 127.0.0.1:{port} failed: port is already allocated",),
            ),
            ok(*STATUS, "{b}", stdout="created"),
        ),
    ),
    Case(
        "run with a port a host process holds",
        (
            fails(
                125,
                *RUN,
                "--name",
                "{a}",
                *PUBLISH,
                *SLEEP,
                stdout="<id>",
                says=("127.0.0.1:{port}", "address already in use"),
            ),
            ok(*STATUS, "{a}", stdout="created"),
        ),
        holds_port=True,
    ),
    Case(
        "network create, connect twice, connect to a missing network",
        (
            ok("network", "create", "--label", "{label}", "{net}", stdout="<id>"),
            fails(
                1,
                "network",
                "create",
                "--label",
                "{label}",
                "{net}",
                says=(f"{DAEMON} network with name {{net}} already exists",),
                same=True,
            ),
            ok(*RUN, "--name", "{a}", *SLEEP, stdout="<id>"),
            ok("network", "connect", "{net}", "{a}"),
            fails(
                1,
                "network",
                "connect",
                "{net}",
                "{a}",
                says=(f"{DAEMON} endpoint with name {{a}} already exists in network {{net}}",),
                same=True,
            ),
            fails(
                1, "network", "connect", "{net}-x", "{a}", says=(f"{DAEMON} network {{net}}-x not found",), same=True
            ),
        ),
    ),
    Case(
        "context inspect; network inspect of a network and of a missing one (devctl.engine, devctl.netcheck)",
        (
            ok("context", "inspect", stdout=None, same=False),  # the Storage paths differ: not compared
            ok("network", "create", "--label", "{label}", "{net}", stdout="<id>"),
            ok("network", "inspect", "{net}", "--format", "{{json .IPAM.Config}}", stdout=None, same=False),
            # 28.x: "Error response from daemon: network X not found"; 20.10 client: "Error: No such network: X".
            fails(
                1, "network", "inspect", "{net}-x", "--format", "{{json .IPAM.Config}}", says=("{net}-x",), stdout=None
            ),
        ),
    ),
    Case(
        "exec: a file through stdin, read back; then a stopped container",
        (
            ok(*RUN, "--name", "{a}", *SLEEP, stdout="<id>"),
            ok("exec", "{a}", "mkdir", "-p", "/etc/x/localhost:5001"),
            ok("exec", "-i", "{a}", "cp", "/dev/stdin", FILE, input=TOML + "\n"),
            ok("exec", "{a}", "cat", FILE, stdout=TOML),
            ok("stop", "-t", "0", "{a}", stdout="{a}"),
            fails(1, "exec", "{a}", "true", says=(f"{DAEMON} Container <id> is not running",), same=True),
        ),
    ),
    Case(
        "ps -a by kind's label: name and state, newest first",
        (
            ok(*RUN, "--name", "{a}", "--label", "io.x-k8s.kind.cluster={a}", *SLEEP, stdout="<id>"),
            ok(*RUN, "--name", "{b}", "--label", "io.x-k8s.kind.cluster={a}", *SLEEP, stdout="<id>"),
            ok("stop", "-t", "0", "{a}", stdout="{a}"),
            ok(*PS_KIND, "label=io.x-k8s.kind.cluster={a}", stdout="{b}\trunning\n{a}\texited"),
            ok(*PS_KIND, "label=io.x-k8s.kind.cluster={b}"),
        ),
    ),
    Case(
        "versions",
        (
            ok("-v", stdout="Docker version <version>, build <build>"),
            ok("version", "--format", "{{.Client.Version}}", stdout="<version>"),
            ok("info", "--format", "{{json .ServerVersion}}", stdout='"<version>"'),
        ),
    ),
    Case(
        "a daemon that does not answer",
        (
            fails(1, "ps", "-a", says=(DOWN,), same=True),
            fails(1, "version", "--format", "{{.Client.Version}}", says=(DOWN,), stdout="<version>", same=True),
        ),
        daemon="down",
    ),
]


def normalise(text: str) -> str:
    text = re.sub(r"\b[0-9a-f]{64}\b", "<id>", text)
    text = re.sub(r"(?<![\d.])\d+\.\d+\.\d+(\+[\w.-]+)?(?![\d.])", "<version>", text)  # not an address
    text = re.sub(r"build [0-9a-f]{7}\b", "build <build>", text)
    return text.strip()


def fake_daemon(state_dir: Path, daemon: str) -> None:
    """A fresh fake world whose daemon is up, down or denies this user."""
    world = {"docker": {"daemon": daemon, "containers": {}, "networks": ["bridge", "host", "none"], "images": []}}
    (state_dir / "state.json").write_text(json.dumps(world))


@pytest.fixture
def closed_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = Path(tmp_path_factory.mktemp("sock")) / "d.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    yield f"unix://{path}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_fake_answers_like_the_engine(
    case: Case, engine: Engine, images: Images, tmp_path: Path, closed_socket: str
) -> None:
    values = {
        "a": engine.name("a"),
        "b": engine.name("b"),
        "net": engine.name("net"),
        "port": str(free_port()),
        "label": LABEL,
        "image": images.busybox,
        "closed": closed_socket,
    }

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text

    fake_state = tmp_path / "fake"
    fake_state.mkdir()
    fake_daemon(fake_state, case.daemon)
    fake_env = {**os.environ, "DEVCTL_FAKE_STATE": str(fake_state), "DEVCTL_FAKE_PYTHON": sys.executable}
    real_env = dict(os.environ)
    if case.daemon == "down":
        real_env["DOCKER_HOST"] = fake_env["DOCKER_HOST"] = closed_socket

    holder = socket.socket()
    if case.holds_port:
        holder.bind(("127.0.0.1", int(values["port"])))
        holder.listen()
    argvs = [[fill(a) for a in call.argv] for call in case.calls]
    try:
        # All real calls first, then all fake ones: the fake really binds the ports it publishes, and must
        # not find the real containers' ports taken.
        try:
            real = [engine.call(*a, input=c.input, env=real_env) for a, c in zip(argvs, case.calls, strict=True)]
        finally:
            engine.call("rm", "-f", values["a"], values["b"])
            engine.call("network", "rm", values["net"])
        fake_docker = str(FAKES / "docker")
        calls = zip(argvs, case.calls, strict=True)
        fake = [engine.call(*a, input=c.input, env=fake_env, docker=fake_docker) for a, c in calls]
    finally:
        holder.close()

    for argv, call, r, f in zip(argvs, case.calls, real, fake, strict=True):
        where = f"docker {' '.join(argv)}\nreal: {r}\nfake: {f}"
        assert r.returncode == f.returncode == call.code, where
        if call.stdout is not None:
            assert normalise(r.stdout) == normalise(f.stdout) == fill(call.stdout), where
        for words in call.says:
            assert fill(words) in normalise(r.stderr) and fill(words) in normalise(f.stderr), where
        if call.same_stderr:
            assert normalise(r.stderr) == normalise(f.stderr), where


def test_the_permission_denied_text_is_the_engines(engine: Engine, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("runs docker as `nobody`, which needs root")
    import pwd

    nobody = pwd.getpwnam("nobody")
    real = subprocess.run(
        [engine.docker, "ps", "-a"], user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[],
        capture_output=True, text=True, check=False, env={**os.environ, "HOME": "/nonexistent"},
    )  # fmt: skip
    fake_daemon(tmp_path, "denied")
    fake_env = {**os.environ, "DEVCTL_FAKE_STATE": str(tmp_path), "DEVCTL_FAKE_PYTHON": sys.executable}
    fake = engine.call("ps", "-a", env=fake_env, docker=str(FAKES / "docker"))
    api = re.compile(r"/v1\.\d+/")  # the API version each client asks for
    assert real.returncode == fake.returncode == 1
    assert "permission denied while trying to connect to the Docker daemon socket" in real.stderr
    assert api.sub("/v1.x/", real.stderr) == api.sub("/v1.x/", fake.stderr)
