"""Render, deploy, status check, application logs and cleanup of the fake `skaffold dev`.

Paths in GoogleContainerTools/skaffold: runner/render.go (`Render-N`, "Render Manifests"), runner/deploy.go
(`Tags used in deployment:` and ` - IMG -> TAG`, then `Deploy-N` "Deploy to cluster"), runner/timings.go
(`Starting deploy...`, `Cleaning up...`), kubernetes/loader/load.go (`Loading images into kind cluster
nodes...`, only when images are loaded, not pushed: skaffold.md §6), kubernetes/status/status_check.go
(`StatusCheck-N` "Status Checking Deployed Artifacts", subtask events under `Deploy-N`, `Waiting for
deployments to stabilize...`, ` - deployment/X is ready. [k/n deployment(s) still pending]`, `Deployments
stabilized in ...`), and skaffold.md §3 "First-deploy failure" for a pod whose image cannot be pulled.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from typing import TYPE_CHECKING, Any

from fakelib import cluster_objects as co
from fakelib import skaffold_config, state
from fakelib.skaffold_steps import Failed, actionable, task

if TYPE_CHECKING:
    from fakelib.skaffold_dev import Dev


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


def render(doc: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
    out = json.loads(json.dumps(doc))
    spec = (out.get("spec") or {}).get("template", {}).get("spec") or {}
    for c in spec.get("containers") or []:
        bare = str(c.get("image", "")).split(":", 1)[0]
        if bare in tags:
            c["image"] = tags[bare]
    return out


class Deployer:
    def __init__(self, dev: Dev) -> None:
        self.dev = dev
        self.applied: str | None = None  # the manifests applied (a temp file), for cleanup
        self.rendered: list[dict[str, Any]] = []

    def deploy(self, cfg: skaffold_config.Config, tags: dict[str, str]) -> None:
        dev, n = self.dev, self.dev.iteration
        dev.task_id = f"Render-{n}"
        dev.bus.emit(task("Render", "InProgress", n, "Render Manifests"))
        dev.bus.emit({"renderEvent": {"id": "0", "task_id": f"Render-{n}", "status": "InProgress",
                                      "actionableErr": None}})
        self.rendered = [render(d, tags) for d in cfg.manifests]
        dev.bus.emit({"renderEvent": {"id": "0", "task_id": f"Render-{n}", "status": "Succeeded",
                                      "actionableErr": None}})
        dev.bus.emit(task("Render", "Succeeded", n))
        dev.task_id = f"Deploy-{n}"
        dev.say("Tags used in deployment:")
        for art in cfg.artifacts:
            dev.say(f" - {art.image} -> {tags[art.image]}")
        dev.bus.emit(task("Deploy", "InProgress", n, "Deploy to cluster"))
        dev.bus.emit({"deploySubtaskEvent": {"id": "0", "task_id": f"Deploy-{n}", "status": "InProgress",
                                             "actionableErr": None}})
        dev.say("Starting deploy...")
        if dev.repo.load:
            dev.say("Loading images into kind cluster nodes...")
            self.load([tags[art.image] for art in cfg.artifacts])
            for art in cfg.artifacts:
                dev.say(f" - {tags[art.image]} -> Loaded")
            dev.say(f"Images loaded in {humanize(max(dev.delay, 0.001) * len(cfg.artifacts))}")
        self.apply()
        if dev.pause():
            raise Failed("", cancelled=True)
        self.status_check(cfg)
        dev.bus.emit({"deploySubtaskEvent": {"id": "0", "task_id": f"Deploy-{n}", "status": "Succeeded",
                                             "actionableErr": None}})
        dev.bus.emit(task("Deploy", "Succeeded", n))

    def load(self, images: list[str]) -> None:
        """`kind load docker-image` of each image into the cluster's node (kubernetes/loader/load.go): the
        node's containerd then has them, and pods run them without a pull."""
        with state.txn() as s:
            node = s["docker"]["containers"].get(f"{self.dev.context[5:]}-control-plane")
            if node is not None:
                node["loaded"] = sorted(set(node.get("loaded") or []) | set(images))

    def apply(self) -> None:
        import yaml

        from fakelib.skaffold_dev import kubectl

        fd, path = tempfile.mkstemp(prefix="skaffold-rendered-", suffix=".yaml", dir=state.state_dir())
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yaml.safe_dump_all(self.rendered, f, sort_keys=False)
        self.applied = path
        code, out, err = kubectl(self.dev.context, "apply", "-f", path)
        for line in out.splitlines():
            self.dev.say(f" - {line}")
        if code != 0:
            import sys

            sys.stderr.write(err)
            text = err.strip().splitlines()[-1] if err.strip() else "kubectl apply failed"
            failure = actionable("DEPLOY_UNKNOWN", text)
            self.dev.bus.emit(task("Deploy", "Failed", self.dev.iteration, err=failure))
            raise Failed(text, failure)

    def deployments(self) -> list[str]:
        return [d["metadata"]["name"] for d in self.rendered if d.get("kind") == "Deployment"]

    def check_event(self, name: str, status: str, message: str, code: str,
                    err: dict[str, Any] | None = None) -> dict[str, Any]:
        res = f"deployment/{name}"
        return {"statusCheckSubtaskEvent": {"id": res, "task_id": f"Deploy-{self.dev.iteration}", "resource": res,
                                            "status": status, "message": message, "statusCode": code,
                                            "actionableErr": err}}

    def unpullable(self, objs: dict[str, Any], name: str) -> tuple[str, str, str] | None:
        """(pod, container, image) of a pod of Deployment ``name`` waiting on its image, or the knob's."""
        pods = [o for k, o in sorted(objs.items()) if k.startswith("Pod/") and
                o["metadata"]["name"].rsplit("-", 2)[0] == name]
        for pod in pods:
            for cs in (pod.get("status") or {}).get("containerStatuses") or []:
                reason = ((cs.get("state") or {}).get("waiting") or {}).get("reason")
                if reason in ("ImagePullBackOff", "ErrImagePull") or state.knob("skaffold_fail_deploy") == name:
                    return pod["metadata"]["name"], cs["name"], cs.get("image", "")
        return None

    def status_check(self, cfg: skaffold_config.Config) -> None:
        from fakelib import kubectl

        dev, n = self.dev, self.dev.iteration
        dev.task_id = f"StatusCheck-{n}"
        dev.bus.emit(task("StatusCheck", "InProgress", n, "Status Checking Deployed Artifacts"))
        dev.say("Waiting for deployments to stabilize...")
        names = self.deployments()
        for name in names:
            msg = "waiting for rollout to finish: 0 of 1 updated replicas are available..."
            dev.say(f" - deployment/{name}: {msg}")
            dev.bus.emit(self.check_event(name, "InProgress", msg, "STATUSCHECK_DEPLOYMENT_ROLLOUT_PENDING"))
        pending = list(names)
        started = time.time()
        while pending:
            if dev.pause(0.5):
                for name in pending:
                    dev.bus.emit(self.check_event(name, "Failed", "", "STATUSCHECK_USER_CANCELLED",
                                                  actionable("STATUSCHECK_USER_CANCELLED", "context canceled")))
                raise Failed("", cancelled=True)
            objs = kubectl.all_objects(dev.context)
            for name in list(pending):
                stuck = self.unpullable(objs, name)
                # A pod reaches ImagePullBackOff after its first pull failed (the fake gives it two steps).
                # tolerateFailuresUntilDeadline would wait for the 10 minute deadline: not simulated.
                if stuck:
                    if time.time() - started >= dev.delay * 2:
                        self.fail(name, names, *stuck)
                    continue
                dep = objs.get(co.key("Deployment", "default", name)) or {}
                want = int(dep.get("spec", {}).get("replicas", 1))
                if int(dep.get("status", {}).get("availableReplicas", 0)) >= want:
                    pending.remove(name)
                    left = f" [{len(pending)}/{len(names)} deployment(s) still pending]" if pending else ""
                    dev.say(f" - deployment/{name} is ready.{left}")
                    dev.bus.emit(self.check_event(name, "Succeeded", "", "STATUSCHECK_SUCCESS"))
        dev.say(f"Deployments stabilized in {humanize(time.time() - started)}")
        dev.bus.emit(task("StatusCheck", "Succeeded", n))

    def fail(self, name: str, names: list[str], pod: str, container: str, image: str) -> None:
        # §3 "First-deploy failure" (image not pullable; #6973, #9872).
        dev, n = self.dev, self.dev.iteration
        why = f"container {container} is waiting to start: {image} can't be pulled"
        dev.say(f" - deployment/{name}: {why}")
        dev.say(f"    - pod/{pod}: {why}")
        dev.say(f" - deployment/{name} failed. Error: {why}.")
        dev.bus.emit(self.check_event(name, "Failed", why, "STATUSCHECK_IMAGE_PULL_ERR",
                                      actionable("STATUSCHECK_IMAGE_PULL_ERR", why)))
        text = f"1/{len(names)} deployment(s) failed"
        err = actionable("STATUSCHECK_IMAGE_PULL_ERR", text)
        dev.bus.emit(task("StatusCheck", "Failed", n, err=err))
        dev.bus.emit({"deploySubtaskEvent": {"id": "0", "task_id": f"Deploy-{n}", "status": "Failed",
                                             "actionableErr": err}})
        dev.bus.emit(task("Deploy", "Failed", n, err=err))
        raise Failed(text, err)

    def app_logs(self, tags: dict[str, str]) -> None:
        """§3: `[<pod> <container>]msg` for the pods running built images, no space when piped."""
        from fakelib import kubectl

        source: dict[str, list[Any]] = state.read().get("logs", {})
        mine = set(self.deployments())
        built = set(tags.values())
        for key, pod in sorted(kubectl.all_objects(self.dev.context).items()):
            if not key.startswith("Pod/") or pod["metadata"]["name"].rsplit("-", 2)[0] not in mine:
                continue
            app = pod["metadata"].get("labels", {}).get("app", "")
            for c in pod["spec"].get("containers", []):
                if str(c.get("image", "")) not in built:
                    continue
                name = pod["metadata"]["name"]
                prefix = f"[{c['name']}]" if c["name"] == name else f"[{name} {c['name']}]"
                lines = source.get(app) or ["Server listening on 3000"]
                self.dev.write("".join(
                    prefix + (ln.get("text", "") if isinstance(ln, dict) else str(ln)) + "\n" for ln in lines
                ))

    def cleanup(self) -> None:
        # §4: with --cleanup (default) Skaffold deletes by manifest whenever dev returns.
        from fakelib.skaffold_dev import kubectl, record

        if not self.dev.a.bools.get("cleanup", True):
            return
        self.dev.say("Cleaning up...")
        if self.applied:
            _, out, _ = kubectl(self.dev.context, "delete", "--ignore-not-found=true", "--wait=false", "-f",
                                self.applied)
            for line in out.splitlines():
                self.dev.say(f" - {line}")
        record("cleanup", deleted=self.applied is not None)
