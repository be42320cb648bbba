"""Which devctl process runs the dev loop of a cluster, so `devctl down` can end it and a second
`devctl dev` for the same cluster is refused instead of fighting the first over the same Deployments.

One small JSON file per cluster under $XDG_STATE_HOME/devctl (default ~/.local/state/devctl). A file
whose process is gone (or is no longer devctl: pids are reused) is stale and ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from devctl.config import Config
from devctl.errors import DevctlError


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "devctl"


def path_for(cluster: str) -> Path:
    return state_dir() / f"dev-{cluster}.json"


@dataclass(frozen=True)
class RunningLoop:
    pid: int
    cluster: str
    started: float


def _is_devctl(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else (e.g. a sudo'd run)
    cmdline = Path(f"/proc/{pid}/cmdline")
    if sys.platform.startswith("linux") and cmdline.exists():
        try:
            return b"devctl" in cmdline.read_bytes()
        except OSError:
            return True
    return True


def find(cluster: str) -> RunningLoop | None:
    """The live dev loop of ``cluster``, or None (stale files are removed)."""
    p = path_for(cluster)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        loop = RunningLoop(int(data["pid"]), str(data["cluster"]), float(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if loop.pid == os.getpid() or not _is_devctl(loop.pid):
        with contextlib.suppress(OSError):
            p.unlink()
        return None
    return loop


@contextlib.contextmanager
def claim(cfg: Config) -> Iterator[None]:
    """Record this process as the cluster's dev loop for the duration; refuse if another one runs."""
    other = find(cfg.cluster)
    if other is not None:
        raise DevctlError(
            f"a dev loop for cluster {cfg.cluster} is already running (devctl pid {other.pid})",
            hint="use that terminal, or stop it with `devctl down` (or Ctrl-C there)",
        )
    p = path_for(cfg.cluster)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "cluster": cfg.cluster, "started": time.time()}), encoding="utf-8")
    os.replace(tmp, p)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            data = json.loads(p.read_text(encoding="utf-8"))
            if data.get("pid") == os.getpid():
                p.unlink()


def stop(
    cluster: str,
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    notify: Callable[[str], None] = lambda _m: None,
) -> RunningLoop | None:
    """End the cluster's running dev loop the way a user would: Ctrl-C (SIGINT) to that devctl, which
    forwards one SIGINT to Skaffold and waits for its cleanup; a second SIGINT after ``timeout`` makes it
    kill Skaffold's process group at once. Returns the loop that was stopped, None if none ran."""
    loop = find(cluster)
    if loop is None:
        return None
    notify(f"stopping the dev loop of cluster {cluster} (devctl pid {loop.pid}); Skaffold cleans up first")
    for grace in (timeout, 10.0):
        with contextlib.suppress(ProcessLookupError):
            os.kill(loop.pid, signal.SIGINT)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not _is_devctl(loop.pid):
                return loop
            sleep(0.1)
    raise DevctlError(
        f"the dev loop (devctl pid {loop.pid}) did not stop within {timeout + 10:g} s",
        hint=f"stop it yourself (kill {loop.pid}) and run `devctl down` again",
    )
