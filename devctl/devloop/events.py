"""Skaffold's v2 event stream (``GET /v2/events``) -> typed updates. Pure: no I/O.

Facts from skaffold.md §5: each line is ``{"result": <Event>}`` (the event-log file has no envelope);
an Event is ``{timestamp, <one key>}``; HTTP uses protojson with proto field names (``task_id``), the
event-log file jsonpb (``taskId``), so both spellings are read. ``DevLoop-N Succeeded`` is the ready
signal, ``DevLoop-N Failed`` + ``actionableErr`` a failed iteration. Build subtasks name the artifact
image; status-check subtasks the resource (``deployment/web``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from devctl.devloop import updates as u

_ROLLOUT = re.compile(r"(\d+) of (\d+) updated replicas are available")

# Task names (skaffold.md §5 taskEvent) as the footer shows them.
_PHASES = {
    "Build": "build",
    "Test": "test",
    "Render": "render",
    "Deploy": "deploy",
    "StatusCheck": "status check",
    "PortForward": "port forward",
    "Exec": "exec",
    "Verify": "verify",
}
_STATUS = {"InProgress": u.RUNNING, "Succeeded": "done", "Failed": "failed"}


def parse_line(line: str, images: Mapping[str, str]) -> list[u.Update]:
    """One line of the stream; a line that is not an event (blank, garbage) gives no updates."""
    line = line.strip()
    if not line:
        return []
    try:
        doc = json.loads(line)
    except json.JSONDecodeError:
        return []
    if not isinstance(doc, dict):
        return []
    event = doc.get("result", doc)
    return parse_event(event, images) if isinstance(event, dict) else []


def parse_event(event: Mapping[str, Any], images: Mapping[str, str]) -> list[u.Update]:
    for key, handler in _HANDLERS.items():
        body = event.get(key)
        if isinstance(body, dict):
            return handler(body, images)
    return []


def _get(body: Mapping[str, Any], snake: str, camel: str) -> Any:
    value = body.get(snake)
    return body.get(camel) if value is None else value


def _iteration(task_id: Any) -> int:
    """``Deploy-3`` -> 3."""
    text = str(task_id or "")
    tail = text.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _error(body: Mapping[str, Any]) -> str:
    err = body.get("actionableErr")
    if isinstance(err, dict):
        return str(err.get("message") or "").strip()
    return ""


def _task(body: Mapping[str, Any], images: Mapping[str, str]) -> list[u.Update]:
    task = str(body.get("task") or "")
    status = str(body.get("status") or "")
    iteration = int(body.get("iteration") or 0) or _iteration(body.get("id"))
    if task == "DevLoop":
        if status == "InProgress":
            return [u.LoopState(u.RUNNING, iteration)]
        if status == "Succeeded":
            return [u.LoopState(u.LOOP_READY, iteration)]
        if status == "Failed":
            return [u.LoopState(u.LOOP_FAILED, iteration, _error(body))]
        return []
    phase = _PHASES.get(task)
    if phase is None or status not in _STATUS:
        return []
    return [u.Phase(phase, _STATUS[status])]


# buildSubtaskEvent: step Cache (a miss is Cache Failed) then Build.
_BUILD = {
    ("Cache", "InProgress"): u.CHECKING,
    ("Cache", "Failed"): u.PENDING,
    ("Cache", "Succeeded"): u.CACHED,
    ("Build", "InProgress"): u.BUILDING,
    ("Build", "Succeeded"): u.BUILT,
    ("Build", "Failed"): u.BUILD_FAILED,
    ("Build", "Canceled"): u.CANCELED,
}


def _build(body: Mapping[str, Any], images: Mapping[str, str]) -> list[u.Update]:
    image = str(body.get("artifact") or body.get("id") or "")
    state = _BUILD.get((str(body.get("step") or ""), str(body.get("status") or "")))
    if not image or state is None:
        return []
    detail = _error(body) if state == u.BUILD_FAILED else ""
    iteration = _iteration(_get(body, "task_id", "taskId"))
    return [u.BuildState(u.service_for_image(image, images), state, detail, iteration)]


def _status_check(body: Mapping[str, Any], images: Mapping[str, str]) -> list[u.Update]:
    name = u.deployment_name(str(body.get("resource") or ""))
    if name is None:
        return []
    status = str(body.get("status") or "")
    message = str(body.get("message") or "").strip()
    iteration = _iteration(_get(body, "task_id", "taskId"))
    if status == "Succeeded":
        return [u.DeployState(name, u.READY, iteration=iteration)]
    if status == "Failed":
        return [u.DeployState(name, u.DEPLOY_FAILED, _error(body) or message, iteration=iteration)]
    if status == "InProgress":
        m = _ROLLOUT.search(message)
        if m:
            ready, desired = int(m.group(1)), int(m.group(2))
            return [u.DeployState(name, u.WAITING, message, ready, desired, iteration)]
        return [u.DeployState(name, u.WAITING, message, iteration=iteration)]
    return []


def _app_log(body: Mapping[str, Any], images: Mapping[str, str]) -> list[u.Update]:
    # Only on /v2/applicationLogs (skaffold.md §5), accepted here for completeness.
    pod = str(body.get("podName") or "")
    container = str(body.get("containerName") or "")
    text = str(body.get("message") or "").rstrip("\n")
    return [u.AppLog(pod, container, text)] if pod or container else []


_HANDLERS = {
    "taskEvent": _task,
    "buildSubtaskEvent": _build,
    "statusCheckSubtaskEvent": _status_check,
    "applicationLogEvent": _app_log,
}
