"""The fake kubectl's answers where they depend on the situation (docker-kubectl.md §3, kubectl v1.32.4 run
on this machine): which text a missing context gives, what an unreachable API prints, `logs -l` with no pod.
Where this machine has a real kubectl the fake is compared with it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import FakeWorld
from tests.fidelity.conftest import fake, real, run_real
from tests.stack_world import create_cluster

IN_CONFIGURATION = "Error in configuration: context was not found for specified context: nope\n"
DOES_NOT_EXIST = 'error: context "nope" does not exist\n'

MISSING_CONTEXT = [
    (["get", "pods", "-A"], IN_CONFIGURATION),
    (["get", "pods", "-n", "default"], DOES_NOT_EXIST),
    (["get", "--raw", "/readyz"], DOES_NOT_EXIST),
    (["rollout", "status", "deployment/x"], IN_CONFIGURATION),
    (["-n", "x", "rollout", "status", "deployment/x", "--timeout=1s"], DOES_NOT_EXIST),
    (["logs", "-l", "app=x"], IN_CONFIGURATION),
    (["logs", "-n", "default", "-l", "app=x"], DOES_NOT_EXIST),
    (["delete", "cm", "x"], IN_CONFIGURATION),
    (["apply", "-f", "-"], DOES_NOT_EXIST),
    (["create", "-f", "-"], DOES_NOT_EXIST),
    (["wait", "--for=condition=Ready", "pods", "-l", "a=b"], DOES_NOT_EXIST),
]


@pytest.mark.parametrize(("argv", "text"), MISSING_CONTEXT, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_a_missing_context_is_said_as_kubectl_says_it_for_that_command(
    fake_tools: FakeWorld, argv: list[str], text: str
) -> None:
    got = fake("kubectl", "--context", "nope", *argv, input="")
    assert (got.returncode, got.stdout, got.stderr) == (1, "", text)
    kubectl = real("kubectl")
    if kubectl is not None:  # the same kubeconfig, the real client
        want = run_real(kubectl, "--context", "nope", *argv)
        assert (want.returncode, want.stderr) == (1, text), "the real kubectl says otherwise: fix the fake"


MEMCACHE = re.compile(
    r'^E\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ memcache\.go:265\] "Unhandled Error" err="couldn\'t get current server '
    r'API group list: Get \\"https://127\.0\.0\.1:\d+/api\?timeout=(\w+)\\": dial tcp 127\.0\.0\.1:\d+: connect: '
    r'connection refused"$'
)
REFUSED = re.compile(
    r"^The connection to the server 127\.0\.0\.1:\d+ was refused - did you specify the right host or port\?$"
)


@pytest.fixture
def stopped(fake_tools: FakeWorld) -> FakeWorld:
    create_cluster()
    fake_tools.stop_container("tour-control-plane")
    return fake_tools


@pytest.mark.parametrize(
    ("argv", "retries", "timeout"),
    [
        (["get", "pods", "-A", "-o", "json", "--request-timeout", "10s"], 5, "10s"),
        (["-n", "default", "rollout", "status", "deployment/x"], 4, "32s"),
        (["logs", "-n", "default", "-l", "app=x"], 4, "32s"),
        (["get", "--raw", "/readyz"], 0, None),
    ],
)
def test_an_unreachable_api_prints_client_gos_retries_before_the_last_line(
    stopped: FakeWorld, argv: list[str], retries: int, timeout: str | None
) -> None:
    res = fake("kubectl", "--context", "kind-tour", *argv)
    lines = res.stderr.splitlines()
    assert res.returncode == 1 and res.stdout == ""
    assert REFUSED.match(lines[-1]), lines[-1]
    assert len(lines) == retries + 1
    for line in lines[:-1]:
        m = MEMCACHE.match(line)
        assert m and m.group(1) == timeout, line


def test_apply_to_an_unreachable_api_fails_downloading_the_openapi_schema(stopped: FakeWorld) -> None:
    res = fake("kubectl", "--context", "kind-tour", "apply", "-f", "-", input="{}")
    assert res.returncode == 1
    assert re.fullmatch(
        r'error: error validating "STDIN": error validating data: failed to download openapi: Get '
        r'"https://127\.0\.0\.1:(\d+)/openapi/v2\?timeout=32s": dial tcp 127\.0\.0\.1:\1: connect: connection '
        r"refused; if you choose to ignore these errors, turn validation off with --validate=false\n",
        res.stderr,
    ), res.stderr


def test_logs_of_a_selector_without_pods_says_so_on_stderr_and_exits_0(fake_tools: FakeWorld) -> None:
    create_cluster()
    res = fake("kubectl", "--context", "kind-tour", "logs", "-n", "default", "-l", "app=auth", "--all-containers")
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "No resources found in default namespace.\n")
