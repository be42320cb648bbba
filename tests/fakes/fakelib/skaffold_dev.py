"""Fake `skaffold dev` (v2.24.0): dev-loop iterations on kind, the event API, Ctrl-C and cleanup.

What it reproduces, and from where (../shared/reference/skaffold.md; paths in GoogleContainerTools/skaffold):
- the flags of §2 (fakelib/skaffold.py); `--rpc-http-port`: the v2 HTTP API (fakelib/skaffold_api.py);
- where images go (§6, fakelib/skaffold_images.py): with the cluster's `kube-public/local-registry-hosting`
  ConfigMap and no `-d`, every image is renamed into that registry (`csup96/tour-auth` ->
  `localhost:5001/csup96_tour-auth`), pushed (a push fails the build when nothing publishes that host
  port), deployed as `<ref>@<digest>`, and not `kind load`ed; without it images are loaded into the node;
- an iteration's console lines (§3, piped: no colour, no space after a log prefix) and events (§5), in
  runner/dev.go's order: `DevLoop-N InProgress`, metaEvent, Build-N (build.go, "Build containers"),
  Render-N ("Render Manifests"), Deploy-N ("Deploy to cluster"; `Tags used in deployment:` first,
  deploy.go), StatusCheck-N ("Status Checking Deployed Artifacts"), then `DevLoop-N Succeeded` and only
  then `Watching for changes...` (trigger/fsnotify/trigger.go, after the task event). Deploying really
  applies the rendered rawYaml manifests into the fake cluster of `--kube-context` through the fake kubectl;
  the status check waits for their Deployments, and fails for a pod whose image cannot be pulled
  (`container X is waiting to start: IMAGE can't be pulled`, §3 "First-deploy failure");
- the first iteration failing (runner/dev.go Dev): cleanup, then stderr `build [IMG] failed: ...` or
  `N/M deployment(s) failed`, exit 1;
- later iterations (runner/dev.go doDev): a change to an artifact's dependency (fakelib/skaffold_config.py)
  that a `sync.manual` rule covers is synced (`Syncing K files for <tag>`, a sync-only loop); any other
  rebuilds the artifacts it belongs to and redeploys. A failed iteration logs the logrus warning
  `Skipping test and deploy due to build error:<err>` (resp. `Skipping deploy due to error:`) on stderr,
  ends `DevLoop-N Failed` with the error, prints `Watching for changes...` and keeps running;
- SIGINT/SIGTERM: graceful stop, `Cleaning up...` + the kubectl delete lines, deletes what it applied unless
  `--cleanup=false`, exit 0; later signals are swallowed (§4). A closed stdout is SIGPIPE, caught the same
  way (§4): the first write that meets it stops Skaffold as Ctrl-C does.
Enum names beyond §5 (`OK`, `STATUSCHECK_DEPLOYMENT_ROLLOUT_PENDING`, `BUILD_USER_ERROR`, `BUILD_UNKNOWN`)
and the ActionableErr fields are those of proto/enums/enums.proto and proto/v2/skaffold.proto.
Not reproduced: the image cache (every iteration builds its artifacts: `Not found. Building`), copying
synced files into containers, deleted files, and manifest or skaffold.yaml changes.

Knobs (FakeWorld.set_knob):
- skaffold_dev_delay: seconds per simulated step (default 0.05);
- skaffold_first_event_delay: seconds before the first event (config parsing, the ConfigMap lookup and the
  node listing on a busy machine); the event API answers nothing until then;
- skaffold_api_missing: `/v2/events` answers 404 (an API devctl cannot use: it must fall back to the console);
- skaffold_fail_deploy: a Deployment name whose status check fails (its image cannot be pulled);
- skaffold_fail_build: an artifact image (or a list) whose `docker build` fails, at every build of it;
- skaffold_ignore_sigint: signals are recorded but ignored (to test the kill after the timeout);
- skaffold_spawn_child: start a long-lived child in the same process group that ignores SIGINT/SIGTERM and
  is never stopped, like a stuck `kubectl port-forward` (#2690), to prove the caller's group kill leaves
  no orphan.

Its own log, `$DEVCTL_FAKE_STATE/skaffold-dev.jsonl` (one JSON object a line, appended): `start` (argv,
pid, pgid, the SKAFFOLD_* variables it received, the -c file's text, the cwd), `ready` (first iteration done),
`signal`, `child`, `api` (each HTTP request), `api_answered` (the first event went out to a request),
`iteration` (N, `sync` or `rebuild`, the images and files, `ok`), `cleanup`, `exit` (code).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from fakelib import flags, skaffold_api, skaffold_config, skaffold_images, state
from fakelib.skaffold_deploy import Deployer
from fakelib.skaffold_steps import Failed, Steps, actionable, task

WATCH_INTERVAL = 0.1  # seconds between polls of the artifacts' files (the real notify trigger reacts at once)


def record(event: str, **fields: Any) -> None:
    line = json.dumps({"event": event, "pid": os.getpid(), "time": time.time(), **fields}) + "\n"
    fd = os.open(os.path.join(state.state_dir(), "skaffold-dev.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


class Dev(Steps):
    """One `skaffold dev` run: the first iteration, then one iteration per change until stopped."""

    def __init__(self, a: flags.Parsed, bus: skaffold_api.Bus) -> None:
        super().__init__(a, bus)
        self.cfg: skaffold_config.Config | None = None
        self.tags: dict[str, str] = {}  # artifact image -> the tag its Deployments run
        self.deployer = Deployer(self)
        self.children: list[subprocess.Popen[bytes]] = []

    def run(self) -> int:
        if self.stop.wait(float(state.knob("skaffold_first_event_delay", 0) or 0)):
            return self.exit(0)  # stopped before the runner existed: nothing to clean up
        try:
            self.cfg = skaffold_config.load(self.a)
        except skaffold_config.ConfigError as err:
            sys.stderr.write(f"{err}\n")
            return self.exit(1)
        self.repo = skaffold_images.default_repo(self.a, self.context)
        if self.repo.source == "configmap":
            self.log("info", f"using default-repo={self.repo.host} from cluster configmap")
        self.begin(1)
        try:
            self.build(list(self.cfg.artifacts))
            if self.stop.is_set():
                return self.finish(0)
            self.deployer.deploy(self.cfg, self.tags)
        except Failed as failure:
            if failure.cancelled:
                return self.finish(0)
            self.bus.emit(task("DevLoop", "Failed", self.iteration, err=failure.err))
            self.deployer.cleanup()
            # runner/dev.go: "exiting dev mode because first ... failed: <inner>", of which ShowAIError
            # (pkg/skaffold/errors/errors.go) prints only <inner>.
            sys.stderr.write(failure.text + "\n")
            sys.stderr.flush()
            return self.exit(1)
        if state.knob("skaffold_spawn_child"):
            self.spawn_child()
        if self.a.get("port-forward", "user") != "off":  # §2: off with --port-forward=off
            self.task_id = "PortForward-1"
            self.bus.emit(task("PortForward", "InProgress", 1, "Port forward URLs"))
            self.bus.emit(task("PortForward", "Succeeded", 1))
        self.task_id = "DevLoop-1"
        self.say("Listing files to watch...")
        # runner/dev.go registers every artifact's files here, before the ready signal: a change made once
        # DevLoop-1 Succeeded is never missed.
        seen = self.snapshot()
        for art in self.cfg.artifacts:
            self.say(f" - {art.image}")
        self.say("Press Ctrl+C to exit")
        self.bus.emit(task("DevLoop", "Succeeded", 1))
        self.say("Watching for changes...")
        self.deployer.app_logs(self.tags)
        record("ready")
        self.watch(seen)
        return self.finish(0)

    def begin(self, iteration: int) -> None:
        # runner/dev.go: TaskInProgress(DevLoop) counts the iteration, then LogMetaEvent.
        self.iteration = iteration
        self.task_id = f"DevLoop-{iteration}"
        if iteration == 1:
            self.meta()
        self.bus.emit(task("DevLoop", "InProgress", iteration))
        self.meta()

    # -- later iterations (runner/dev.go doDev) ----------------------------------------------------------

    def snapshot(self) -> dict[str, dict[str, str]]:
        """image -> {file: digest} of every dependency of every artifact."""
        import hashlib

        assert self.cfg is not None
        out: dict[str, dict[str, str]] = {}
        for art in self.cfg.artifacts:
            files: dict[str, str] = {}
            for p in art.dependencies():
                with contextlib.suppress(OSError), open(p, "rb") as f:
                    files[p] = hashlib.sha256(f.read()).hexdigest()
            out[art.image] = files
        return out

    def watch(self, seen: dict[str, dict[str, str]]) -> None:
        """Until a stop is requested: each batch of changes since ``seen`` is one iteration."""
        while not self.stop.wait(WATCH_INTERVAL):
            if self.snapshot() == seen:
                continue
            if self.stop.wait(WATCH_INTERVAL):  # let a write in progress finish, like Skaffold's debounce
                return
            now = self.snapshot()
            changed = {img: sorted(p for p, d in files.items() if seen.get(img, {}).get(p) != d)
                       for img, files in now.items()}
            seen = now
            changed = {img: files for img, files in changed.items() if files}
            if changed:  # only deletions: not reported by this fake
                self.iterate(changed)

    def iterate(self, changed: dict[str, list[str]]) -> None:
        assert self.cfg is not None
        arts = {a.image: a for a in self.cfg.artifacts}
        sync = {img: files for img, files in changed.items() if all(arts[img].synced(p) for p in files)}
        rebuild = [arts[img] for img in changed if img not in sync]
        self.begin(self.iteration + 1)
        for img in [a.image for a in self.cfg.artifacts if a.image in sync]:
            self.say(f"Syncing {len(sync[img])} files for {self.tags.get(img, img)}")  # "files" also for 1
        kind, failed = ("rebuild" if rebuild else "sync"), None
        try:
            if rebuild:
                self.build(rebuild)
                self.deployer.deploy(self.cfg, self.tags)
        except Failed as failure:
            if failure.cancelled:
                return
            failed = failure
            self.log("warning", failure.skipping + failure.text)
            self.bus.emit(task("DevLoop", "Failed", self.iteration, err=failure.err))
        else:
            self.bus.emit(task("DevLoop", "Succeeded", self.iteration))
        self.task_id = f"DevLoop-{self.iteration}"
        self.say("Watching for changes...")
        record("iteration", iteration=self.iteration, kind=kind, images=sorted(changed), ok=failed is None,
               files=sorted({p for files in changed.values() for p in files}))

    # -- the end ---------------------------------------------------------------------------------------

    def spawn_child(self) -> None:
        # Deaf to SIGINT/SIGTERM, like a hung kubectl: only SIGKILL of the group ends it.
        code = "import signal, time; [signal.signal(s, signal.SIG_IGN) for s in (2, 15)]; time.sleep(600)"
        child = subprocess.Popen([sys.executable, "-c", code],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.children.append(child)
        record("child", child=child.pid)

    def finish(self, code: int) -> int:
        """After a signal: SIGINT/SIGTERM mean a graceful stop, exit 0 (§4)."""
        self.deployer.cleanup()
        return self.exit(code)

    def exit(self, code: int) -> int:
        record("exit", code=code)
        self.bus.close()
        time.sleep(0.05)  # let the API handlers send the last events and the final chunk
        return code

    def on_stdout_closed(self) -> None:
        record("signal", signal="SIGPIPE")


def kubectl(context: str, *args: str) -> tuple[int, str, str]:
    """The fake kubectl in-process (Skaffold runs kubectl; its output is what Skaffold prints)."""
    from fakelib import kubectl as fake_kubectl

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = fake_kubectl.main(["--context", context, *args])
    return code, out.getvalue(), err.getvalue()


def main(a: flags.Parsed, argv: list[str]) -> int:
    config_text = None
    if a.get("config") and os.path.isfile(a.get("config") or ""):
        with open(a.get("config") or "", encoding="utf-8") as f:
            config_text = f.read()
    record("start", argv=argv, pgid=os.getpgid(0), cwd=os.getcwd(), config_text=config_text,
           skaffold_env={k: v for k, v in os.environ.items() if k.startswith("SKAFFOLD_")})
    bus = skaffold_api.Bus()
    port = a.get("rpc-http-port")
    if port is not None:
        try:
            skaffold_api.serve(int(port), bus, record)
        except OSError as err:
            why = "bind: address already in use" if err.errno in (98, 48) else (err.strerror or str(err))
            sys.stderr.write(f"initializing api server: starting HTTP server: creating listener: listen tcp "
                             f"127.0.0.1:{port}: {why}\n")
            record("exit", code=1)
            return 1
    dev = Dev(a, bus)

    # The handler only writes a byte to a pipe; a thread sets dev.stop. Setting the Event in the handler
    # itself could deadlock: the handler runs on the main thread, which may be inside dev.stop.wait()
    # holding the Event's (non-reentrant) lock at that very moment.
    wake_r, wake_w = os.pipe()

    def relay() -> None:
        while os.read(wake_r, 1):
            dev.stop.set()  # later presses are swallowed (§4): the event is simply set again

    threading.Thread(target=relay, daemon=True).start()
    ignore = bool(state.knob("skaffold_ignore_sigint"))

    def on_signal(signum: int, frame: Any) -> None:
        record("signal", signal=signal.Signals(signum).name)
        if not ignore:
            os.write(wake_w, b"x")

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    return dev.run()


__all__ = ["Dev", "actionable", "kubectl", "main", "record"]
