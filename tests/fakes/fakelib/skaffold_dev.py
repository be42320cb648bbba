"""Fake `skaffold dev` (v2.24.0): the first iteration on kind, its event API, Ctrl-C and cleanup.

What it reproduces, and from where (../shared/reference/skaffold.md):
- flags of §2; an unknown flag, a flag without its value or a bad number -> cobra usage + the error on
  stderr, exit 127 (§4);
- `--rpc-http-port`: the v2 HTTP API on 127.0.0.1 (§2, §5), started first; a busy port ->
  `initializing api server: starting gRPC server: creating listener: ...`, exit 1. `GET /v2/events`
  streams chunked newline-delimited `{"result": <Event>}`, replaying every event since start, then live,
  in protojson (`task_id`, camelCase elsewhere, empty fields present) (§5);
- the first iteration's console lines (§3, piped: no colour, no space after a log prefix) with the
  events of §5 in their order; `DevLoop-1 Succeeded` last = ready. Deploying really applies the
  rawYaml manifests (image names replaced by the built tags) into the fake cluster of `--kube-context`
  through the fake kubectl, so `kubectl get` sees them; the status check waits for the fake cluster's
  Deployments to be available;
- SIGINT/SIGTERM: graceful stop, `Cleaning up...` + the kubectl delete lines, deletes what it applied
  unless `--cleanup=false`, exit 0; later signals are swallowed (§4). A closed stdout is SIGPIPE, caught
  the same way (§4): the first write that meets it stops Skaffold as Ctrl-C does, and the cleanup's own
  lines go nowhere;
- a first-iteration deploy failure (§3 "First-deploy failure"): the status-check lines, cleanup,
  stderr `N/M deployment(s) failed`, exit 1;
- file sync after the first iteration (§3 "Later iterations", §5): it polls the files each artifact's
  `sync.manual` rules match (globs relative to the artifact's `context`); a changed or new file starts
  `DevLoop-N` (InProgress, no Build/Deploy tasks: a sync-only loop), prints `Syncing K files for
  <image>:<tag>` per artifact with matching changes, then `Watching for changes...`, and ends `DevLoop-N
  Succeeded`. Nothing is copied anywhere (the fake cluster has no containers), deleted files are not
  reported, and a change no sync rule covers triggers nothing (a real Skaffold would rebuild).
Enum names beyond §5 (`OK`, `STATUSCHECK_DEPLOYMENT_ROLLOUT_PENDING`, `BUILD_SUCCESS`) and the
ActionableErr fields (`errCode`, `message`, `suggestions`) are those of Skaffold's proto/enums/enums.proto
and proto/v2/skaffold.proto.

Knobs (FakeWorld.set_knob):
- skaffold_dev_delay: seconds per simulated step (default 0.05);
- skaffold_api_missing: `/v2/events` answers 404 (an API devctl cannot use: it must fall back to the console);
- skaffold_fail_deploy: a Deployment name whose first deploy fails (image cannot be pulled);
- skaffold_ignore_sigint: signals are recorded but ignored (to test the kill after the timeout);
- skaffold_spawn_child: start a long-lived child in the same process group that ignores SIGINT/SIGTERM and
  is never stopped, like a stuck `kubectl port-forward` (#2690), to prove the caller's group kill leaves
  no orphan.

Its own log, `$DEVCTL_FAKE_STATE/skaffold-dev.jsonl` (one JSON object a line, appended): `start` (argv,
pid, pgid, the SKAFFOLD_* variables it received), `ready` (first iteration done, app logs printed),
`signal` (each one received; SIGPIPE when a write met a closed stdout), `child` (pid), `api` (each HTTP
request, its path), `sync` (iteration, the changed files, the images), `cleanup`, `exit` (code). `start`
also keeps the text of the `-c` global config file and the cwd.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fakelib import cluster_objects as co
from fakelib import state

VALUE_FLAGS = {
    "-f": "filename", "--filename": "filename", "-m": "module", "--module": "module",
    "-p": "profile", "--profile": "profile", "--kube-context": "kube-context",
    "-d": "default-repo", "--default-repo": "default-repo", "--rpc-port": "rpc-port",
    "--rpc-http-port": "rpc-http-port", "--event-log-file": "event-log-file", "--trigger": "trigger",
    "-i": "watch-poll-interval", "--watch-poll-interval": "watch-poll-interval", "-v": "verbosity",
    "--verbosity": "verbosity", "--color": "color", "-c": "config", "--config": "config",
    "--wait-for-deletions-delay": "wait-for-deletions-delay", "--wait-for-deletions-max": "wait-for-deletions-max",
}
BOOL_FLAGS = {
    "--interactive", "--update-check", "--cleanup", "--tail", "--no-prune", "--status-check",
    "--tolerate-failures-until-deadline", "--wait-for-deletions", "--wait-for-connection",
    "--keep-running-on-failure", "--auto-build", "--auto-sync", "--auto-deploy",
    "--check-cluster-node-platforms", "--enable-rpc", "--timestamps", "--cache-artifacts",
}
INT_FLAGS = {"rpc-port", "rpc-http-port", "watch-poll-interval"}
WATCH_INTERVAL = 0.1  # seconds between polls of the synced files (the real notify trigger reacts at once)
USAGE = ("Usage:\n  skaffold dev [options]\n\n"
         'Use "skaffold options" for a list of global command-line options (applies to all commands).\n')


class UsageFail(Exception):
    pass


def parse(argv: list[str]) -> tuple[dict[str, str], dict[str, bool]]:
    values: dict[str, str] = {}
    bools: dict[str, bool] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        name, eq, val = a.partition("=")
        if name in BOOL_FLAGS:
            if eq and val not in ("true", "false"):
                raise UsageFail(f'invalid argument "{val}" for "{name}" flag: strconv.ParseBool: parsing "{val}": '
                                "invalid syntax")
            bools[name[2:]] = (val == "true") if eq else True
        elif name == "--port-forward":
            values["port-forward"] = val if eq else "user,services"  # §2: bare flag = user,services
        elif name in VALUE_FLAGS:
            key = VALUE_FLAGS[name]
            if not eq:
                if i + 1 >= len(argv):
                    raise UsageFail(f"flag needs an argument: {name}")
                i += 1
                val = argv[i]
            if key in INT_FLAGS and not val.lstrip("-").isdigit():
                raise UsageFail(f'invalid argument "{val}" for "{name}" flag: strconv.ParseInt: parsing "{val}": '
                                "invalid syntax")
            values[key] = val
        elif a.startswith("-"):
            raise UsageFail(f"unknown flag: {name}" if a.startswith("--") else f"unknown shorthand flag: "
                            f"'{a[1:2]}' in {a}")
        else:
            raise UsageFail(f'unknown command "{a}" for "skaffold dev"')
        i += 1
    return values, bools


# -- the fake's own log -------------------------------------------------------------------------------


def record(event: str, **fields: Any) -> None:
    line = json.dumps({"event": event, "pid": os.getpid(), "time": time.time(), **fields}) + "\n"
    fd = os.open(os.path.join(state.state_dir(), "skaffold-dev.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


# -- the event API (§5) ---------------------------------------------------------------------------------


class Bus:
    """Every event since start (for the replay) and a condition for the live part."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.closed = False
        self.cond = threading.Condition()

    def emit(self, body: dict[str, Any]) -> None:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self.cond:
            self.events.append({"timestamp": stamp, **body})
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


def serve(port: int, bus: Bus) -> ThreadingHTTPServer:
    missing_events = bool(state.knob("skaffold_api_missing"))
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            record("api", path=self.path)
            if self.path.split("?", 1)[0] != "/v2/events" or missing_events:
                body = b'{"code":5,"message":"Not Found","details":[]}'
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            sent = 0
            try:
                while True:
                    with bus.cond:
                        while sent >= len(bus.events) and not bus.closed:
                            bus.cond.wait(0.5)
                        batch = bus.events[sent:]
                        done = bus.closed
                    for ev in batch:
                        data = (json.dumps({"result": ev}) + "\n").encode()
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                    sent += len(batch)
                    if done and sent >= len(bus.events):
                        self.wfile.write(b"0\r\n\r\n")
                        self.wfile.flush()
                        return
            except (BrokenPipeError, ConnectionResetError):
                return

    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler, bind_and_activate=False)
    srv.daemon_threads = True
    srv.allow_reuse_address = False
    srv.server_bind()
    srv.server_activate()
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return srv


def humanize(seconds: float) -> str:
    """§3 (util/time/time.go Humanize): `3.21 seconds`, `1 second`; below 1 s Go's form `81.5965ms`."""
    if seconds < 1:
        return f"{seconds * 1000:.4f}ms"
    if seconds < 60:
        text = f"{seconds:.2f}".rstrip("0").rstrip(".")
        return f"{text} second" + ("" if text == "1" else "s")
    minutes = int(seconds // 60)
    rest = f"{seconds - 60 * minutes:.1f}".rstrip("0").rstrip(".")
    return f"{minutes} minute{'' if minutes == 1 else 's'} {rest} seconds"


def actionable(code: str, message: str) -> dict[str, Any]:
    return {"errCode": code, "message": message, "suggestions": []}


def task(name: str, status: str, err: dict[str, Any] | None = None, iteration: int = 1) -> dict[str, Any]:
    return {"taskEvent": {"id": f"{name}-{iteration}", "task": name, "description": "", "iteration": iteration,
                          "status": status, "actionableErr": err}}


# -- the run --------------------------------------------------------------------------------------------


class Dev:
    def __init__(self, values: dict[str, str], bools: dict[str, bool], bus: Bus) -> None:
        self.values = values
        self.bools = bools
        self.bus = bus
        self.stop = threading.Event()
        self.delay = float(state.knob("skaffold_dev_delay", 0.05) or 0)
        self.context = values.get("kube-context") or state.current_context()
        self.task_id = "DevLoop-1"
        self.applied: str | None = None  # the manifests applied (a temp file), for cleanup
        self.children: list[subprocess.Popen[bytes]] = []
        self.sync_rules: dict[str, list[str]] = {}  # image -> absolute glob patterns of its sync rules
        self.stdout_closed = False  # the reader of stdout went away (SIGPIPE, §4)

    # output: every stdout write is also a skaffoldLogEvent (§5)
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
                record("signal", signal="SIGPIPE")
                self.stop.set()

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

    def config(self) -> tuple[list[str], list[dict[str, Any]]]:
        """Artifact images (with -p applied) and the rawYaml manifests of the Skaffold config."""
        import yaml

        path = self.values.get("filename", "skaffold.yaml")
        with open(path, encoding="utf-8") as f:
            cfg = next(d for d in yaml.safe_load_all(f) if d)
        build = cfg.get("build") or {}
        manifests = cfg.get("manifests") or {}
        for name in [p for p in self.values.get("profile", "").split(",") if p and not p.startswith("-")]:
            prof = next((p for p in cfg.get("profiles") or [] if p.get("name") == name), None)
            if prof is None:
                raise UsageFail(f"did not find profile {name}")  # not exit 127 in reality; unused by devctl
            if "artifacts" in (prof.get("build") or {}):
                build = prof["build"]
            manifests = prof.get("manifests") or manifests
        images = [a["image"] for a in build.get("artifacts") or []]
        base = os.path.dirname(os.path.abspath(path))
        self.sync_rules = {
            a["image"]: [os.path.join(base, a.get("context") or ".", rule["src"])
                         for rule in ((a.get("sync") or {}).get("manual") or []) if rule.get("src")]
            for a in build.get("artifacts") or []
        }
        docs: list[dict[str, Any]] = []
        for pattern in manifests.get("rawYaml") or []:
            for p in sorted(glob.glob(os.path.join(base, pattern), recursive=True)):
                if os.path.isfile(p) and p.endswith((".yaml", ".yml")):
                    with open(p, encoding="utf-8") as f:
                        docs.extend(d for d in yaml.safe_load_all(f) if d)
        return images, docs

    def run(self) -> int:
        self.meta()
        self.bus.emit(task("DevLoop", "InProgress"))
        self.meta()
        images, docs = self.config()
        tags = {img: f"{img}:{hashlib.sha256(img.encode()).hexdigest()}" for img in images}
        # -- build (§3, §5)
        self.task_id = "Build-1"
        self.bus.emit(task("Build", "InProgress"))
        self.say("Generating tags...")
        for img in images:
            self.say(f" - {img} -> {img}:latest")
        self.say("Checking cache...")
        for img in images:
            self.bus.emit(self.build_event(img, "Cache", "InProgress"))
            self.say(f" - {img}: Not found. Building")
            self.bus.emit(self.build_event(img, "Cache", "Failed"))  # a cache miss is Cache Failed (§5)
        self.say("Starting build...")
        self.say(f"Found [{self.context}] context, using local docker daemon.")
        for img in images:
            if self.stop.is_set():
                return self.finish(0)
            self.bus.emit(self.build_event(img, "Build", "InProgress"))
            self.say(f"Building [{img}]...")
            self.say("Target platforms: [linux/amd64]")
            if self.pause():
                self.bus.emit(self.build_event(img, "Build", "Canceled"))
                return self.finish(0)
            self.say(f"Build [{img}] succeeded")
            self.bus.emit(self.build_event(img, "Build", "Succeeded"))
        self.bus.emit(task("Build", "Succeeded"))
        self.say("Tags used in deployment:")
        for img in images:
            self.say(f" - {img} -> {tags[img]}")
        # -- render
        self.task_id = "Render-1"
        self.bus.emit(task("Render", "InProgress"))
        self.bus.emit({"renderEvent": {"id": "0", "task_id": "Render-1", "status": "InProgress",
                                       "actionableErr": None}})
        rendered = [self.render(d, tags) for d in docs]
        self.bus.emit({"renderEvent": {"id": "0", "task_id": "Render-1", "status": "Succeeded",
                                       "actionableErr": None}})
        self.bus.emit(task("Render", "Succeeded"))
        # -- deploy
        self.task_id = "Deploy-1"
        self.bus.emit(task("Deploy", "InProgress"))
        self.bus.emit({"deploySubtaskEvent": {"id": "0", "task_id": "Deploy-1", "status": "InProgress",
                                              "actionableErr": None}})
        self.say("Starting deploy...")
        self.say("Loading images into kind cluster nodes...")
        for img in images:
            self.say(f" - {tags[img]} -> Loaded")
        self.say(f"Images loaded in {humanize(max(self.delay, 0.001) * len(images))}")
        code, out, err = self.kubectl("apply", "-f", self.write_manifests(rendered))
        for line in out.splitlines():
            self.say(f" - {line}")
        if code != 0:
            sys.stderr.write(err)
            return self.fail_deploy(err.strip().splitlines()[-1] if err.strip() else "kubectl apply failed", 1)
        if self.pause():
            return self.finish(0)
        if state.knob("skaffold_spawn_child"):
            self.spawn_child()
        code = self.status_check(rendered, images)
        if code is not None:
            return code
        self.bus.emit({"deploySubtaskEvent": {"id": "0", "task_id": "Deploy-1", "status": "Succeeded",
                                              "actionableErr": None}})
        self.bus.emit(task("Deploy", "Succeeded"))
        # -- port forward (§2: off with --port-forward=off)
        if self.values.get("port-forward", "user") != "off":
            self.task_id = "PortForward-1"
            self.bus.emit(task("PortForward", "InProgress"))
            self.bus.emit(task("PortForward", "Succeeded"))
        self.task_id = "DevLoop-1"
        self.say("Listing files to watch...")
        for img in images:
            self.say(f" - {img}")
        self.say("Press Ctrl+C to exit")
        self.say("Watching for changes...")
        self.bus.emit(task("DevLoop", "Succeeded"))
        self.app_logs(rendered, images)
        record("ready")
        self.watch(tags)
        return self.finish(0)

    # -- later iterations: file sync (§3 "Later iterations", §5) -------------------------------------------

    def snapshot(self) -> dict[str, dict[str, str]]:
        """image -> {file: digest of its content} for every file its sync rules match now."""
        out: dict[str, dict[str, str]] = {}
        for img, patterns in self.sync_rules.items():
            files: dict[str, str] = {}
            for pattern in patterns:
                for p in glob.glob(pattern, recursive=True):
                    try:
                        with open(p, "rb") as f:
                            files[p] = hashlib.sha256(f.read()).hexdigest()
                    except OSError:  # a directory, or gone meanwhile
                        continue
            out[img] = files
        return out

    def watch(self, tags: dict[str, str]) -> None:
        """Until a stop is requested: each change of synced files is one sync-only dev loop."""
        iteration = 1
        seen = self.snapshot()
        while not self.stop.wait(WATCH_INTERVAL):
            now = self.snapshot()
            if now == seen:
                continue
            if self.stop.wait(WATCH_INTERVAL):  # let a write in progress finish, like Skaffold's batching
                return
            now = self.snapshot()
            changed = {img: sorted(p for p, digest in files.items() if seen.get(img, {}).get(p) != digest)
                       for img, files in now.items()}
            seen = now
            changed = {img: files for img, files in changed.items() if files}
            if not changed:
                continue  # only deletions: not reported by this fake
            iteration += 1
            self.task_id = f"DevLoop-{iteration}"
            self.meta()
            self.bus.emit(task("DevLoop", "InProgress", iteration=iteration))
            for img in self.sync_rules:
                if img in changed:
                    self.say(f"Syncing {len(changed[img])} files for {tags.get(img, img)}")  # "files" also for 1
            self.say("Watching for changes...")
            self.bus.emit(task("DevLoop", "Succeeded", iteration=iteration))
            record("sync", iteration=iteration, images=sorted(changed),
                   files=sorted({p for files in changed.values() for p in files}))

    def build_event(self, img: str, step: str, status: str) -> dict[str, Any]:
        return {"buildSubtaskEvent": {"id": img, "task_id": "Build-1", "artifact": img, "step": step,
                                      "status": status, "actionableErr": None, "hostPlatform": "linux/amd64",
                                      "targetPlatforms": "linux/amd64"}}

    @staticmethod
    def render(doc: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
        out = json.loads(json.dumps(doc))
        spec = (out.get("spec") or {}).get("template", {}).get("spec") or {}
        for c in spec.get("containers") or []:
            bare = str(c.get("image", "")).split(":", 1)[0]
            if bare in tags:
                c["image"] = tags[bare]
        return out

    def write_manifests(self, docs: list[dict[str, Any]]) -> str:
        import yaml

        fd, path = tempfile.mkstemp(prefix="skaffold-rendered-", suffix=".yaml", dir=state.state_dir())
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yaml.safe_dump_all(docs, f, sort_keys=False)
        self.applied = path
        return path

    def kubectl(self, *args: str) -> tuple[int, str, str]:
        """The fake kubectl in-process (Skaffold runs kubectl; its output is what Skaffold prints)."""
        from fakelib import kubectl

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = kubectl.main(["--context", self.context, *args])
        return code, out.getvalue(), err.getvalue()

    def deployments(self, docs: list[dict[str, Any]]) -> list[str]:
        return [d["metadata"]["name"] for d in docs if d.get("kind") == "Deployment"]

    def status_check(self, docs: list[dict[str, Any]], images: list[str]) -> int | None:
        from fakelib import kubectl

        self.task_id = "StatusCheck-1"
        self.bus.emit(task("StatusCheck", "InProgress"))
        self.say("Waiting for deployments to stabilize...")
        names = self.deployments(docs)
        failing = state.knob("skaffold_fail_deploy")
        for n in names:
            msg = "waiting for rollout to finish: 0 of 1 updated replicas are available..."
            self.say(f" - deployment/{n}: {msg}")
            self.bus.emit(self.check_event(n, "InProgress", msg, "STATUSCHECK_DEPLOYMENT_ROLLOUT_PENDING"))
        pending = list(names)
        started = time.time()
        while pending:
            if self.pause(0.5):
                for n in pending:
                    self.bus.emit(self.check_event(n, "Failed", "", "STATUSCHECK_USER_CANCELLED",
                                                   actionable("STATUSCHECK_USER_CANCELLED", "context canceled")))
                return self.finish(0)
            if failing in pending and time.time() - started >= self.delay * 2:
                return self.fail_status_check(str(failing), names, docs)
            objs = kubectl.all_objects(self.context)
            for n in list(pending):
                if n == failing:
                    continue
                dep = objs.get(co.key("Deployment", "default", n)) or {}
                want = int(dep.get("spec", {}).get("replicas", 1))
                if int(dep.get("status", {}).get("availableReplicas", 0)) >= want:
                    pending.remove(n)
                    left = f" [{len(pending)}/{len(names)} deployment(s) still pending]" if pending else ""
                    self.say(f" - deployment/{n} is ready.{left}")
                    self.bus.emit(self.check_event(n, "Succeeded", "", "STATUSCHECK_SUCCESS"))
        self.say(f"Deployments stabilized in {humanize(time.time() - started)}")
        self.bus.emit(task("StatusCheck", "Succeeded"))
        return None

    def check_event(self, name: str, status: str, message: str, code: str,
                    err: dict[str, Any] | None = None) -> dict[str, Any]:
        res = f"deployment/{name}"
        return {"statusCheckSubtaskEvent": {"id": res, "task_id": "Deploy-1", "resource": res, "status": status,
                                            "message": message, "statusCode": code, "actionableErr": err}}

    def fail_status_check(self, name: str, names: list[str], docs: list[dict[str, Any]]) -> int:
        # §3 "First-deploy failure" (image not pullable; #6973, #9872).
        image = next((c.get("image", "") for d in docs if d.get("kind") == "Deployment"
                      and d["metadata"]["name"] == name
                      for c in d["spec"]["template"]["spec"].get("containers", [])), name)
        pod = co.pod_name(name, {"t": "fail", "i": 0})
        why = f"container {name} is waiting to start: {image} can't be pulled"
        self.say(f" - deployment/{name}: {why}")
        self.say(f"    - pod/{pod}: {why}")
        self.say(f" - deployment/{name} failed. Error: {why}.")
        self.bus.emit(self.check_event(name, "Failed", why, "STATUSCHECK_IMAGE_PULL_ERR",
                                       actionable("STATUSCHECK_IMAGE_PULL_ERR", why)))
        err = actionable("STATUSCHECK_IMAGE_PULL_ERR", f"1/{len(names)} deployment(s) failed")
        self.bus.emit(task("StatusCheck", "Failed", err))
        self.bus.emit({"deploySubtaskEvent": {"id": "0", "task_id": "Deploy-1", "status": "Failed",
                                              "actionableErr": err}})
        self.bus.emit(task("Deploy", "Failed", err))
        return self.fail_deploy(f"1/{len(names)} deployment(s) failed", 1, err)

    def fail_deploy(self, text: str, code: int, err: dict[str, Any] | None = None) -> int:
        self.bus.emit(task("DevLoop", "Failed", err or actionable("DEPLOY_UNKNOWN", text)))
        self.cleanup()
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
        return self.exit(code)

    def spawn_child(self) -> None:
        # Deaf to SIGINT/SIGTERM, like a hung kubectl: only SIGKILL of the group ends it.
        code = "import signal, time; [signal.signal(s, signal.SIG_IGN) for s in (2, 15)]; time.sleep(600)"
        child = subprocess.Popen([sys.executable, "-c", code],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.children.append(child)
        record("child", child=child.pid)

    def app_logs(self, docs: list[dict[str, Any]], images: list[str]) -> None:
        """§3: `[<pod> <container>]msg` for the pods running built images, no space when piped."""
        from fakelib import kubectl

        source: dict[str, list[Any]] = state.read().get("logs", {})
        mine = set(self.deployments(docs))
        built = set(images)
        pods = [o for k, o in sorted(kubectl.all_objects(self.context).items()) if k.startswith("Pod/")]
        for pod in pods:
            if pod["metadata"]["name"].rsplit("-", 2)[0] not in mine:
                continue
            app = pod["metadata"].get("labels", {}).get("app", "")
            for c in pod["spec"].get("containers", []):
                if str(c.get("image", "")).split(":", 1)[0] not in built:
                    continue
                name = pod["metadata"]["name"]
                prefix = f"[{c['name']}]" if c["name"] == name else f"[{name} {c['name']}]"
                lines = source.get(app) or ["Server listening on 3000"]
                self.write("".join(
                    prefix + (ln.get("text", "") if isinstance(ln, dict) else str(ln)) + "\n" for ln in lines
                ))

    def cleanup(self) -> None:
        # §4: with --cleanup (default) Skaffold deletes by manifest whenever dev returns.
        if not self.bools.get("cleanup", True):
            return
        self.say("Cleaning up...")
        if self.applied:
            _, out, _ = self.kubectl("delete", "--ignore-not-found=true", "--wait=false", "-f", self.applied)
            for line in out.splitlines():
                self.say(f" - {line}")
        record("cleanup", deleted=self.applied is not None)

    def finish(self, code: int) -> int:
        """After a signal: SIGINT/SIGTERM mean a graceful stop, exit 0 (§4)."""
        self.cleanup()
        return self.exit(code)

    def exit(self, code: int) -> int:
        record("exit", code=code)
        self.bus.close()
        time.sleep(0.05)  # let the API handlers send the last events and the final chunk
        return code


def main(argv: list[str]) -> int:
    try:
        values, bools = parse(argv)
    except UsageFail as err:
        sys.stderr.write(USAGE + "\n" + str(err) + "\n")
        return 127  # §4
    config_text = None
    if "config" in values and os.path.isfile(values["config"]):
        with open(values["config"], encoding="utf-8") as f:
            config_text = f.read()
    record("start", argv=argv, pgid=os.getpgid(0), cwd=os.getcwd(), config_text=config_text,
           skaffold_env={k: v for k, v in os.environ.items() if k.startswith("SKAFFOLD_")})
    bus = Bus()
    if "rpc-http-port" in values:
        port = int(values["rpc-http-port"])
        try:
            serve(port, bus)
        except OSError as err:
            # §2: the API server starts first (PersistentPreRunE); no fallback port.
            why = "bind: address already in use" if err.errno in (98, 48) else (err.strerror or str(err))
            sys.stderr.write(f"initializing api server: starting gRPC server: creating listener: listen tcp "
                             f"127.0.0.1:{port}: {why}\n")
            record("exit", code=1)
            return 1
    dev = Dev(values, bools, bus)

    # The handler only writes a byte to a pipe; a thread sets dev.stop. Setting the Event in the handler
    # itself could deadlock: the handler runs on the main thread, which may be inside dev.stop.wait()
    # holding the Event's (non-reentrant) lock at that very moment.
    wake_r, wake_w = os.pipe()

    def relay() -> None:
        while os.read(wake_r, 1):
            dev.stop.set()  # later presses are swallowed (§4): the event is simply set again

    threading.Thread(target=relay, daemon=True).start()

    def on_signal(signum: int, frame: Any) -> None:
        record("signal", signal=signal.Signals(signum).name)
        if not state_ignores_signals:
            os.write(wake_w, b"x")

    state_ignores_signals = bool(state.knob("skaffold_ignore_sigint"))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        return dev.run()
    except UsageFail as err:
        sys.stderr.write(f"parsing skaffold config: {err}\n")
        return dev.exit(1)

