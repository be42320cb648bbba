"""`make bench`: the speed targets as ratios. Prints; never fails on timing (machines are shared and noisy).

1. startup: median `devctl --version` / median `python -c "import typer"` (target <= 1.5)
2. warm `devctl up --no-dev` against instant (replayed) fakes: external calls (<= 8) and
   wall time / `devctl --version` (<= 3)
3. cold `devctl up --no-dev` against the faithful fakes with scaled delays (cluster create 2 s, ingress
   ready 3 s after apply, image build 4 s): wall time / critical path (<= 1.15)
4. `devctl logs` throughput / `cat`'s (<= 3): 400,000 lines (the issue's 8 services x 50,000, spread
   evenly over the stack's 7 services: `devctl logs` takes only their names) from a (replayed) kubectl,
   against `cat` of the same bytes. Throughput, not start-up: each command is also timed on empty logs,
   and the ratio is of what the lines add, (logs(N) - logs(0)) / (cat(N) - cat(0)) (each the median of
   the differences within one round of runs), which cancels what does not grow with the lines (Python
   and typer start-up, one kubectl per service, exec). The whole-command ratio and `devctl --version`
   are printed below it, so the start-up is not hidden, and so is the CPU time the lines add across all
   the processes (on two cores the wall time hides work done in parallel). Both write into a pipe that
   another `cat` empties (the harness's own capture would be the bottleneck of both).
5. `devctl status` / (one (replayed) `kubectl get` + `devctl --version`) (<= 2)

Replay: the faithful fakes (tests/fakes) are Python programs, ~70-110 ms of interpreter start-up a call,
which would swamp what 2, 4 and 5 measure (devctl's own cost). So those benches first run the command
against the faithful fakes with DEVCTL_FAKE_RECORD set (fakelib/main.py stores each call's stdout,
stderr and exit code under a hash of its argv), then time it against tests/bench/replay.sh, a few-ms
shell stub that answers each call with the recording. The stubs log every call, which is the count of 2.
A baseline that involves a tool call (5) is replayed the same way.

Timed commands are interleaved (a, b, a, b, ...), and each ratio is the median over rounds of the ratio
(or, for 4, the difference) within one round, so a slow spell of this shared machine falls on both sides
alike and cancels. The medians of the single commands are printed below each ratio. The short commands
(1, 2b, 4 and 5: each run well under a second) get three times the rounds BENCH_RUNS says: on this
machine a single run moves by +-15%.

Each command runs with a private HOME and XDG_STATE_HOME (the dev loop's pid files), so nothing the
developer has is read or written.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FAKES = REPO / "tests" / "fakes"
REPLAY = REPO / "tests" / "bench" / "replay.sh"
TOOLS = ("docker", "kind", "kubectl", "skaffold")
PY = sys.executable
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
CLUSTER_CONTEXT = "kind-tour"


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def samples(fns: Mapping[str, Callable[[], object]], runs: int = RUNS) -> dict[str, list[float]]:
    """Wall times of each function, the functions run in turn (a, b, c, a, b, c, ...): the i-th time of
    every function comes from the same round."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            times[name].append(timed(fn))
    return times


def paired_ratio(times: Mapping[str, list[float]], num: str, *den: str) -> float:
    """The median, over rounds, of ``num``'s time over the sum of the ``den`` times of the same round."""
    return statistics.median(
        times[num][i] / sum(times[d][i] for d in den) for i in range(len(times[num]))
    )


def paired_cost(times: Mapping[str, list[float]], with_: str, without: str) -> float:
    """The median, over rounds, of what ``with_`` took more than ``without`` in the same round: a slow
    spell of this shared machine falls on both runs of a round and cancels, as it would not in a
    difference of two medians taken over all rounds."""
    return statistics.median(a - b for a, b in zip(times[with_], times[without], strict=True))


def run(argv: list[str], env: Mapping[str, str] | None = None, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=dict(env) if env else None, capture_output=True, text=True, check=False,
                          cwd=REPO, **kw)  # type: ignore[call-overload]


def devctl(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run([PY, "-m", "devctl", *args], env=env)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def report(name: str, value: float, target: float, unit: str = "x") -> None:
    verdict = "ok" if value <= target else "OVER TARGET"
    print(f"{name:<58} {value:8.2f}{unit}   target <= {target:g}{unit}   {verdict}")


def note(text: str) -> None:
    print(f"   {text}")


# What devctl asks a kind, kubectl or skaffold it found on PATH (not in its tool store), once per run.
VERSION_PROBES = ("kind version", "kubectl version --client", "skaffold version")


def fake_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVCTL_", "SKAFFOLD_"))}
    env.update({
        "PATH": f"{FAKES}{os.pathsep}{env.get('PATH', '')}",
        "DEVCTL_FAKE_STATE": str(tmp / "state"),
        "DEVCTL_FAKE_PYTHON": PY,
        "KUBECONFIG": str(tmp / "kubeconfig"),
        "DEVCTL_HOSTS_FILE": str(tmp / "hosts"),
        "DEVCTL_HTTP_PORT": str(free_port()),
        "DEVCTL_HTTPS_PORT": str(free_port()),
        "DEVCTL_REGISTRY_PORT": str(free_port()),
        "DEVCTL_INGRESS_MANIFEST": str(REPO / "tests" / "data" / "ingress-nginx-kind-v1.15.1.yaml"),
        "HOME": str(tmp / "home"),
        "XDG_STATE_HOME": str(tmp / "state-home"),
        "XDG_DATA_HOME": str(tmp / "data-home"),  # an empty tool store
        "DEVCTL_NO_TOOL_INSTALL": "1",  # the fakes on PATH are the tools: nothing to download
        "NO_COLOR": "1",
    })
    (tmp / "state").mkdir(parents=True, exist_ok=True)
    (tmp / "home").mkdir(exist_ok=True)
    (tmp / "hosts").write_text("127.0.0.1 localhost\n")
    env.update(extra)
    return env


def set_knobs(env: Mapping[str, str], **knobs: object) -> None:
    path = Path(env["DEVCTL_FAKE_STATE"]) / "state.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("knobs", {}).update(knobs)
    path.write_text(json.dumps(data))


# --- record and replay -------------------------------------------------------------------------------


def replay_arg(arg: str) -> str:
    """An argument as the replay key sees it: the private Skaffold config that `up`'s build step writes
    into a fresh temporary directory each run is named by its file name only (as replay.sh does)."""
    _, sep, rest = arg.partition("/devctl-skaffold-")
    if sep and "/" in rest:
        return "@TMP@/" + arg.rsplit("/", 1)[1]
    return arg


def _key(tool: str, argv: list[str]) -> str:
    return hashlib.md5("\0".join([tool, *argv, ""]).encode()).hexdigest()  # fakelib/main.py's key


def calls_so_far(env: Mapping[str, str]) -> int:
    log = Path(env["DEVCTL_FAKE_STATE"]) / "calls.jsonl"
    return len(log.read_text().splitlines()) if log.exists() else 0


Call = dict[str, Any]


def record(env: Mapping[str, str], rec: Path, argv: list[str]) -> tuple[subprocess.CompletedProcess[str], list[Call]]:
    """Run ``argv`` against the faithful fakes, recording every answer into ``rec``; with the calls the
    fakes saw (tool, argv). Recordings whose argv holds a per-run temporary path are also filed under the
    key replay.sh computes for them."""
    rec.mkdir(exist_ok=True)
    before = calls_so_far(env)
    res = run(argv, env={**env, "DEVCTL_FAKE_RECORD": str(rec)})
    lines = (Path(env["DEVCTL_FAKE_STATE"]) / "calls.jsonl").read_text().splitlines()[before:]
    calls = [json.loads(line) for line in lines]
    for call in calls:
        raw = _key(call["tool"], call["argv"])
        alias = _key(call["tool"], [replay_arg(a) for a in call["argv"]])
        if alias != raw and (rec / f"{raw}.code").exists():
            for ext in ("out", "err", "code"):
                shutil.copy(rec / f"{raw}.{ext}", rec / f"{alias}.{ext}")
    return res, calls


def replay_env(env: Mapping[str, str], tmp: Path, rec: Path) -> dict[str, str]:
    """``env`` with every tool answered by replay.sh from the recordings in ``rec``."""
    stubs = tmp / "stubs"
    stubs.mkdir(exist_ok=True)
    for tool in TOOLS:
        shutil.copy(REPLAY, stubs / tool)
        os.chmod(stubs / tool, 0o755)
    return {**env, "PATH": f"{stubs}{os.pathsep}{os.environ.get('PATH', '')}", "DEVCTL_REPLAY_DIR": str(rec)}


def replayed_calls(rec: Path) -> list[str]:
    log = rec / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def failed(what: str, res: subprocess.CompletedProcess[str]) -> None:
    print(f"{what} failed (exit {res.returncode}), skipped:\n{res.stderr[-2000:]}")


# --- the benches ---------------------------------------------------------------------------------------


def bench_startup() -> None:
    # Short commands: three times the runs, for a stable median.
    times = samples({"devctl": lambda: devctl("--version"), "typer": lambda: run([PY, "-c", "import typer"])},
                    runs=3 * RUNS)
    got = {name: statistics.median(ts) for name, ts in times.items()}
    report("1. devctl --version / python -c 'import typer'", paired_ratio(times, "devctl", "typer"), 1.5)
    note(f"devctl --version {got['devctl'] * 1000:.0f} ms, import typer {got['typer'] * 1000:.0f} ms")


def bench_warm_up() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = fake_env(tmp)
        first = devctl("up", "--no-dev", env=env)
        if first.returncode != 0:
            return failed("2. warm up: the cold run", first)
        rec = tmp / "replay"
        res, faithful = record(env, rec, [PY, "-m", "devctl", "up", "--no-dev"])
        if res.returncode != 0:
            return failed("2. warm up: the recorded run", res)
        renv = replay_env(env, tmp, rec)
        (rec / "calls.log").unlink(missing_ok=True)
        probe = devctl("up", "--no-dev", env=renv)
        if probe.returncode != 0:
            return failed("2. warm up: the replayed run", probe)
        # The tools come from PATH here, so devctl asks each for its version once (none is asked when
        # they are in devctl's store, as after `make up`): counted apart from the work's calls.
        probes = [c for c in replayed_calls(rec) if c in VERSION_PROBES]
        calls = [c for c in replayed_calls(rec) if c not in probes]
        # Short commands (under half a second): three times the runs, for a stable median.
        times = samples({"up": lambda: devctl("up", "--no-dev", env=renv), "version": lambda: devctl("--version")},
                        runs=3 * RUNS)
    got = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"{'2a. warm up --no-dev: external tool calls':<58} {len(calls):8d}    target <= 8   "
          f"{'ok' if len(calls) <= 8 else 'OVER TARGET'}")
    note(f"plus {len(probes)} version checks of tools found on PATH ({', '.join(probes) or 'none'})")
    if len(faithful) != len(calls) + len(probes):
        note(f"the faithful fakes saw {len(faithful)} calls when recorded, the replay {len(calls)}")
    note("calls: " + "; ".join(c.split(" --kube-context")[0].split(" --format")[0][:60] for c in calls))
    report("2b. warm up --no-dev / devctl --version", paired_ratio(times, "up", "version"), 3.0)
    note(f"warm up {got['up'] * 1000:.0f} ms, devctl --version {got['version'] * 1000:.0f} ms")


def bench_cold_up() -> None:
    delays = {"kind_create_delay": 2.0, "ingress_ready_after": 3.0, "image_build_delay": 4.0}
    # The longest chain of waits in up's step graph: cluster, then the longer of ingress and build.
    critical = delays["kind_create_delay"] + max(delays["ingress_ready_after"], delays["image_build_delay"])
    walls = []
    for _ in range(max(1, min(RUNS, 3))):  # ~7 s each
        with tempfile.TemporaryDirectory() as d:
            env = fake_env(Path(d))
            set_knobs(env, **delays)
            t = time.perf_counter()
            res = devctl("up", "--no-dev", env=env)
            walls.append(time.perf_counter() - t)
        if res.returncode != 0:
            return failed("3. cold up", res)
    wall = statistics.median(walls)
    report(f"3. cold up --no-dev / critical path ({critical:g} s)", wall / critical, 1.15)
    note("wall times " + ", ".join(f"{w:.2f} s" for w in walls))


def warm_world(tmp: Path, *, services: bool) -> dict[str, str] | None:
    """A cluster `up` made (no images built), optionally with the stack's Deployments applied."""
    env = fake_env(tmp)
    up = devctl("up", "--no-dev", "--no-build", env=env)
    if up.returncode != 0:
        failed("setting up the cluster", up)
        return None
    if services:
        # What Skaffold would deploy: the files of k8s/ (the 7 services; `up` applied k8s/infra/).
        applied = run(["kubectl", "--context", CLUSTER_CONTEXT, "apply", "-f", str(REPO / "k8s")], env=env)
        if applied.returncode != 0:
            failed("kubectl apply -f k8s/", applied)
            return None
    return env


def bench_logs() -> None:
    sys.path.insert(0, str(REPO))
    from devctl.stack import SERVICES  # every service `devctl logs` knows (infrastructure such as nats: not)

    # The volume, 8 services x 50,000 lines, spread over the stack's 7 services (the 8th would
    # have to be made up, and `devctl logs` only takes known names): the same 400,000 lines in total.
    total = 8 * 50_000
    sizes = {"full": {s: total // len(SERVICES) + (i < total % len(SERVICES)) for i, s in enumerate(SERVICES)},
             "none": dict.fromkeys(SERVICES, 0)}  # the fixed costs alone, for the throughput below
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = warm_world(tmp, services=True)
        if env is None:
            return
        stub = tmp / "stub"
        stub.mkdir()
        shutil.copy(REPO / "tests" / "bench" / "logs_kubectl.sh", stub / "kubectl")
        os.chmod(stub / "kubectl", 0o755)
        renvs: dict[str, dict[str, str]] = {}
        outputs: dict[str, list[Path]] = {}
        for size, counts in sizes.items():
            lines = sum(counts.values())
            logs = {s: [f"{s} request {i} GET /api/v1/{s}/{i} 200 {i % 97}ms" for i in range(n)]
                    for s, n in counts.items()}
            state_file = tmp / "state" / "state.json"
            state = json.loads(state_file.read_text())
            state["logs"] = logs
            state_file.write_text(json.dumps(state))
            # The faithful fake answers once (each of its calls parses the whole state: megabytes of lines) ...
            rec = tmp / f"replay-{size}"
            res, calls = record(env, rec, [PY, "-m", "devctl", "logs", *SERVICES])
            if res.returncode != 0:
                return failed(f"4. logs ({size}, recorded)", res)
            if res.stdout.count("\n") != lines:
                print(f"4. logs ({size}): devctl printed {res.stdout.count(chr(10))} lines, not {lines}; skipped")
                return
            # ... then each service's answer is replayed by a kubectl that only `cat`s it (logs_kubectl.sh).
            answers = tmp / f"answers-{size}"
            answers.mkdir()
            for c in calls:
                selector = next((a for a in c["argv"] if a.startswith("app=")), None)
                if c["tool"] == "kubectl" and selector:
                    shutil.copy(rec / f"{_key(c['tool'], c['argv'])}.out", answers / f"{selector[4:]}.log")
            renv = {**env, "PATH": f"{stub}{os.pathsep}{os.environ.get('PATH', '')}",
                    "DEVCTL_BENCH_LOGS": str(answers)}
            replayed = devctl("logs", *SERVICES, env=renv)
            if replayed.returncode != 0 or sorted(replayed.stdout.splitlines()) != sorted(res.stdout.splitlines()):
                return failed(f"4. logs ({size}): through the stub devctl did not print what it did through the "
                              "fake;", replayed)
            renvs[size] = renv
            outputs[size] = sorted(answers.iterdir())  # the same bytes devctl reads, for one `cat`

        cpu: dict[str, list[float]] = {}

        def drained(name: str, argv: list[str], env: Mapping[str, str] | None = None) -> Callable[[], object]:
            # Timed with stdout into a pipe that a second `cat` empties, as `devctl logs | grep` would be
            # read: run()'s capture (32 KiB reads, then decoding, in this Python) is slower than either
            # writer and would time itself on both sides, hiding devctl's own cost per byte. The CPU time
            # of every process involved (devctl, its kubectl stubs, both cats) is kept too: on two cores
            # the wall time hides work that runs in parallel, and a busier machine would show it.
            def go() -> None:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                sink = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
                assert sink.stdin is not None
                subprocess.run(argv, env=env, stdout=sink.stdin, stderr=subprocess.DEVNULL, cwd=REPO, check=False)
                sink.stdin.close()
                sink.wait()
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu.setdefault(name, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)

            return go

        def logs_run(name: str, size: str) -> Callable[[], object]:
            return drained(name, [PY, "-m", "devctl", "logs", *SERVICES], env=renvs[size])

        def cat_run(name: str, size: str) -> Callable[[], object]:
            return drained(name, ["cat", *map(str, outputs[size])])

        # Three times the runs: the result is a difference, with the noise of both runs, and devctl's
        # start-up (most of each run) varies by tens of ms on a loaded machine.
        times = samples({"logs": logs_run("logs", "full"), "cat": cat_run("cat", "full"),
                         "logs0": logs_run("logs0", "none"), "cat0": cat_run("cat0", "none"),
                         "version": lambda: devctl("--version")}, runs=3 * RUNS)
        size_mb = sum(p.stat().st_size for p in outputs["full"]) / 1e6
    got = {name: statistics.median(ts) for name, ts in times.items()}
    ms = {k: v * 1000 for k, v in got.items()}
    # Throughput: what the lines add to each command's time. Start-up (Python and typer for devctl; exec
    # for cat) and devctl's one kubectl per service are in both runs of a command and cancel; what is left
    # is moving (and for devctl prefixing) the lines. Differences within a round (see paired_cost).
    logs_cost, cat_cost = (1000 * paired_cost(times, "logs", "logs0"), 1000 * paired_cost(times, "cat", "cat0"))
    label = f"4. devctl logs / cat, throughput ({total:,} lines, {len(SERVICES)} services)"
    if cat_cost <= 0 or logs_cost <= 0:
        print(f"{label}: the lines added nothing to one command's median (devctl logs {logs_cost:.0f} ms, "
              f"cat {cat_cost:.0f} ms): too noisy to tell; skipped")
        return
    report(label, logs_cost / cat_cost, 3.0)
    note(f"what {total:,} lines ({size_mb:.1f} MB) add (median over rounds): devctl logs {logs_cost:.0f} ms "
         f"(medians {ms['logs']:.0f} with, {ms['logs0']:.0f} without), cat {cat_cost:.0f} ms "
         f"({ms['cat']:.0f} with, {ms['cat0']:.0f} without)")
    logs_cpu, cat_cpu = (1000 * paired_cost(cpu, "logs", "logs0"), 1000 * paired_cost(cpu, "cat", "cat0"))
    note(f"CPU time the lines add, all processes (median over rounds): devctl logs {logs_cpu:.0f} ms, cat "
         f"{cat_cpu:.0f} ms = {logs_cpu / cat_cpu if cat_cpu > 0 else float('nan'):.2f}x (not the target: wall "
         "time is the throughput a reader sees)")
    note(f"whole commands: devctl logs / cat = {ms['logs']:.0f} / {ms['cat']:.0f} ms = "
         f"{got['logs'] / got['cat']:.2f}x; devctl --version alone {ms['version']:.0f} ms, so (logs - version) / cat "
         f"= {(got['logs'] - got['version']) / got['cat']:.2f}")


def bench_status() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = warm_world(tmp, services=True)
        if env is None:
            return
        rec = tmp / "replay"
        res, faithful = record(env, rec, [PY, "-m", "devctl", "status", "--json"])
        if res.returncode not in (0, 1) or not res.stdout.startswith("{"):
            return failed("5. status (recorded)", res)
        # The baseline: the one kubectl read status makes, recorded and replayed the same way.
        gets = [c["argv"] for c in faithful if c["tool"] == "kubectl" and c["argv"] != ["version", "--client"]]
        if len(gets) != 1:
            print(f"5. status: expected one kubectl call, the fakes saw {len(gets)}; skipped")
            return
        one_get = ["kubectl", *gets[0]]
        record(env, rec, one_get)
        renv = replay_env(env, tmp, rec)
        (rec / "calls.log").unlink(missing_ok=True)
        probe = devctl("status", "--json", env=renv)
        if _age_free(probe.stdout) != _age_free(res.stdout):
            return failed("5. status: the replay did not print what the faithful fakes did;", probe)
        # The tools come from PATH here, so devctl asks each for its version once (none is asked when
        # they are in devctl's store, as after `make up`): counted apart from the work's calls.
        probes = [c for c in replayed_calls(rec) if c in VERSION_PROBES]
        calls = [c for c in replayed_calls(rec) if c not in probes]
        # Short commands: three times the runs, for a stable median.
        times = samples({"status": lambda: devctl("status", "--json", env=renv),
                         "get": lambda: run(one_get, env=renv), "version": lambda: devctl("--version")},
                        runs=3 * RUNS)
    got = {name: statistics.median(ts) for name, ts in times.items()}
    report("5. devctl status / (one fake kubectl get + devctl --version)",
           paired_ratio(times, "status", "get", "version"), 2.0)
    note(f"status {got['status'] * 1000:.0f} ms ({len(calls)} calls and {len(probes)} version checks of tools on "
         f"PATH), one replayed kubectl get {got['get'] * 1000:.0f} ms, devctl --version {got['version'] * 1000:.0f} ms")


def _age_free(text: str) -> str:
    """status JSON without the ages (seconds since a pod started differ between two runs)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return text
    for s in [*doc.get("services", []), *doc.get("infrastructure", [])]:
        s.pop("age_seconds", None)
    return json.dumps(doc, sort_keys=True)


BENCHES: dict[str, Callable[[], None]] = {
    "1": bench_startup, "2": bench_warm_up, "3": bench_cold_up, "4": bench_logs, "5": bench_status,
}


def main(argv: list[str]) -> int:
    """`python -m tests.bench [N ...]`: all benches, or only those numbered (`make bench BENCH=5`)."""
    unknown = [a for a in argv if a not in BENCHES]
    if unknown:
        print(f"unknown bench {', '.join(unknown)}: choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    print(f"devctl benchmarks ({RUNS} rounds where repeated, {3 * RUNS} for short commands; "
          "medians of per-round ratios)")
    # An installed devctl runs from bytecode, like typer (compiled by pip): without this, with
    # PYTHONDONTWRITEBYTECODE set, every run would compile devctl's modules from source again.
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "devctl"), str(FAKES)], check=True)
    for name, bench in BENCHES.items():
        if not argv or name in argv:
            bench()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
