"""`kubectl exec [-i] [-t] POD [-c CONTAINER] -- COMMAND [ARGS...]` for the fake: the programs of the
container's image run against what the fake keeps of the container's filesystem.

What it reproduces (kubectl pkg/cmd/exec/exec.go and the kubelet's streaming server, general knowledge):
- a pod that does not exist: `Error from server (NotFound): pods "<pod>" not found`, exit 1; a container
  the pod does not have: `Error from server (BadRequest): container <c> is not valid for pod <pod>`;
- a pod or container that is not running (Pending, waiting in CrashLoopBackOff, ...):
  `error: unable to upgrade connection: container not found ("<c>")`, exit 1;
- no command: `error: you must specify at least one command for the container`, exit 1;
- `-t` while stdin is not a terminal: kubectl says `Unable to use a TTY - input is not a terminal or the
  right kind of file` on stderr and goes on without one;
- an executable the image does not have (containerd/runc): `OCI runtime exec failed: exec failed: unable to
  start container process: exec: "<cmd>": executable file not found in $PATH: unknown` and `command
  terminated with exit code 126`, exit 126; any other non-zero exit N: `command terminated with exit code N`.

The images' programs: the official mongo image's `mongoimport`, `mongoexport` and `mongosh` (fake_mongo),
and `sh` (reads its stdin: `exit N` ends it with N, EOF with 0). A stand-in has sh and python; redis
redis-cli and sh; nats-streaming (scratch) nothing but its server.

Where files live: the volume mounted at the path (a PersistentVolumeClaim's volume: kept while the claim
exists, see sim_storage; an emptyDir: the pod's, gone with the pod), else the container's own filesystem
(gone with the pod). State: `clusters.<context>.volumes.<home>`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from fakelib import cluster_objects as co
from fakelib import sim_storage, state

PROGRAMS = {
    "mongo": {"mongosh", "mongoimport", "mongoexport", "mongod", "sh", "bash"},
    "redis": {"redis-cli", "redis-server", "sh"},
    "nats-streaming": {"/nats-streaming-server"},
}
STANDIN = {"sh", "bash", "python", "python3"}


def _programs(image: str) -> set[str]:
    """What the image can run: an official library image by its name, anything built here is a stand-in."""
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    if "/" in name:
        return STANDIN
    return PROGRAMS.get(name, {"sh"})


def data_home(objs: dict[str, Any], pod: dict[str, Any], container: dict[str, Any], path: str) -> str:
    """Which store holds ``path`` of this container: a volume's, or the container's own."""
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    mount = next((m for m in container.get("volumeMounts") or [] if path.startswith(m["mountPath"])), None)
    if mount is None:
        return f"rootfs/{name}/{container['name']}"
    volume = next((v for v in pod["spec"].get("volumes") or [] if v.get("name") == mount["name"]), {})
    claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    if claim:
        return f"pv/{sim_storage.volume_of(objs, ns, claim)}"
    return f"emptydir/{name}/{mount['name']}"


def _target(a: Any, objs: dict[str, Any], ns: str) -> dict[str, Any]:
    from fakelib.kubectl import Fail

    target = next((p for p in a.pos[1:] if p != "--"), "") if a.pos[1:2] != ["--"] else ""
    res, _, name = target.partition("/")
    if not name:
        res, name = "pod", res
    kind = co.RESOURCES.get(res, ("Pod", True))[0]
    pods = [o for k, o in sorted(objs.items()) if k.startswith(f"Pod/{ns}/")]
    if kind == "Deployment":
        if co.key("Deployment", ns, name) not in objs:
            raise Fail(f'Error from server (NotFound): deployments.apps "{name}" not found')
        pods = [p for p in pods if p["metadata"]["name"].rsplit("-", 2)[0] == name][:1]
    else:
        pods = [p for p in pods if p["metadata"]["name"] == name]
    if not pods:
        raise Fail(f'Error from server (NotFound): pods "{name}" not found')
    return pods[0]


def exec_in_pod(a: Any, ctx: str) -> int:
    from fakelib.kubectl import Fail, all_objects

    ns = a.get("-n", "default") or "default"
    command = a.pos[a.pos.index("--") + 1:] if "--" in a.pos else []
    objs = all_objects(ctx)
    pod = _target(a, objs, ns)
    containers = pod["spec"].get("containers") or []
    wanted = a.get("-c") or containers[0]["name"]
    container = next((c for c in containers if c["name"] == wanted), None)
    if container is None:
        raise Fail(f"Error from server (BadRequest): container {wanted} is not valid for pod {pod['metadata']['name']}")
    if not command:
        raise Fail("error: you must specify at least one command for the container")
    tty = bool({"-t", "-it", "-ti", "--tty"} & a.bools)
    stdin = bool({"-i", "-it", "-ti", "--stdin"} & a.bools)
    if tty and not (stdin and os.isatty(0)):
        sys.stderr.write("Unable to use a TTY - input is not a terminal or the right kind of file\n")
    statuses = {cs["name"]: cs for cs in pod["status"].get("containerStatuses") or []}
    running = "running" in (statuses.get(wanted) or {}).get("state", {})
    if pod["status"].get("phase") != "Running" or not running:
        raise Fail(f'error: unable to upgrade connection: container not found ("{wanted}")')
    program = command[0]
    if program not in _programs(container.get("image", "")):
        sys.stdout.write(f'OCI runtime exec failed: exec failed: unable to start container process: exec: "{program}": '
                         "executable file not found in $PATH: unknown\n")
        return _terminated(126)
    data = sys.stdin.read() if stdin else ""
    return _terminated(_run(program, command[1:], data, ctx, objs, pod, container))


def _terminated(code: int) -> int:
    if code:
        sys.stderr.write(f"command terminated with exit code {code}\n")
    return code


def _run(program: str, args: list[str], stdin: str, ctx: str, objs: dict[str, Any], pod: dict[str, Any],
         container: dict[str, Any]) -> int:
    if program in ("sh", "bash"):
        for line in stdin.splitlines():
            words = line.split()
            if words[:1] == ["exit"]:
                return int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
        return 0
    if program in ("mongoimport", "mongoexport", "mongosh"):
        from fakelib import fake_mongo

        home = data_home(objs, pod, container, fake_mongo.DB_PATH)
        with state.txn() as s:
            volumes = co.store(s, ctx).setdefault("volumes", {})
            databases = volumes.setdefault(home, {})
            code = fake_mongo.run(program, args, stdin, databases)
        return code
    sys.stderr.write(f"{program}: the fake runs no {program}\n")
    return 127
