"""`kubectl logs` for the fake: lines come from the state's "logs" (per Deployment name), set by tests.

Line format is the container's own output; with --prefix kubectl prepends `[pod/<pod>/<container>] `
(general knowledge of kubectl logs --prefix).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from fakelib import cluster_objects as co
from fakelib import state


def logs(a: Any, ctx: str) -> int:
    from fakelib.kubectl import Fail, all_objects, select

    ns = a.get("-n", "default") or "default"
    objs = all_objects(ctx)
    target = a.pos[1] if len(a.pos) > 1 else ""
    sel = a.get("-l")
    if sel:
        pods = select(objs, "Pod", ns, sel)
    else:
        res, _, name = target.partition("/")
        if not name:
            res, name = "pod", res
        kind = co.RESOURCES.get(res, ("Pod", True))[0]
        if kind == "Deployment":
            if co.key("Deployment", ns, name) not in objs:
                raise Fail(f'error: deployments.apps "{name}" not found')
            pods = [p for p in select(objs, "Pod", ns, None) if p["metadata"]["name"].startswith(name + "-")][:1]
        else:
            pods = [p for p in select(objs, "Pod", ns, None) if p["metadata"]["name"] == name]
            if not pods:
                raise Fail(f'Error from server (NotFound): pods "{name}" not found')
    tail = int(a.get("--tail", "-1") or -1)
    prefix = "--prefix" in a.bools or a.get("--prefix") == "true"
    source: dict[str, list[str]] = state.read().get("logs", {})
    for p in pods:
        app = p["metadata"].get("labels", {}).get("app", p["metadata"]["name"])
        lines = source.get(app, [])
        if tail >= 0:
            lines = lines[-tail:] if tail else []
        container = (p.get("spec", {}).get("containers") or [{"name": app}])[0]["name"]
        pre = f"[pod/{p['metadata']['name']}/{container}] " if prefix else ""
        out = sys.stdout
        for ln in lines:
            out.write(pre + ln + "\n")
    sys.stdout.flush()
    if "-f" in a.bools or "--follow" in a.bools or a.get("--follow") == "true":
        follow = float(state.knob("logs_follow_seconds", 0) or 0)
        time.sleep(follow)
    return 0
