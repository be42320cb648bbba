"""Owns Skaffold's process group: Ctrl-C handling, the cleanup deadline, and no process left behind.

skaffold.md §4: Skaffold treats SIGINT, SIGTERM and SIGPIPE as a graceful stop and cleans up, and
swallows further presses; the kubectl processes it starts would otherwise get the terminal's SIGINT
too (#2690). So Skaffold runs in its own session (``Runner.start``), devctl catches Ctrl-C itself and
forwards exactly ONE SIGINT to the group, waits up to ``cleanup_timeout`` for Skaffold to finish,
then SIGKILLs the group; a second Ctrl-C kills at once. Whatever happens, the group is SIGKILLed once
Skaffold has exited, so no grandchild (a stuck ``kubectl port-forward``) outlives devctl.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from devctl.errors import EXIT_INTERRUPTED
from devctl.runner import Background

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Outcome:
    exit_code: int  # what devctl should exit with
    skaffold_code: int | None  # Skaffold's own exit status; negative = killed by that signal
    interrupted: bool  # the user asked to stop (Ctrl-C or SIGTERM)
    killed: bool  # devctl had to SIGKILL the group (timeout, or a second Ctrl-C)
    timed_out: bool  # ... because the cleanup did not finish within the timeout


class Supervisor:
    """Runs one process group to its end. ``start`` launches it; callbacks tell the view what happens."""

    def __init__(
        self,
        start: Callable[[], Background],
        *,
        cleanup_timeout: float,
        on_stopping: Callable[[float], None] = lambda timeout: None,
        on_killing: Callable[[str], None] = lambda why: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._start = start
        self.cleanup_timeout = cleanup_timeout
        self._on_stopping = on_stopping
        self._on_killing = on_killing
        self._clock = clock
        # One item per press. No lock: request_stop runs in the signal handler, on the main thread, which
        # may be inside ``presses`` at that moment; a lock held there would never be released (a hang on
        # Ctrl-C). list.append and len are single, atomic operations in CPython.
        self._presses: list[None] = []

    def request_stop(self) -> None:
        """What a Ctrl-C does (thread-safe; also called from the signal handler)."""
        self._presses.append(None)

    @property
    def presses(self) -> int:
        return len(self._presses)

    def run(self) -> Outcome:
        with _handlers(self.request_stop):
            proc = self._start()
            try:
                return self._supervise(proc)
            finally:
                # The group outlives its leader when a child was left behind (a port-forward, a hung
                # kubectl): nothing devctl started may survive it. No-op when the group is empty.
                proc.signal_group(signal.SIGKILL)
                proc.drain()

    def _supervise(self, proc: Background) -> Outcome:
        forwarded_at: float | None = None
        killed = timed_out = False
        while True:
            code = proc.wait(POLL_SECONDS)
            if code is not None:
                break
            presses = self.presses
            if presses and forwarded_at is None:
                proc.signal_group(signal.SIGINT)  # exactly one (skaffold.md §4)
                forwarded_at = self._clock()
                self._on_stopping(self.cleanup_timeout)
            if killed:
                continue
            if presses >= 2:
                killed = True
                self._on_killing("second Ctrl-C")
                proc.signal_group(signal.SIGKILL)
            elif forwarded_at is not None and self._clock() - forwarded_at >= self.cleanup_timeout:
                killed = timed_out = True
                self._on_killing(f"Skaffold did not finish cleaning up within {self.cleanup_timeout:g} s")
                proc.signal_group(signal.SIGKILL)
        interrupted = forwarded_at is not None or self.presses > 0
        return Outcome(_exit_code(code, interrupted, killed), code, interrupted, killed, timed_out)


def _exit_code(code: int, interrupted: bool, killed: bool) -> int:
    if killed:
        return EXIT_INTERRUPTED  # stopped before it could clean up gracefully (errors.py)
    if code < 0:
        return 128 - code  # killed by a signal nobody here sent: the shell's convention
    return code  # Skaffold's own: 0 after a signal (§4), 1 after a first-iteration failure


@contextlib.contextmanager
def _handlers(on_signal: Callable[[], None]) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP (the terminal went away) ask for a stop instead of ending devctl at
    once, which would leave Skaffold, in its own session, running; restored afterwards.

    Python only lets the main thread install handlers; elsewhere (tests driving ``request_stop``
    from a thread) the defaults stay.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        on_signal()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
