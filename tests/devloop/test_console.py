"""Skaffold's console lines -> typed updates, the fallback without the event API (skaffold.md §3, §4)."""

from __future__ import annotations

import pytest

from devctl.devloop import console
from devctl.devloop import updates as u

IMAGES = {"csup96/tour-auth": "auth", "csup96/tour-tour": "tour"}
PUSH_FAILED = 'build [csup96/tour-auth] failed: could not push image "localhost:5001/csup96_tour-auth:1": refused'
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
        # The first iteration's last words when a build failed (build/scheduler.go).
        (
            "build [csup96/tour-auth] failed: docker build failure: exit 1",
            [
                u.BuildState("auth", u.BUILD_FAILED, "docker build failure: exit 1"),
                u.Failure("build [csup96/tour-auth] failed: docker build failure: exit 1"),
            ],
        ),
        # A later iteration that failed (runner/dev.go doDev): a warning, and Skaffold keeps running. logrus
        # joins the words and the error without a space.
        (
            'time="2026-01-01T00:00:00Z" level=warning msg="Skipping test and deploy due to build error:build '
            '[csup96/tour-auth] failed: could not push image \\"localhost:5001/csup96_tour-auth:1\\": refused" '
            "subtask=-1 task=DevLoop",
            [
                u.LoopState(u.LOOP_FAILED, 0, PUSH_FAILED),
                u.BuildState(
                    "auth", u.BUILD_FAILED, 'could not push image "localhost:5001/csup96_tour-auth:1": refused'
                ),
                u.Failure(PUSH_FAILED),
            ],
        ),
        (
            'time="2026-01-01T00:00:00Z" level=warning msg="Skipping deploy due to error:1/3 deployment(s) failed" '
            "subtask=-1 task=DevLoop",
            [u.LoopState(u.LOOP_FAILED, 0, "1/3 deployment(s) failed"), u.Failure("1/3 deployment(s) failed")],
        ),
        (
            "WARN[0042] Skipping deploy due to sync error:copying files: exit 126  subtask=-1 task=DevLoop",
            [u.LoopState(u.LOOP_FAILED, 0, "copying files: exit 126"), u.Failure("copying files: exit 126")],
        ),
        # skaffold/config/util.go logs the registry it found at info level: not an error.
        (
            'time="2026-01-01T00:00:00Z" level=info msg="using default-repo=localhost:5001 from cluster configmap" '
            "subtask=-1 task=DevLoop",
            [],
        ),
    ],
)
def test_stderr_lines(text: str, expected: list[u.Update]) -> None:
    assert console.parse_stderr(text, IMAGES) == expected
