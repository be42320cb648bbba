"""`devctl shell SERVICE [COMMAND...]`: `kubectl exec -it` into the service's running container, pinned like every
call, with its exit code; one clear line, with the reason, when no pod of it runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, FakeWorld, run_cli
from tests.stack_world import create_cluster, run


@pytest.fixture
def stack(fake_tools: FakeWorld, repo_cwd: Path) -> FakeWorld:
    create_cluster()
    run("kubectl", "--context", "kind-tour", "apply", "-f", str(REPO / "k8s" / "infra"))
    run("kubectl", "--context", "kind-tour", "apply", "-f", str(REPO / "k8s" / "auth.yaml"))
    return fake_tools


def shell(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """A real devctl process, its stdin a pipe (so kubectl -t has no terminal, as in CI)."""
    return subprocess.run([sys.executable, "-m", "devctl", "shell", *args], cwd=REPO, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_a_shell_runs_in_the_running_container_and_its_exit_code_is_devctls(stack: FakeWorld) -> None:
    res = shell("auth", stdin="exit 3\n")
    assert res.returncode == 3, res.stderr
    # kubectl's own words: -t without a terminal, then the remote command's code.
    assert "Unable to use a TTY - input is not a terminal or the right kind of file" in res.stderr
    assert "command terminated with exit code 3" in res.stderr
    (argv,) = [a for a in stack.argvs("kubectl") if "exec" in a]
    assert argv[:4] == ["--context", "kind-tour", "exec", "-it"]
    assert argv[4].startswith("auth-") and argv[5:] == ["-n", "default", "-c", "auth", "--", "sh"]


def test_a_command_instead_of_the_shell(stack: FakeWorld) -> None:
    res = shell("nats", "--", "sh")  # the NATS Streaming image is FROM scratch: no shell in it
    assert res.returncode == 126
    assert 'exec: "sh": executable file not found in $PATH' in res.stdout + res.stderr
    assert shell("auth-mongo", "--", "mongosh", "--version").returncode == 1  # the fake's mongosh runs no such script


def test_no_running_pod_is_one_line_that_says_why(stack: FakeWorld) -> None:
    stack.set_knob("pod_failures", {"auth": "ImagePullBackOff"})
    res = run_cli("shell", "auth")
    assert res.exit_code == 1
    (line,) = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]
    assert line.startswith("ERROR: no running pod of auth: ImagePullBackOff: image csup96/tour-auth — ")
    assert "devctl status" in line
    assert not [a for a in stack.argvs("kubectl") if "exec" in a]


def test_a_service_that_is_not_deployed_has_no_pod(stack: FakeWorld) -> None:
    res = run_cli("shell", "booking")
    assert res.exit_code == 1
    assert "ERROR: no running pod of booking: it has no pod — " in res.stderr


def test_an_unknown_service_lists_the_known_ones(stack: FakeWorld) -> None:
    res = run_cli("shell", "mongo")
    assert res.exit_code == 2
    assert "unknown service 'mongo'" in res.stderr and "auth-mongo" in res.stderr
