"""State of the fake world, kept in $DEVCTL_FAKE_STATE (a temp dir per test).

- state.json: docker containers/networks/images, the objects of each "cluster" (by context), knobs.
- calls.jsonl: one JSON line per tool call.
- The kubeconfig is the real file named by $KUBECONFIG (kind writes contexts there, kubectl reads it),
  as with the real tools.

All read-modify-write goes through ``txn()`` under an fcntl lock, because devctl runs steps in
parallel. Delays (knobs) are slept outside the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from typing import Any

DEFAULT: dict[str, Any] = {
    "docker": {
        "daemon": "up",
        "containers": {},
        "networks": ["bridge", "host", "none"],
        "images": [],
    },
    "clusters": {},  # context name -> {"objects": {key: obj}, "seq": int}
    "knobs": {},
}


def state_dir() -> str:
    d = os.environ.get("DEVCTL_FAKE_STATE")
    if not d:
        raise SystemExit("fake tools need DEVCTL_FAKE_STATE (set by the fake_tools fixture)")
    os.makedirs(d, exist_ok=True)
    return d


def _path(name: str) -> str:
    return os.path.join(state_dir(), name)


_held = 0  # lock depth in this (single-threaded) fake process


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    # Re-entrant: a knob read inside txn() (cluster_objects.refresh_status, the sims) would otherwise
    # flock a second descriptor of the same file and wait for itself forever.
    global _held
    if _held:
        _held += 1
        try:
            yield
        finally:
            _held -= 1
        return
    with open(_path("state.lock"), "a+") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        _held = 1
        try:
            yield
        finally:
            _held = 0
            fcntl.flock(lk, fcntl.LOCK_UN)


def _load() -> dict[str, Any]:
    try:
        with open(_path("state.json"), encoding="utf-8") as f:
            data: dict[str, Any] = json.load(f)
    except FileNotFoundError:
        data = json.loads(json.dumps(DEFAULT))
    for k, v in DEFAULT.items():
        data.setdefault(k, json.loads(json.dumps(v)))
    return data


def _save(data: dict[str, Any]) -> None:
    tmp = _path("state.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, _path("state.json"))


@contextlib.contextmanager
def txn() -> Iterator[dict[str, Any]]:
    """Read-modify-write of the whole state under the lock."""
    with _locked():
        data = _load()
        yield data
        _save(data)


def read() -> dict[str, Any]:
    with _locked():
        return _load()


def knob(name: str, default: Any = None) -> Any:
    """A behaviour switch set by a test (``FakeWorld.set_knob``), e.g. a delay or a failure."""
    return read()["knobs"].get(name, default)


def bump_counter(name: str) -> int:
    """Increment and return a named counter (e.g. how many webhook calls were refused so far)."""
    with txn() as s:
        counters = s.setdefault("counters", {})
        counters[name] = counters.get(name, 0) + 1
        return int(counters[name])


def sleep_knob(name: str) -> None:
    delay = float(knob(name, 0) or 0)
    if delay > 0:
        time.sleep(delay)


def log_call(tool: str, argv: list[str]) -> None:
    entry = {
        "tool": tool,
        "argv": argv,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "time": time.time(),
        "current_context": current_context(),
    }
    if tool == "skaffold":
        # Skaffold runs `kubectl` by name, found on its PATH (skaffold pkg/skaffold/kubectl/cli.go:
        # exec.CommandContext(ctx, "kubectl", args...)); the fake runs its kubectl in-process, so it notes
        # which one the real Skaffold would have run.
        import shutil

        entry["kubectl_on_path"] = shutil.which("kubectl")
    line = json.dumps(entry) + "\n"
    # O_APPEND writes of one line are atomic enough for our sizes; no lock needed.
    fd = os.open(_path("calls.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


# -- kubeconfig (the real file, like kind and kubectl use) ----------------------------------------


def kubeconfig_path() -> str:
    kc = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return kc or os.path.join(os.path.expanduser("~"), ".kube", "config")


def read_kubeconfig() -> dict[str, Any]:
    import yaml

    try:
        with open(kubeconfig_path(), encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except FileNotFoundError:
        data = {}
    data.setdefault("apiVersion", "v1")
    data.setdefault("kind", "Config")
    for key in ("clusters", "contexts", "users"):
        data[key] = data.get(key) or []
    data.setdefault("current-context", "")
    return data


def write_kubeconfig(data: dict[str, Any]) -> None:
    import yaml

    path = kubeconfig_path()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(data, f, sort_keys=False)


def current_context() -> str:
    path = kubeconfig_path()
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("current-context:"):
                    return line.split(":", 1)[1].strip().strip("'\"")
    except FileNotFoundError:
        pass
    return ""


def context_names() -> list[str]:
    return [c.get("name", "") for c in read_kubeconfig()["contexts"]]
