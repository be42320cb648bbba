"""`devctl logs`: the chosen services' logs through kubectl, multiplexed behind aligned service names.

Reads through kubectl, so it works with or without `skaffold dev` running. Throughput matters (hundreds
of thousands of lines): kubectl's stdout arrives in raw 64 KiB chunks (``Runner.start_chunks``) and is
prefixed with bytes operations, whole lines at a time, never per line in Python, and never through rich.

- Without ``--follow``: one ``kubectl logs -l app=<service> --all-containers`` per service, concurrently.
  ``--tail=-1`` is passed explicitly: with a selector kubectl's default is 10 lines (kubectl logs --help).
- With ``--follow``: the pods of the chosen services are listed (one call every ``poll`` seconds for
  all of them) and each pod is followed with ``kubectl logs -f pod/<name> --all-containers``. A new pod
  gets its own stream from its first line; a stream that ends while its pod still exists (a container
  restart) is started again with ``--since-time`` = when its last line arrived, so a restart shows what
  was written since, without repeating what was shown (same clock: the node is a container on this host).
"""

from __future__ import annotations

import contextlib
import datetime
import re
import select
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, TextIO

from devctl import prefixes
from devctl.context import Context
from devctl.errors import CommandError, DevctlError, UsageError
from devctl.runner import Background
from devctl.tools.kubectl import ClusterUnreachable, cluster_unreachable

NAMESPACE = "default"
UP_HINT = "is the cluster up? run `devctl up`"
# kubectl logs -l with no matching pod: this on stderr and exit 0 (docker-kubectl.md §3). Not an error:
# the service is simply not deployed.
_NO_PODS = re.compile(r"No resources found in \S+ namespace\.")
MAX_LOG_REQUESTS = 20  # kubectl's default 5 refuses to follow more pods than that per selector
POLL_SECONDS = 2.0
STOP_GRACE_SECONDS = 1.0

# A Go duration as kubectl's --since takes it: 5s, 2m, 3h, 1h30m, 500ms.
_DURATION = re.compile(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+")


@dataclass(frozen=True)
class LogOptions:
    services: tuple[str, ...]
    follow: bool = False
    since: str | None = None
    tail: int | None = None
    prefix: bool = True
    colour: bool = False


def choose(names: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    """The services asked for (all when none), in the order given, each once; UsageError names the known ones."""
    unknown = [n for n in names if n not in known]
    if unknown:
        which = ", ".join(repr(n) for n in dict.fromkeys(unknown))
        noun = "service" if len(set(unknown)) == 1 else "services"
        raise UsageError(f"unknown {noun} {which}; known services: {', '.join(known)}")
    return tuple(dict.fromkeys(names)) if names else tuple(known)


def check_since(since: str | None) -> str | None:
    if since is not None and not _DURATION.fullmatch(since):
        raise UsageError(f"invalid --since {since!r}: expected a duration such as 30s, 5m or 2h")
    return since


def check_tail(tail: int | None) -> int | None:
    if tail is not None and tail < -1:
        raise UsageError(f"invalid --tail {tail}: expected a number of lines, or -1 for all")
    return tail


def rfc3339(epoch: float) -> str:
    """``--since-time`` takes RFC 3339 (kubectl logs --help); microseconds keep a restart from repeating lines."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def prefix_bytes(name: str, names: Sequence[str], *, colour: bool) -> bytes:
    """``auth       | `` aligned to the longest chosen name; coloured with plain ANSI codes on a terminal."""
    label = name.ljust(prefixes.width(names))
    if colour:
        return f"\x1b[{prefixes.ansi(name, names)}m{label} |\x1b[0m ".encode()
    return f"{label} | ".encode()


class Output:
    """Serialises whole lines from many streams onto one binary stream; remembers a closed reader."""

    def __init__(self, out: BinaryIO, *, flush: bool) -> None:
        self.out = out
        self.flush = flush
        self.closed = threading.Event()  # the reader went away (`devctl logs | head`)
        self._lock = threading.Lock()

    def write(self, data: bytes | memoryview) -> None:
        if self.closed.is_set():
            raise BrokenPipeError
        with self._lock:
            try:
                self._write_all(memoryview(data))
                if self.flush:
                    self.out.flush()
            except (BrokenPipeError, ValueError):
                self.closed.set()
                raise BrokenPipeError from None

    def _write_all(self, view: memoryview) -> None:
        # Under PYTHONUNBUFFERED (or -u) sys.stdout.buffer is a raw FileIO: a write to a full pipe that a
        # signal interrupts returns short, and whatever it did not take would silently vanish.
        while view:
            try:
                n: int | None = self.out.write(view)
            except BlockingIOError as err:  # a non-blocking stdout behind a BufferedWriter
                n = err.characters_written
                self._wait_writable()
            if n is None:  # a non-blocking raw stdout that took nothing
                self._wait_writable()
                n = 0
            view = view[n:]

    def _wait_writable(self) -> None:
        _wait_writable(self.out)


def flush_fully(out: BinaryIO) -> None:
    """Flush what a BufferedWriter still holds, waiting while a non-blocking stdout is full (its flush
    raises BlockingIOError then, and a caller that gave up would lose the end of the logs)."""
    while True:
        try:
            out.flush()
            return
        except BlockingIOError:
            _wait_writable(out)


def _wait_writable(out: BinaryIO) -> None:
    select.select([], [out], [])


class Lines:
    """Turns one stream's chunks into prefixed whole lines (a chunk may end mid-line)."""

    def __init__(self, output: Output, prefix: bytes) -> None:
        self.output = output
        self.prefix = prefix
        self.pending = b""
        self.last_line_at = 0.0
        self._lock = threading.Lock()

    def feed(self, chunk: bytes) -> None:
        # Two copies of the data per chunk, both in C: joining (prefix, pending, chunk), then one
        # bytes.replace that puts the prefix after every newline. The last, partial line waits in
        # ``pending``; what is written is a view up to the last newline (no third copy), in one write (the
        # prefix and pending written apart would wake a waiting reader twice a chunk). Under this stream's
        # lock, so a restarted stream's chunks and ``end`` stay in order.
        prefix = self.prefix
        with self._lock:
            if prefix:
                data = b"".join((prefix, self.pending, chunk)).replace(b"\n", b"\n" + prefix)
                cut = data.rfind(b"\n")
                if cut < 0:
                    self.pending += chunk
                    return
                self.pending = data[cut + 1 + len(prefix) :]  # after the last newline come the prefix, then the rest
            else:
                data = self.pending + chunk if self.pending else chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    self.pending = data
                    return
                self.pending = data[cut + 1 :]
            self.last_line_at = time.time()  # wall clock: compared with the node's log timestamps
            self.output.write(memoryview(data)[: cut + 1])

    def end(self) -> None:
        with self._lock:
            rest, self.pending = self.pending, b""
            if rest:
                self.output.write(self.prefix + rest + b"\n")


class _Errors:
    """kubectl's stderr, shown once per distinct line behind the service prefix."""

    def __init__(self, err: TextIO, names: Sequence[str]) -> None:
        self.err = err
        self.names = names
        self.seen: set[tuple[str, str]] = set()
        self.unreachable: str | None = None
        self.undeployed: list[str] = []  # services without a pod
        self._lock = threading.Lock()

    def report_undeployed(self) -> None:
        """One line for the services without a pod, instead of kubectl's words behind each of them."""
        missing = [s for s in self.names if s in self.undeployed]
        if not missing:
            return
        everything = len(missing) == len(self.names)
        what = "nothing is deployed" if everything else f"not deployed: {', '.join(missing)}"
        self.err.write(f"{what} (no pod in namespace {NAMESPACE}); `devctl up` starts the stack\n")
        self.err.flush()

    def sink(self, service: str) -> Callable[[str], None]:
        def on_line(line: str) -> None:
            text = line.rstrip("\r\n")
            if not text:
                return
            with self._lock:
                if _NO_PODS.match(text):
                    self.undeployed.append(service)
                    return
                if cluster_unreachable(text):
                    # kubectl's last line says it best: client-go logs `E... memcache.go:265] ...` retries
                    # before it (docker-kubectl.md §3).
                    self.unreachable = text
                    return
                if (service, text) in self.seen:
                    return
                self.seen.add((service, text))
                self.err.write(f"{service.ljust(prefixes.width(self.names))} | {text}\n")
                self.err.flush()

        return on_line


def _base_args(opts: LogOptions) -> list[str]:
    args = ["--all-containers", f"--max-log-requests={MAX_LOG_REQUESTS}"]
    if opts.since:
        args.append(f"--since={opts.since}")
    return args


def _stop_all(procs: Sequence[Background]) -> None:
    for p in procs:
        p.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for p in procs:
        if p.wait(max(0.0, deadline - time.monotonic())) is None:
            p.signal_group(signal.SIGKILL)
            p.wait(1.0)


def show_logs(
    ctx: Context,
    opts: LogOptions,
    out: BinaryIO,
    err: TextIO,
    *,
    poll: float = POLL_SECONDS,
    stop: threading.Event | None = None,
) -> int:
    """Print the logs; 0 when every kubectl call succeeded, 1 otherwise (its reasons on ``err``).

    With ``follow`` it runs until ``stop`` is set, the reader goes away, or Ctrl-C (KeyboardInterrupt).
    """
    output = Output(out, flush=opts.follow)
    errors = _Errors(err, opts.services)
    if opts.follow:
        return _Follower(ctx, opts, output, errors, poll, stop or threading.Event()).run()
    return _once(ctx, opts, output, errors)


def _once(ctx: Context, opts: LogOptions, output: Output, errors: _Errors) -> int:
    procs: list[tuple[Background, Lines]] = []
    tail = opts.tail if opts.tail is not None else -1
    try:
        for svc in opts.services:
            lines = Lines(output, prefix_bytes(svc, opts.services, colour=opts.colour) if opts.prefix else b"")
            args = ["logs", "-n", NAMESPACE, "-l", f"app={svc}", *_base_args(opts), f"--tail={tail}"]
            proc = ctx.kubectl.stream_chunks(*args, on_chunk=lines.feed, on_stderr=errors.sink(svc))
            procs.append((proc, lines))
        codes = []
        for proc, lines in procs:
            # Until its stdout ends (it exited) or our reader went away; no polling delay per process.
            proc.drain(timeout=None)
            if output.closed.is_set():
                _stop_all([p for p, _ in procs])
                return 0
            code = proc.wait()
            lines.end()
            codes.append(code if code is not None else 1)
    except BrokenPipeError:
        _stop_all([p for p, _ in procs])
        return 0
    finally:
        # Nothing devctl started outlives it (each kubectl runs in its own process group).
        for p, _ in procs:
            if p.alive():
                _stop_all([p])
    if errors.unreachable:
        raise DevctlError(f"cannot read the logs: {errors.unreachable}", hint=UP_HINT)
    errors.report_undeployed()
    return 0 if all(c == 0 for c in codes) else 1


class _Pod:
    def __init__(self, name: str, service: str) -> None:
        self.name = name
        self.service = service
        self.proc: Background | None = None
        self.lines: Lines | None = None
        self.started_at = 0.0
        self.streams = 0


class _Follower:
    def __init__(
        self, ctx: Context, opts: LogOptions, output: Output, errors: _Errors, poll: float, stop: threading.Event
    ) -> None:
        self.stop = stop
        self.ctx = ctx
        self.opts = opts
        self.output = output
        self.errors = errors
        self.poll = poll
        self.pods: dict[str, _Pod] = {}
        self.first_listing = True

    def run(self) -> int:
        try:
            while not self._done():
                listed = self._list()
                if listed is not None:
                    self._reconcile(listed)
                self.first_listing = False
                deadline = time.monotonic() + self.poll
                while time.monotonic() < deadline and not self._done():
                    time.sleep(0.05)
            return 0
        finally:
            _stop_all([p.proc for p in self.pods.values() if p.proc is not None])
            for p in self.pods.values():
                if p.lines is not None:
                    with contextlib.suppress(BrokenPipeError):
                        p.lines.end()

    def _done(self) -> bool:
        return self.stop.is_set() or self.output.closed.is_set()

    def _list(self) -> dict[str, str] | None:
        """Pod name -> service, for the chosen services' pods (label ``app``) in ``default``."""
        try:
            doc = self.ctx.kubectl.get_json("pods", namespace=NAMESPACE, timeout=20)
        except ClusterUnreachable as e:
            if self.first_listing:
                raise  # one line, with the fix
            self.errors.sink("devctl")(f"listing pods failed: {e.message}")  # went away: keep trying
            return None
        except CommandError as e:
            self.errors.sink("devctl")(f"listing pods failed: {e.output_tail(1)}")
            return None
        out: dict[str, str] = {}
        for item in (doc or {}).get("items") or []:
            md = item.get("metadata") or {}
            app = (md.get("labels") or {}).get("app")
            if app in self.opts.services and md.get("name"):
                out[str(md["name"])] = str(app)
        return out

    def _reconcile(self, listed: dict[str, str]) -> None:
        for name, service in listed.items():
            pod = self.pods.get(name)
            if pod is None:
                pod = self.pods[name] = _Pod(name, service)
                # Pods there at the start honour --since/--tail; pods born later are shown from their first line.
                self._start(pod, initial=self.first_listing)
            elif pod.proc is None or not pod.proc.alive():
                self._finish(pod)
                self._start(pod, initial=False)
        for name in [n for n in self.pods if n not in listed]:
            pod = self.pods.pop(name)
            if pod.proc is not None and not pod.proc.alive():
                self._finish(pod)
            elif pod.proc is not None:
                self.pods[name] = pod  # still streaming its last lines; it ends on its own

    def _finish(self, pod: _Pod) -> None:
        if pod.proc is not None:
            pod.proc.drain()
        if pod.lines is not None:
            pod.lines.end()
        pod.proc = None

    def _start(self, pod: _Pod, *, initial: bool) -> None:
        opts = self.opts
        if pod.lines is None:
            prefix = prefix_bytes(pod.service, opts.services, colour=opts.colour) if opts.prefix else b""
            pod.lines = Lines(self.output, prefix)
        args = ["logs", "-n", NAMESPACE, f"pod/{pod.name}", "-f", "--all-containers"]
        if pod.streams == 0 and initial:
            if opts.since:
                args.append(f"--since={opts.since}")
            if opts.tail is not None:
                args.append(f"--tail={opts.tail}")
        elif pod.streams > 0:
            seen = pod.lines.last_line_at or pod.started_at
            args.append(f"--since-time={rfc3339(seen)}")
        pod.started_at = time.time()
        pod.streams += 1
        sink = self.errors.sink(pod.service)
        pod.proc = self.ctx.kubectl.stream_chunks(*args, on_chunk=pod.lines.feed, on_stderr=sink)
