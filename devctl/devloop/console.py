"""Skaffold's console lines -> typed updates, for when the event API is not available. Pure.

Every pattern is a line of skaffold.md §3 (piped, no colour) or §4; nothing else is recognised. Lines
that start with ``[`` are application logs: ``[<pod> <container>]msg``, or ``[<container>]msg`` when
pod and container names are equal, with a space after ``]`` only on a TTY (§3 "Log prefix").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from devctl.devloop import updates as u

Images = Mapping[str, str]
Rule = tuple[re.Pattern[str], Callable[[re.Match[str], Images], list[u.Update]]]

_APP = re.compile(r"^\[([^\]\s]+)(?: ([^\]\s]+))?\] ?(.*)$")
# logrus on a pipe (§3): time="…" level=warning msg="…" subtask=-1 task=DevLoop
_LOGRUS = re.compile(r'^time="[^"]*" level=(\w+) msg="((?:[^"\\]|\\.)*)"')


def _build(state: str) -> Callable[[re.Match[str], Images], list[u.Update]]:
    return lambda m, images: [u.BuildState(u.service_for_image(m.group(1), images), state)]


def _deploy(state: str) -> Callable[[re.Match[str], Images], list[u.Update]]:
    def make(m: re.Match[str], images: Images) -> list[u.Update]:
        name = u.deployment_name(m.group(1))
        if name is None:
            return []
        detail = m.group(2).strip() if m.lastindex and m.lastindex >= 2 and m.group(2) else ""
        if state == u.DEPLOY_FAILED:
            detail = detail.removesuffix(".")
        return [u.DeployState(name, state, detail)]

    return make


def _rollout(m: re.Match[str], images: Images) -> list[u.Update]:
    name = u.deployment_name(m.group(1))
    if name is None:
        return []
    ready, desired = int(m.group(3)), int(m.group(4))
    return [u.DeployState(name, u.WAITING, m.group(2), ready, desired)]


def _applied(m: re.Match[str], images: Images) -> list[u.Update]:
    kind, name = m.group(1).lower(), m.group(2)
    if kind not in ("deployment.apps", "deployment"):
        return []
    return [u.DeployState(name, u.DEPLOYING)]


def _phase(name: str) -> Callable[[re.Match[str], Images], list[u.Update]]:
    return lambda m, images: [u.Phase(name)]


_RES = r"((?:[\w.-]+:)?deployment/[\w.-]+)"

_RULES: list[Rule] = [
    # A new iteration: the first line of a (re)build (§3 "rebuild": the block from `Generating tags...`).
    (re.compile(r"^Generating tags\.\.\.$"), lambda m, i: [u.LoopState(u.RUNNING), u.Phase("build")]),
    (re.compile(r"^Syncing \d+ files? for \S+"), lambda m, i: [u.LoopState(u.RUNNING), u.Phase("sync")]),
    (re.compile(r"^Watching for changes"), lambda m, i: [u.LoopState(u.LOOP_READY)]),
    (re.compile(r"^Cleaning up\.\.\.$"), _phase("cleanup")),
    (re.compile(r"^Starting deploy\.\.\.$"), _phase("deploy")),
    (re.compile(r"^Waiting for deployments to stabilize\.\.\.$"), _phase("status check")),
    (re.compile(r"^ - (\S+): Not found\. Building$"), _build(u.PENDING)),
    (re.compile(r"^ - (\S+): Found(?: Locally| Remotely|\. Tagging|\. Pushing)?$"), _build(u.CACHED)),
    (re.compile(r"^Building \[([^\]]+)\]\.\.\.$"), _build(u.BUILDING)),
    (re.compile(r"^Build \[([^\]]+)\] succeeded$"), _build(u.BUILT)),
    (re.compile(r"^ - ([\w.]+)/([\w.-]+) (?:created|configured|unchanged)$"), _applied),
    (re.compile(r"^ - " + _RES + r" is ready\.(?: \[.*\])?$"), _deploy(u.READY)),
    (re.compile(r"^ - " + _RES + r" failed\. Error: (.*)$"), _deploy(u.DEPLOY_FAILED)),
    (re.compile(r"^ - " + _RES + r": (waiting for rollout to finish: (\d+) of (\d+) updated replicas.*)$"), _rollout),
    (re.compile(r"^ - " + _RES + r": (.+)$"), _deploy(u.WAITING)),
]


def parse_stdout(line: str, images: Images) -> list[u.Update]:
    """One line Skaffold wrote to stdout (without its newline)."""
    line = line.rstrip("\r\n")
    if line.startswith("["):
        m = _APP.match(line)
        if m:
            pod, container = m.group(1), m.group(2) or m.group(1)
            return [u.AppLog(pod, container, m.group(3))]
    for pattern, make in _RULES:
        m = pattern.match(line)
        if m:
            return make(m, images)
    return []


# runner/dev.go doDev: a later iteration that failed logs a warning and Skaffold keeps running (§3 "Later
# iterations"); logrus joins the words and the error without a space ("...build error:build [x] failed: ...").
_SKIPPING = re.compile(r"^Skipping (?:test and deploy|deploy|render) due to (?:\w+ )?error:\s*(.*)$")
# build/scheduler.go: the build phase's error, as the first iteration prints it last and as the warning quotes it.
_BUILD_FAILED = re.compile(r"^build \[([^\]]+)\] failed: (.*)$")


def _failure(text: str, images: Images) -> list[u.Update]:
    m = _BUILD_FAILED.match(text)
    if m:
        return [u.BuildState(u.service_for_image(m.group(1), images), u.BUILD_FAILED, m.group(2)), u.Failure(text)]
    return [u.Failure(text)]


def parse_stderr(line: str, images: Images) -> list[u.Update]:
    """One line Skaffold wrote to stderr: logrus records (errors, and the warning that an iteration failed)
    and the final error text."""
    line = line.rstrip("\r\n")
    if not line.strip():
        return []
    m = _LOGRUS.match(line)
    if m:
        level, msg = m.group(1), m.group(2).replace('\\"', '"')
        skipped = _SKIPPING.match(msg)
        if skipped:
            return [u.LoopState(u.LOOP_FAILED, 0, skipped.group(1)), *_failure(skipped.group(1), images)]
        return _failure(msg, images) if level in ("error", "fatal", "panic") else []
    if re.match(r"^(WARN|INFO|DEBU|TRAC)\[\d+\]", line):  # logrus on a TTY (§3)
        skipped = _SKIPPING.match(re.sub(r"^WARN\[\d+\]\s*", "", line).split("  subtask=", 1)[0])
        if skipped:
            return [u.LoopState(u.LOOP_FAILED, 0, skipped.group(1)), *_failure(skipped.group(1), images)]
        return []
    if m2 := re.match(r"^(?:ERRO|FATA)\[\d+\]\s*(.*)$", line):
        return _failure(m2.group(1).strip(), images)
    return _failure(line.strip(), images)
