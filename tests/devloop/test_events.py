"""Skaffold's /v2/events lines -> typed updates (skaffold.md §5). Pure: no processes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devctl.devloop import events
from devctl.devloop import updates as u

IMAGES = {"csup96/tour-auth": "auth", "csup96/tour-tour": "tour"}


def line(body: dict[str, Any], envelope: bool = True) -> str:
    event = {"timestamp": "2026-01-01T00:00:00.000000Z", **body}
    return json.dumps({"result": event} if envelope else event)


def task(name: str, status: str, iteration: int = 1, err: str | None = None) -> dict[str, Any]:
    actionable = None if err is None else {"errCode": "DEPLOY_UNKNOWN", "message": err, "suggestions": []}
    return {
        "taskEvent": {
            "id": f"{name}-{iteration}",
            "task": name,
            "description": "",
            "iteration": iteration,
            "status": status,
            "actionableErr": actionable,
        }
    }


def build(step: str, status: str, image: str = "csup96/tour-auth", key: str = "task_id") -> dict[str, Any]:
    return {
        "buildSubtaskEvent": {
            "id": image,
            key: "Build-2",
            "artifact": image,
            "step": step,
            "status": status,
            "actionableErr": None,
            "hostPlatform": "linux/amd64",
            "targetPlatforms": "linux/amd64",
        }
    }


def check(
    status: str, message: str = "", resource: str = "deployment/auth", key: str = "task_id", err: str | None = None
) -> dict[str, Any]:
    actionable = None if err is None else {"errCode": "STATUSCHECK_IMAGE_PULL_ERR", "message": err, "suggestions": []}
    return {
        "statusCheckSubtaskEvent": {
            "id": resource,
            key: "Deploy-1",
            "resource": resource,
            "status": status,
            "message": message,
            "statusCode": "OK",
            "actionableErr": actionable,
        }
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (task("DevLoop", "InProgress"), [u.LoopState(u.RUNNING, 1)]),
        (task("DevLoop", "Succeeded", 3), [u.LoopState(u.LOOP_READY, 3)]),
        (
            task("DevLoop", "Failed", 1, "1/7 deployment(s) failed"),
            [u.LoopState(u.LOOP_FAILED, 1, "1/7 deployment(s) failed")],
        ),
        (task("Build", "InProgress"), [u.Phase("build", u.RUNNING)]),
        (task("StatusCheck", "Succeeded"), [u.Phase("status check", "done")]),
        (task("Deploy", "Failed"), [u.Phase("deploy", "failed")]),
        (build("Cache", "Failed"), [u.BuildState("auth", u.PENDING, iteration=2)]),
        (build("Cache", "Succeeded"), [u.BuildState("auth", u.CACHED, iteration=2)]),
        (build("Build", "InProgress"), [u.BuildState("auth", u.BUILDING, iteration=2)]),
        (build("Build", "Succeeded", "csup96/tour-tour"), [u.BuildState("tour", u.BUILT, iteration=2)]),
        (build("Build", "Canceled"), [u.BuildState("auth", u.CANCELED, iteration=2)]),
        (
            check("InProgress", "waiting for rollout to finish: 0 of 2 updated replicas are available..."),
            [
                u.DeployState(
                    "auth",
                    u.WAITING,
                    "waiting for rollout to finish: 0 of 2 updated replicas are available...",
                    0,
                    2,
                    1,
                )
            ],
        ),
        (check("Succeeded"), [u.DeployState("auth", u.READY, iteration=1)]),
        (
            check("Failed", "x", err="container auth is waiting to start: img can't be pulled"),
            [
                u.DeployState(
                    "auth", u.DEPLOY_FAILED, "container auth is waiting to start: img can't be pulled", iteration=1
                )
            ],
        ),
        (check("Succeeded", resource="pod/auth-123"), []),
        ({"skaffoldLogEvent": {"task_id": "Build-1", "subtask_id": "-1", "level": "STANDARD", "message": "x\n"}}, []),
        ({"metaEvent": {"entry": "Starting Skaffold", "metadata": {}}}, []),
    ],
)
def test_each_event_kind_becomes_its_update(body: dict[str, Any], expected: list[u.Update]) -> None:
    assert events.parse_line(line(body), IMAGES) == expected


def test_jsonpb_spelling_taskId_and_missing_envelope_are_read_like_protojson() -> None:
    # skaffold.md §5: the event-log file uses taskId and no {"result": ...} envelope.
    proto = events.parse_line(line(build("Build", "Succeeded", key="task_id")), IMAGES)
    jsonpb = events.parse_line(line(build("Build", "Succeeded", key="taskId"), envelope=False), IMAGES)
    assert proto == jsonpb == [u.BuildState("auth", u.BUILT, iteration=2)]
    assert events.parse_line(line(check("Succeeded", key="taskId")), IMAGES) == [
        u.DeployState("auth", u.READY, iteration=1)
    ]


def test_namespaced_resource_and_default_repo_image_map_to_the_service() -> None:
    # skaffold.md §3: `ns:deployment/web` outside default; §6: acme/web -> localhost:5001/acme_web.
    assert events.parse_line(line(check("Succeeded", resource="apps:deployment/tour")), IMAGES) == [
        u.DeployState("tour", u.READY, iteration=1)
    ]
    renamed = "localhost:5001/csup96_tour-auth:3f2a"
    assert events.parse_line(line(build("Build", "Succeeded", image=renamed)), IMAGES)[0].service == "auth"  # type: ignore[union-attr]


@pytest.mark.parametrize("raw", ["", "   ", "not json", "[1, 2]", '{"result": 3}', '{"result": {"unknownEvent": {}}}'])
def test_lines_that_are_not_events_give_nothing(raw: str) -> None:
    assert events.parse_line(raw, IMAGES) == []


def test_a_first_iteration_in_spec_order_ends_in_ready() -> None:
    # The order of skaffold.md §5 "First iteration": the last update is DevLoop-1 Succeeded.
    stream = [
        task("DevLoop", "InProgress"),
        task("Build", "InProgress"),
        build("Cache", "Failed"),
        build("Build", "InProgress"),
        build("Build", "Succeeded"),
        task("Build", "Succeeded"),
        task("Deploy", "InProgress"),
        check("InProgress", "waiting for rollout to finish: 0 of 1 updated replicas are available..."),
        check("Succeeded"),
        task("Deploy", "Succeeded"),
        task("DevLoop", "Succeeded"),
    ]
    got = [up for body in stream for up in events.parse_line(line(body), IMAGES)]
    assert got[0] == u.LoopState(u.RUNNING, 1)
    assert got[-1] == u.LoopState(u.LOOP_READY, 1)
    assert u.DeployState("auth", u.READY, iteration=1) in got
