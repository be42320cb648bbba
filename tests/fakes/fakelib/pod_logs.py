"""`kubectl logs` for the fake: lines come from the state's "logs" (per Deployment name), set by tests.

Line format is the container's own output; with --prefix kubectl prepends `[pod/<pod>/<container>] `
(general knowledge of kubectl logs --prefix).

An entry is a string (written long ago) or ``{"at": <epoch seconds>, "text": ...}``, so that
`--since=<duration>` ("Only return logs newer than a relative duration like 5s, 2m, or 3h") and
`--since-time=<RFC3339>` ("Only return logs after a specific date", kubectl logs --help) can be honoured:
strings are older than any such window.

`--previous` prints what the container's previous run wrote (the knob ``previous_logs``, per Deployment),
and for a container that never ended before kubectl's error: `Error from server (BadRequest): previous
terminated container "<c>" in pod "<pod>" not found` (the API server's pod log REST, general knowledge).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from fakelib import cluster_objects as co
from fakelib import state


def logs(a: Any, ctx: str) -> int:
    from fakelib.kubectl import Fail, _seconds, select

    ns = a.get("-n", "default") or "default"
    # One read of the state, never a write, and no status refresh (each reads knobs, i.e. the whole state
    # again): the state may hold many megabytes of log lines (the logs benchmark), and which pods exist
    # does not depend on their readiness.
    snapshot = _snapshot()
    objs = dict(co.store(snapshot, ctx)["objects"])
    objs.update(co.derived_pods(objs, snapshot.get("knobs") or {}))
    target = a.pos[1] if len(a.pos) > 1 else ""
    sel = a.get("-l")
    if sel:
        pods = select(objs, "Pod", ns, sel)
        if not pods:
            # docker-kubectl.md §3 (kubectl v1.32 run for real): no pod matches -> this on stderr, exit 0.
            sys.stderr.write(f"No resources found in {ns} namespace.\n")
            return 0
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
    # kubectl logs --help: --tail "Defaults to -1 with no selector, showing all log lines otherwise 10, if a
    # selector is provided."
    tail = int(a.get("--tail", "10" if sel else "-1") or -1)
    since = a.get("--since")
    newer_than = time.time() - _seconds(since) if since else None
    since_time = a.get("--since-time")
    if since_time:
        import datetime

        newer_than = datetime.datetime.fromisoformat(since_time.replace("Z", "+00:00")).timestamp()
    prefix = "--prefix" in a.bools
    source: dict[str, list[Any]] = snapshot.get("logs", {})
    if "--previous" in a.bools or a.get("--previous") == "true":
        source = _previous(pods, a.get("-c"), snapshot.get("knobs") or {})
    for p in pods:
        app = p["metadata"].get("labels", {}).get("app", p["metadata"]["name"])
        entries = source.get(app, [])
        if newer_than is not None:
            entries = [e for e in entries if isinstance(e, dict) and float(e.get("at", 0)) > newer_than]
        lines = [str(e.get("text", "")) if isinstance(e, dict) else e for e in entries]
        if tail >= 0:
            lines = lines[-tail:] if tail else []
        container = (p.get("spec", {}).get("containers") or [{"name": app}])[0]["name"]
        pre = f"[pod/{p['metadata']['name']}/{container}] " if prefix else ""
        out = sys.stdout
        for ln in lines:
            out.write(pre + ln + "\n")
    sys.stdout.flush()
    if "--follow" in a.bools:
        follow = float(state.knob("logs_follow_seconds", 0) or 0)
        time.sleep(follow)
    return 0


def _previous(pods: list[dict[str, Any]], container: str | None, knobs: dict[str, Any]) -> dict[str, list[Any]]:
    from fakelib.kubectl import Fail

    out: dict[str, list[Any]] = {}
    for p in pods:
        statuses = p.get("status", {}).get("containerStatuses") or []
        cs = next((s for s in statuses if container in (None, s.get("name"))), None)
        if cs is None or not (cs.get("lastState") or {}).get("terminated"):
            name = container or (cs or {}).get("name") or ""
            raise Fail(f'Error from server (BadRequest): previous terminated container "{name}" in pod '
                       f'"{p["metadata"]["name"]}" not found')
        app = p["metadata"].get("labels", {}).get("app", p["metadata"]["name"])
        out[app] = list((knobs.get("previous_logs") or {}).get(app) or [])
    return out


def _snapshot() -> dict[str, Any]:
    """The state without taking the lock: writers replace state.json atomically (state._save uses
    os.replace), so a plain read sees a whole version, and concurrent log reads do not queue up."""
    import json
    import os

    try:
        with open(os.path.join(state.state_dir(), "state.json"), encoding="utf-8") as f:
            data: dict[str, Any] = json.load(f)
    except FileNotFoundError:
        return state.read()
    data.setdefault("clusters", {})
    return data
