"""Skaffold's console lines -> typed updates, the fallback without the event API (skaffold.md §3, §4)."""

from __future__ import annotations

import pytest

from devctl.devloop import console
from devctl.devloop import updates as u

IMAGES = {"csup96/tour-auth": "auth", "csup96/tour-tour": "tour"}
WHY = "container auth is waiting to start: csup96/tour-auth:0f3c can't be pulled"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Generating tags...", [u.LoopState(u.RUNNING), u.Phase("build")]),
        (" - csup96/tour-auth: Not found. Building", [u.BuildState("auth", u.PENDING)]),
        (" - csup96/tour-tour: Found Locally", [u.BuildState("tour", u.CACHED)]),
        (" - csup96/tour-tour: Found. Tagging", [u.BuildState("tour", u.CACHED)]),
        ("Building [csup96/tour-auth]...", [u.BuildState("auth", u.BUILDING)]),
        ("Build [csup96/tour-auth] succeeded", [u.BuildState("auth", u.BUILT)]),
        ("Starting deploy...", [u.Phase("deploy")]),
        (" - deployment.apps/auth created", [u.DeployState("auth", u.DEPLOYING)]),
        (" - deployment.apps/auth configured", [u.DeployState("auth", u.DEPLOYING)]),
        (" - service/auth created", []),
        ("Waiting for deployments to stabilize...", [u.Phase("status check")]),
        (
            " - deployment/auth: waiting for rollout to finish: 0 of 1 updated replicas are available...",
            [
                u.DeployState(
                    "auth", u.WAITING, "waiting for rollout to finish: 0 of 1 updated replicas are available...", 0, 1
                )
            ],
        ),
        (f" - deployment/auth: {WHY}", [u.DeployState("auth", u.WAITING, WHY)]),
        (" - deployment/auth is ready.", [u.DeployState("auth", u.READY)]),
        (" - deployment/tour is ready. [1/2 deployment(s) still pending]", [u.DeployState("tour", u.READY)]),
        (" - apps:deployment/tour is ready.", [u.DeployState("tour", u.READY)]),
        (f" - deployment/auth failed. Error: {WHY}.", [u.DeployState("auth", u.DEPLOY_FAILED, WHY)]),
        (f"    - pod/auth-7d4b9c-xk2p: {WHY}", []),
        ("Watching for changes...", [u.LoopState(u.LOOP_READY)]),
        ("Watching for changes every 1s...", [u.LoopState(u.LOOP_READY)]),
        ("Syncing 2 files for csup96/tour-auth:0f3c", [u.LoopState(u.RUNNING), u.Phase("sync")]),
        ("Cleaning up...", [u.Phase("cleanup")]),
        (' - deployment.apps "auth" deleted', []),
        ("Press Ctrl+C to exit", []),
        ("#5 [2/3] RUN npm ci", []),
    ],
)
def test_skaffold_lines(text: str, expected: list[u.Update]) -> None:
    assert console.parse_stdout(text, IMAGES) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Piped: no space after the prefix (skaffold.md §3 "Log prefix").
        (
            "[auth-7d4b9c-xk2p auth]Server listening on 3000",
            u.AppLog("auth-7d4b9c-xk2p", "auth", "Server listening on 3000"),
        ),
        # On a TTY one space follows; it is not part of the message.
        ("[auth-7d4b9c-xk2p auth] GET /api 200", u.AppLog("auth-7d4b9c-xk2p", "auth", "GET /api 200")),
        # Pod and container named alike: only the container.
        ("[web]listening", u.AppLog("web", "web", "listening")),
        ("[tour-5c9-q2 tour][info] started", u.AppLog("tour-5c9-q2", "tour", "[info] started")),
    ],
)
def test_application_log_lines(text: str, expected: u.AppLog) -> None:
    assert console.parse_stdout(text, IMAGES) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1/7 deployment(s) failed", [u.Failure("1/7 deployment(s) failed")]),
        ('time="2026-01-01T00:00:00Z" level=warning msg="port 3000 taken" subtask=-1 task=DevLoop', []),
        (
            'time="2026-01-01T00:00:00Z" level=error msg="deployer \\"x\\" failed" subtask=-1 task=DevLoop',
            [u.Failure('deployer "x" failed')],
        ),
        ("WARN[0005] something  subtask=-1 task=DevLoop", []),
        (
            "initializing api server: starting gRPC server: creating listener: listen tcp 127.0.0.1:5: bind: in use",
            [
                u.Failure(
                    "initializing api server: starting gRPC server: creating listener: listen tcp 127.0.0.1:5: "
                    "bind: in use"
                )
            ],
        ),
        ("", []),
    ],
)
def test_stderr_lines(text: str, expected: list[u.Update]) -> None:
    assert console.parse_stderr(text) == expected
