"""devctl.pod_reasons: why a service is not ready, in one line, from the objects the API returns.

The pod objects below have the shapes of the Kubernetes API reference (Pod v1, PodStatus: `phase`,
`conditions[]` {type, status, reason, message}, `containerStatuses[]` {name, image, ready, restartCount,
state, lastState} with `waiting` {reason, message} / `running` {startedAt} / `terminated` {exitCode,
reason}); the messages are the kubelet's and the scheduler's (tests/fakes/fakelib/sim_pods.py cites them).
"""

from __future__ import annotations

from typing import Any

import pytest

from devctl import pod_reasons as pr

IMAGE = "localhost:5001/csup96_tour-auth:3f2a"


def pod(
    phase: str = "Running",
    state: dict[str, Any] | None = None,
    last: dict[str, Any] | None = None,
    *,
    ready: bool = False,
    conditions: list[dict[str, Any]] | None = None,
    name: str = "auth-7d9c5b6f4-x2x9q",
    created: str = "2026-01-01T10:00:00Z",
    limit: str = "256Mi",
    request: str = "64Mi",
    node: str | None = "tour-control-plane",
    statuses: bool = True,
) -> dict[str, Any]:
    cs: dict[str, Any] = {"name": "auth", "image": IMAGE, "ready": ready, "restartCount": 5 if last else 0,
                          "state": state or {"running": {"startedAt": created}}}  # fmt: skip
    if last:
        cs["lastState"] = last
    spec: dict[str, Any] = {"containers": [{"name": "auth", "image": IMAGE,
                                            "resources": {"requests": {"memory": request},
                                                          "limits": {"memory": limit}}}]}  # fmt: skip
    if node:
        spec["nodeName"] = node
    return {
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "auth"}, "creationTimestamp": created},
        "spec": spec,
        "status": {"phase": phase, "conditions": conditions or [], "containerStatuses": [cs] if statuses else []},
    }


def waiting(reason: str, message: str = "") -> dict[str, Any]:
    return {"waiting": {"reason": reason, "message": message} if message else {"reason": reason}}


def terminated(code: int, reason: str) -> dict[str, Any]:
    return {"terminated": {"exitCode": code, "reason": reason, "startedAt": "2026-01-01T10:00:00Z",
                           "finishedAt": "2026-01-01T10:00:05Z"}}  # fmt: skip


BACKOFF = "back-off 2m40s restarting failed container=auth pod=auth-7d9c5b6f4-x2x9q_default(4b0e6a1c)"
UNSCHEDULABLE = {
    "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
    "message": "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No "
               "preemption victims found for incoming pod.",
}  # fmt: skip
NODE = {"kind": "Node", "metadata": {"name": "tour-control-plane"},
        "status": {"allocatable": {"cpu": "4", "memory": "3969436Ki"}}}  # fmt: skip
UNHEALTHY = {
    "kind": "Event", "type": "Warning", "reason": "Unhealthy", "lastTimestamp": "2026-01-01T10:01:00Z",
    "involvedObject": {"kind": "Pod", "name": "auth-7d9c5b6f4-x2x9q", "fieldPath": "spec.containers{auth}"},
    "message": "Readiness probe failed: dial tcp 10.244.0.9:3000: connect: connection refused",
}  # fmt: skip


@pytest.mark.parametrize(
    ("pods", "extras", "expected"),
    [
        pytest.param([pod(state=waiting("CrashLoopBackOff", BACKOFF), last=terminated(1, "Error"))], pr.Extras(),
                     "CrashLoopBackOff: exit code 1 (Error)", id="crash-loop"),
        pytest.param([pod(state=waiting("CrashLoopBackOff", BACKOFF), last=terminated(1, "Error"))],
                     pr.Extras(last_lines={("auth-7d9c5b6f4-x2x9q", "auth"): "Error: connect ECONNREFUSED 10.96.0.5"}),
                     "CrashLoopBackOff: exit code 1 (Error); last log: Error: connect ECONNREFUSED 10.96.0.5",
                     id="crash-loop-with-its-last-log-line"),
        pytest.param([pod(state=waiting("CrashLoopBackOff", BACKOFF), last=terminated(137, "OOMKilled"))], pr.Extras(),
                     "CrashLoopBackOff: OOMKilled at the memory limit 256Mi (exit code 137)", id="oom-killed"),
        pytest.param([pod(last=terminated(137, "OOMKilled"), limit="320Mi")], pr.Extras(),
                     "last run: OOMKilled at the memory limit 320Mi (exit code 137)", id="restarted-after-oom"),
        pytest.param([pod("Pending", waiting("ImagePullBackOff", f'Back-off pulling image "{IMAGE}"'))], pr.Extras(),
                     f"ImagePullBackOff: image {IMAGE}", id="image-pull-back-off"),
        pytest.param([pod("Pending", waiting("ErrImagePull", f'rpc error: code = NotFound desc = failed to pull and '
                                                             f'unpack image "{IMAGE}": not found'))], pr.Extras(),
                     f'ErrImagePull: image {IMAGE}: rpc error: code = NotFound desc = failed to pull and unpack image '
                     f'"{IMAGE}": not found', id="err-image-pull"),
        pytest.param([pod("Pending", waiting("CreateContainerConfigError",
                                             "couldn't find key JWT_ACCESS_SECRET in Secret default/tour-secrets"))],
                     pr.Extras(),
                     "CreateContainerConfigError: couldn't find key JWT_ACCESS_SECRET in Secret default/tour-secrets",
                     id="missing-secret-key"),
        pytest.param([pod("Pending", conditions=[UNSCHEDULABLE], node=None, statuses=False, request="128Mi")],
                     pr.Extras(),
                     f"Unschedulable: {UNSCHEDULABLE['message']} (the pod requests 128Mi of memory; node "
                     "tour-control-plane has 3.8Gi allocatable, 3.5Gi of it requested)", id="insufficient-memory"),
        pytest.param([pod()], pr.Extras(events=(UNHEALTHY,)),
                     "not ready: Readiness probe failed: dial tcp 10.244.0.9:3000: connect: connection refused",
                     id="readiness-probe"),
        pytest.param([pod("Pending", waiting("ContainerCreating"))], pr.Extras(), "starting (ContainerCreating)",
                     id="still-starting"),
        pytest.param([pod()], pr.Extras(), None, id="running-and-nothing-says-why"),
        pytest.param([pod(name="auth-old", created="2026-01-01T09:00:00Z", state=waiting("CrashLoopBackOff", BACKOFF),
                          last=terminated(2, "Error")),
                      pod(name="auth-new", created="2026-01-01T11:00:00Z", state=waiting("CrashLoopBackOff", BACKOFF),
                          last=terminated(3, "Error"))], pr.Extras(),
                     "CrashLoopBackOff: exit code 3 (Error)", id="the-newest-pod-speaks"),
        pytest.param([pod(state=waiting("CrashLoopBackOff", BACKOFF), last=terminated(1, "Error"))],
                     pr.Extras(events=(UNHEALTHY,)), "CrashLoopBackOff: exit code 1 (Error)",
                     id="a-waiting-container-comes-before-a-probe"),
    ],
)
def test_the_reason_is_the_first_that_applies(pods: list[dict[str, Any]], extras: pr.Extras,
                                              expected: str | None) -> None:
    # The node already runs 28 pods asking 128Mi each (3.5Gi), besides the one that waits for room.
    others = [pod(name=f"other-{i}", request="128Mi") for i in range(28)]
    assert pr.reason(pods, [NODE], others + pods, extras) == expected


def test_the_previous_log_is_read_only_for_the_crashed_container_the_reason_names() -> None:
    crashed = pod(state=waiting("CrashLoopBackOff", BACKOFF), last=terminated(1, "Error"))
    assert pr.log_target([crashed]) == ("auth-7d9c5b6f4-x2x9q", "auth")
    older = pod(name="auth-old", created="2026-01-01T09:00:00Z", state=waiting("CrashLoopBackOff", BACKOFF),
                last=terminated(1, "Error"))  # fmt: skip
    assert pr.log_target([older, crashed]) == ("auth-7d9c5b6f4-x2x9q", "auth")  # one read: the newest pod's
    assert pr.log_target([pod("Pending", waiting("ImagePullBackOff"))]) is None  # it never ran
    assert pr.log_target([pod()]) is None


def test_events_are_read_only_when_a_container_runs_unready_and_nothing_else_says_why() -> None:
    assert pr.needs_events([pod()])
    assert not pr.needs_events([pod(ready=True)])
    assert not pr.needs_events([pod("Pending", waiting("ImagePullBackOff"))])
    assert not pr.needs_events([pod(last=terminated(137, "OOMKilled"))])  # its last run says it


@pytest.mark.parametrize(("quantity", "n", "text"), [("128Mi", 2**27, "128Mi"), ("3969436Ki", 3969436 * 1024, "3.8Gi"),
                                                      ("1G", 10**9, "953.7Mi"), ("512", 512, "512"), ("x", None, "")])
def test_memory_quantities(quantity: str, n: int | None, text: str) -> None:
    assert pr.memory_bytes(quantity) == n
    if n is not None:
        assert pr.memory_text(n) == text
