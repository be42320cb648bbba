"""What every phase of the fake `skaffold dev` shares: its output (each stdout write is also a
skaffoldLogEvent, skaffold.md §5), its logrus lines, its events, and the build phase.

Build (paths in GoogleContainerTools/skaffold): runner/build.go (`Build-N`, "Build containers"),
deploy/util/util.go (`Generating tags...`, ` - IMG -> TAG`), build/cache/retrieve.go (`Checking cache...`,
` - IMG: Not found. Building`), build/local/local.go (`Found [CTX] context, using local docker daemon.` on a
local cluster), build/scheduler.go (`Building [IMG]...`, `Target platforms: [...]`, `Build [IMG] succeeded`;
a failure returns `build [IMG] failed: <err>`; with one build at a time, the default `local.concurrency`
of 1, no line is printed for it and the builds not yet done are cancelled), docker/image.go (the push:
`The push refers to repository [...]`, then `TAG: digest: sha256:... size: N` from Docker's stream; a failed
`docker build` is `docker build failure: <Docker's error>`, BUILD_USER_ERROR, build/docker/errors.go).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from typing import Any

from fakelib import flags, skaffold_api, skaffold_config, skaffold_images, state

LEVELS = ("trace", "debug", "info", "warning", "error", "fatal", "panic")


class Failed(Exception):
    """An iteration that failed: ``text`` is Skaffold's error, ``err`` the events' ActionableErr."""

    def __init__(self, text: str, err: dict[str, Any] | None = None, *, skipping: str = "Skipping deploy due to "
                 "error:", cancelled: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.err = err
        self.skipping = skipping  # runner/dev.go doDev's warning for a later iteration
        self.cancelled = cancelled  # a stop was requested: no failure to report


def actionable(code: str, message: str, suggestion: str | None = None) -> dict[str, Any]:
    suggestions = [{"suggestionCode": "FIX_USER_BUILD_ERR", "action": suggestion}] if suggestion else []
    return {"errCode": code, "message": message, "suggestions": suggestions}


def task(name: str, status: str, iteration: int, description: str = "",
         err: dict[str, Any] | None = None) -> dict[str, Any]:
    # event/v2/task.go: only TaskInProgress carries a description (runner/*.go pass them).
    return {"taskEvent": {"id": f"{name}-{iteration}", "task": name, "description": description,
                          "iteration": iteration, "status": status, "actionableErr": err}}


class Steps:
    def __init__(self, a: flags.Parsed, bus: skaffold_api.Bus) -> None:
        self.a = a
        self.bus = bus
        self.stop = threading.Event()
        self.delay = float(state.knob("skaffold_dev_delay", 0.05) or 0)
        self.context = a.get("kube-context") or state.current_context()
        self.iteration = 0
        self.task_id = "DevLoop-1"
        self.repo = skaffold_images.Repo(None, "", push=False, load=True)
        self.tags: dict[str, str] = {}
        self.stdout_closed = False  # the reader of stdout went away (SIGPIPE, §4)

    # -- output ------------------------------------------------------------------------------------------

    def say(self, line: str) -> None:
        self.write(line + "\n")
        self.bus.emit({"skaffoldLogEvent": {"task_id": self.task_id, "subtask_id": "-1", "level": "STANDARD",
                                            "message": line + "\n"}})

    def write(self, text: str) -> None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            # §4: Skaffold catches SIGPIPE. Its writes to the closed stdout then fail quietly, and the broken
            # pipe stops it like Ctrl-C: the cleanup still runs (and writes nowhere), and it exits 0.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # what Python still buffers is dropped, never raised again
            os.close(devnull)
            if not self.stdout_closed:
                self.stdout_closed = True
                self.on_stdout_closed()
                self.stop.set()

    def on_stdout_closed(self) -> None:
        pass

    def log(self, level: str, msg: str) -> None:
        """A logrus line on stderr, as skaffold's TextFormatter writes it to a pipe (§3), when -v lets it."""
        wanted = (self.a.get("verbosity") or "warning").lower()
        wanted = {"warn": "warning"}.get(wanted, wanted)
        if LEVELS.index(level) < LEVELS.index(wanted if wanted in LEVELS else "warning"):
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        quoted = msg.replace("\\", "\\\\").replace('"', '\\"')
        sys.stderr.write(f'time="{stamp}" level={level} msg="{quoted}" subtask=-1 task=DevLoop\n')
        sys.stderr.flush()

    def pause(self, units: float = 1.0) -> bool:
        """Sleep; True when a stop was requested (the caller then stops and cleans up)."""
        return self.stop.wait(self.delay * units)

    def meta(self) -> None:
        self.bus.emit({"metaEvent": {"entry": "Starting Skaffold: {Version:v2.24.0 ConfigVersion:skaffold/v4beta14}",
                                     "metadata": {"build": {"artifacts": [], "type": "LOCAL", "additional": {}},
                                                  "deploy": {"deployers": [{"type": "KUBECTL", "count": 1}],
                                                             "cluster": "OTHER"},
                                                  "test": None, "runID": hashlib.sha1(str(os.getpid()).encode())
                                                  .hexdigest()[:8], "render": None, "additional": {}}}})

    # -- build -----------------------------------------------------------------------------------------

    def build_event(self, img: str, step: str, status: str, err: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"buildSubtaskEvent": {"id": img, "task_id": f"Build-{self.iteration}", "artifact": img,
                                      "step": step, "status": status, "actionableErr": err,
                                      "hostPlatform": "linux/amd64", "targetPlatforms": "linux/amd64"}}

    def build(self, artifacts: list[skaffold_config.Artifact]) -> None:
        """Build (and push, with a default repo) ``artifacts``; updates self.tags; raises Failed."""
        n = self.iteration
        self.task_id = f"Build-{n}"
        self.bus.emit(task("Build", "InProgress", n, "Build containers"))
        names = {a.image: skaffold_images.image_name(a.image, self.repo.host) for a in artifacts}
        tags = {a.image: f"{names[a.image]}:{skaffold_images.tag_for(a)}" for a in artifacts}
        self.say("Generating tags...")
        for a in artifacts:
            self.say(f" - {a.image} -> {tags[a.image]}")
        self.say("Checking cache...")
        for a in artifacts:
            self.bus.emit(self.build_event(a.image, "Cache", "InProgress"))
            self.say(f" - {a.image}: Not found. Building")
            self.bus.emit(self.build_event(a.image, "Cache", "Failed"))  # a cache miss is Cache Failed (§5)
        self.say("Starting build...")
        if skaffold_images.is_local(self.context):
            self.say(f"Found [{self.context}] context, using local docker daemon.")
        for i, a in enumerate(artifacts):
            try:
                self.tags[a.image] = self.build_one(a, tags[a.image])
            except Failed as failure:
                for rest in artifacts[i + 1:]:
                    self.bus.emit(self.build_event(rest.image, "Build", "Canceled"))
                if not failure.cancelled:
                    self.bus.emit(task("Build", "Failed", n, err=failure.err))
                    self.bus.emit({"skaffoldLogEvent": {"task_id": f"Build-{n}", "subtask_id": "-1",
                                                        "level": "STANDARD", "message": failure.text + "\n"}})
                raise
        self.bus.emit(task("Build", "Succeeded", n))

    def build_one(self, a: skaffold_config.Artifact, tag: str) -> str:
        self.bus.emit(self.build_event(a.image, "Build", "InProgress"))
        self.say(f"Building [{a.image}]...")
        self.say("Target platforms: [linux/amd64]")
        if self.pause():
            self.bus.emit(self.build_event(a.image, "Build", "Canceled"))
            raise Failed("", cancelled=True)
        failing = state.knob("skaffold_fail_build") or []
        if a.image in ([failing] if isinstance(failing, str) else failing):
            inner = "docker build failure: The command '/bin/sh -c exit 1' returned a non-zero code: 1"
            self.say(f"Step 1/1 : RUN exit 1\n ---> Running in {hashlib.sha1(a.image.encode()).hexdigest()[:12]}")
            self.fail_build(a.image, inner, "BUILD_USER_ERROR", "Please fix the Dockerfile and try again.")
        final = tag
        if self.repo.push:
            self.say(f"The push refers to repository [{tag.rsplit(':', 1)[0]}]")
            try:
                digest = skaffold_images.push(tag)
            except skaffold_images.PushError as err:
                self.fail_build(a.image, str(err), "BUILD_UNKNOWN", None)
            self.say(f"{tag.rsplit(':', 1)[1]}: digest: {digest} size: 528")
            final = f"{tag}@{digest}"  # build.TagWithDigest
        self.say(f"Build [{a.image}] succeeded")
        self.bus.emit(self.build_event(a.image, "Build", "Succeeded"))
        return final

    def fail_build(self, image: str, inner: str, code: str, suggestion: str | None) -> None:
        self.bus.emit(self.build_event(image, "Build", "Failed", actionable(code, inner, suggestion)))
        text = f"build [{image}] failed: {inner}"
        raise Failed(text, actionable(code, text, suggestion), skipping="Skipping test and deploy due to build error:")
