"""The command lines the fakes accept, and how they refuse the rest (fakelib/flags.py; skaffold.md §4,
kind.md §2, docker-kubectl.md §3). A flag devctl passes that the real tool lacks must fail a test."""

from __future__ import annotations

import re

import pytest

from tests.conftest import FakeWorld
from tests.fidelity.conftest import fake, fakelib, real, run_real

flags = fakelib("flags")

SPEC = flags.spec("-n,--name= --retain -A,--all --port-forward? -v,--verbosity=")


@pytest.mark.parametrize(
    ("argv", "values", "bools", "args"),
    [
        (["--name", "x", "a"], {"name": ["x"]}, {}, ["a"]),
        (["--name=x"], {"name": ["x"]}, {}, []),
        (["-n", "x"], {"name": ["x"]}, {}, []),
        (["-nx"], {"name": ["x"]}, {}, []),
        (["-n=x"], {"name": ["x"]}, {}, []),
        (["-Av2"], {"verbosity": ["2"]}, {"all": True}, []),
        (["--retain=false", "b"], {}, {"retain": False}, ["b"]),
        (["--port-forward", "c"], {"port-forward": [""]}, {}, ["c"]),  # NoOptDefVal: the next word is an argument
        (["--port-forward=off"], {"port-forward": ["off"]}, {}, []),
        (["a", "--retain", "--", "--name", "-x"], {}, {"retain": True}, ["a", "--name", "-x"]),
        (["-", "-n", "a", "-n", "b"], {"name": ["a", "b"]}, {}, ["-"]),
    ],
)
def test_pflag_forms(argv: list[str], values: dict[str, list[str]], bools: dict[str, bool], args: list[str]) -> None:
    parsed = flags.parse(argv, SPEC)
    assert (parsed.values, parsed.bools, parsed.args) == (values, bools, args)


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--bogus"], "unknown flag: --bogus"),
        (["--bogus=1"], "unknown flag: --bogus"),
        (["-x"], "unknown shorthand flag: 'x' in -x"),
        (["-Ax"], "unknown shorthand flag: 'x' in -Ax"),
        (["--name"], "flag needs an argument: --name"),
        (["-n"], "flag needs an argument: 'n' in -n"),
        (
            ["--retain=yes"],
            'invalid argument "yes" for "--retain" flag: strconv.ParseBool: parsing "yes": invalid syntax',
        ),
        (["-A=2"], 'invalid argument "2" for "-A, --all" flag: strconv.ParseBool: parsing "2": invalid syntax'),
    ],
)
def test_pflag_errors(argv: list[str], error: str) -> None:
    with pytest.raises(flags.FlagError) as refused:
        flags.parse(argv, SPEC)
    assert str(refused.value) == error


def test_without_interspersed_flags_the_first_argument_ends_them() -> None:
    # `docker run IMAGE --rm`: what follows the image is the container's command line.
    parsed = flags.parse(["-d", "img", "--rm", "-x"], flags.spec("-d,--detach --rm"), interspersed=False)
    assert parsed.args == ["img", "--rm", "-x"] and parsed.bools == {"detach": True}


# -- each fake refuses as its tool does ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "argv", "code", "stderr"),
    [
        # skaffold.md §4: cobra's usage, then the error; exit 127.
        ("skaffold", ["dev", "--bogus"], 127, r"^Usage:\n  skaffold dev \[options\]\n.*\n\nunknown flag: --bogus\n$"),
        ("skaffold", ["build", "--port-forward"], 127, r"unknown flag: --port-forward\n$"),
        (
            "skaffold",
            ["dev", "--rpc-http-port", "x"],
            127,
            r'invalid argument "x" for "--rpc-http-port" flag: strconv.ParseInt: parsing "x": invalid syntax\n$',
        ),
        ("skaffold", ["dev", "extra"], 127, r'unknown command "extra" for "skaffold dev"\n$'),
        ("skaffold", ["bogus"], 127, r'^unknown command "bogus" for "skaffold"\n$'),
        # kind.md §2: `ERROR: <message>`, exit 1 for every error.
        ("kind", ["create", "cluster", "--bogus"], 1, r"^ERROR: unknown flag: --bogus\n$"),
        ("kind", ["get", "clusters", "-x"], 1, r"^ERROR: unknown shorthand flag: 'x' in -x\n$"),
        ("kind", ["bogus"], 1, r'^ERROR: unknown command "bogus" for "kind"\n$'),
        ("kind", ["get", "bogus"], 1, r"^ERROR: Subcommand is required\n$"),
        ("kind", ["get", "clusters", "extra"], 1, r'^ERROR: unknown command "extra" for "kind get clusters"\n$'),
        # docker-kubectl.md §3 (kubectl v1.32.4): cobra's text with kubectl's hint, exit 1.
        (
            "kubectl",
            ["get", "pods", "--bogus"],
            1,
            r"^Error: unknown flag: --bogus\nSee 'kubectl get --help' for usage.\n$",
        ),
        (
            "kubectl",
            ["logs", "-x"],
            1,
            r"^Error: unknown shorthand flag: 'x' in -x\nSee 'kubectl logs --help' for usage.\n$",
        ),
        ("kubectl", ["--bogus", "get", "pods"], 1, r"^Error: flags cannot be placed before plugin name: --bogus\n$"),
        ("kubectl", ["bogus"], 1, r'^Error: unknown command "bogus" for "kubectl"\n'),
        ("kubectl", ["rollout", "bogus"], 1, r"^error: unknown command \"bogus\"\nSee 'kubectl rollout -h' for help"),
        # Docker 28.2.2's client (run on this machine): the usage line and a pointer to --help; exit 125.
        (
            "docker",
            ["run", "--bogus", "x"],
            125,
            r"^unknown flag: --bogus\n\nUsage:  docker run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG...\]\n\n"
            r"Run 'docker run --help' for more information\n$",
        ),
        (
            "docker",
            ["bogus"],
            1,
            r"^docker: unknown command: docker bogus\n\nRun 'docker --help' for more information\n$",
        ),
        ("docker", ["network", "bogus"], 1, r"^docker: unknown command: docker network bogus\n"),
    ],
)
def test_each_fake_refuses_what_its_tool_refuses(
    fake_tools: FakeWorld, tool: str, argv: list[str], code: int, stderr: str
) -> None:
    res = fake(tool, *argv)
    assert res.returncode == code, res.stderr
    assert re.search(stderr, res.stderr, re.DOTALL), res.stderr
    assert res.stdout == ""


# -- against the real clients, where this machine has them --------------------------------------------------

KUBECTL_REFUSALS = [
    ["get", "pods", "--bogus"],
    ["get", "pods", "-x"],
    ["logs", "--bogus"],
    ["--bogus", "get", "pods"],
    ["rollout", "bogus"],
    ["config", "bogus"],
    ["apply", "-f"],
]


@pytest.mark.parametrize("argv", KUBECTL_REFUSALS, ids=" ".join)
def test_the_fake_kubectl_refuses_exactly_as_the_real_one(fake_tools: FakeWorld, argv: list[str]) -> None:
    kubectl = real("kubectl")
    if kubectl is None:
        pytest.skip("no real kubectl on PATH to compare with")
    want = run_real(kubectl, *argv)
    got = fake("kubectl", *argv)
    assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr)


DOCKER_REFUSALS = [
    ["run", "--bogus", "x"],
    ["ps", "--bogus"],
    ["inspect", "-x", "y"],
    ["exec", "--bogus", "c", "true"],
    ["network", "connect", "--bogus", "n", "c"],
    ["bogus"],
    ["run"],
]


@pytest.mark.parametrize("argv", DOCKER_REFUSALS, ids=" ".join)
def test_the_fake_docker_refuses_exactly_as_the_28_client(fake_tools: FakeWorld, argv: list[str]) -> None:
    docker = real("docker")
    if docker is None:
        pytest.skip("no real docker client on PATH to compare with")
    version = run_real(docker, "version", "--format", "{{.Client.Version}}").stdout.strip()
    if not version.startswith("28."):
        pytest.skip(f"the fake plays Docker 28's client; the docker on PATH is {version or 'unknown'}")
    want = run_real(docker, *argv)
    got = fake("docker", *argv)
    assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr)


def _help_flags(text: str) -> set[str]:
    """The long flag names a cobra `--help` lists (kubectl's `--name=default:` form, docker's `--name type`)."""
    return set(re.findall(r"^\s+(?:-\w, )?--([a-z0-9-]+)[= ]", text, re.MULTILINE)) - {"help"}


def test_the_fake_kubectl_declares_exactly_the_real_ones_flags(fake_tools: FakeWorld) -> None:
    kubectl = fakelib("kubectl_args")
    binary = real("kubectl")
    if binary is None:
        pytest.skip("no real kubectl on PATH to compare with")
    assert {f.name for f in kubectl.GLOBAL.flags} - {"help"} == _help_flags(run_real(binary, "options").stdout)
    for path, spec in kubectl.COMMANDS.items():
        declared = {f.name for f in spec.flags}
        assert declared == _help_flags(run_real(binary, *path, "--help").stdout), path


def test_the_fake_docker_declares_exactly_the_28_clients_flags(fake_tools: FakeWorld) -> None:
    docker = fakelib("docker")
    binary = real("docker")
    if binary is None or not run_real(binary, "version", "--format", "{{.Client.Version}}").stdout.startswith("28."):
        pytest.skip("no Docker 28 client on PATH to compare with")
    if run_real(binary, "info", "--format", "{{.OSType}}").stdout.strip() != "linux":
        # The client's --help hides the flags its engine does not support (Windows-only ones, newer API
        # versions; docker/cli cmd/docker/docker.go, hideUnsupportedFeatures): with no engine answering it
        # lists them all, and that is not what devctl's engines see.
        pytest.skip("no Linux Docker engine answers, so the client's --help also lists the flags it would hide")
    tables = [((cmd,), spec) for cmd, (spec, _) in docker.COMMANDS.items()]
    tables += [(("network", cmd), spec) for cmd, (spec, _) in docker.NETWORK.items()]
    for path, spec in tables:
        declared = {f.name for f in spec.flags} - {"help", "time"}  # --time: hidden alias of --timeout
        assert declared == _help_flags(run_real(binary, *path, "--help").stdout), path
