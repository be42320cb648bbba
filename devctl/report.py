"""Progress reporting for workflows (kind's ``cli.Status``): steps never print, they report.

Three reporters: a rich spinner with ✓/✗ and durations on a terminal, plain lines when stderr is
not a terminal (CI, pipes: no control codes), and a silent one that records events for tests. rich is
imported only to draw on a terminal: the plain path needs none of it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


class Reporter(Protocol):
    def step_started(self, title: str) -> None: ...
    def step_done(self, title: str, seconds: float, note: str = "") -> None: ...
    def step_skipped(self, title: str, reason: str) -> None: ...
    def step_failed(self, title: str, seconds: float, reason: str = "") -> None: ...
    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def pause(self) -> AbstractContextManager[None]:
        """Stop drawing while a child owns the terminal (a sudo password prompt)."""
        ...

    def close(self) -> None: ...


def _dur(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{seconds % 60:04.1f}s"


class SilentReporter:
    """Records what happened; tests assert on ``events``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def _add(self, kind: str, title: str, detail: str = "") -> None:
        with self._lock:
            self.events.append((kind, title, detail))

    def step_started(self, title: str) -> None:
        self._add("start", title)

    def step_done(self, title: str, seconds: float, note: str = "") -> None:
        self._add("done", title, note)

    def step_skipped(self, title: str, reason: str) -> None:
        self._add("skip", title, reason)

    def step_failed(self, title: str, seconds: float, reason: str = "") -> None:
        self._add("fail", title, reason)

    def info(self, message: str) -> None:
        self._add("info", message)

    def warn(self, message: str) -> None:
        self._add("warn", message)

    def pause(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def close(self) -> None:
        pass


class PlainReporter:
    """One line per event, no colour or cursor movement: for pipes, CI and NO_COLOR terminals."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()

    def _line(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def step_started(self, title: str) -> None:
        self._line(f" • {title} ...")

    def step_done(self, title: str, seconds: float, note: str = "") -> None:
        self._line(f" ✓ {title} ({_dur(seconds)})" + (f": {note}" if note else ""))

    def step_skipped(self, title: str, reason: str) -> None:
        self._line(f" ✓ {title}: {reason}")

    def step_failed(self, title: str, seconds: float, reason: str = "") -> None:
        self._line(f" ✗ {title} ({_dur(seconds)})" + (f": {reason}" if reason else ""))

    def info(self, message: str) -> None:
        self._line(message)

    def warn(self, message: str) -> None:
        self._line(f"WARNING: {message}")

    def pause(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def close(self) -> None:
        pass


class RichReporter:
    """Spinners for running steps (several at once when steps run in parallel), ✓/✗ lines when done."""

    def __init__(self, console: Console) -> None:
        from rich.live import Live

        self.console = console
        self._running: dict[str, float] = {}
        self._lock = threading.Lock()
        self._live = Live(console=console, refresh_per_second=8, transient=True, get_renderable=self._render)
        self._live.start()

    def _render(self) -> RenderableType:
        from rich.spinner import Spinner
        from rich.table import Table

        grid = Table.grid()
        with self._lock:
            items = list(self._running.items())
        for title, started in items:
            grid.add_row(Spinner("dots", text=f"{title} ({_dur(time.monotonic() - started)})"))
        return grid

    def step_started(self, title: str) -> None:
        with self._lock:
            self._running[title] = time.monotonic()

    def _finish(self, title: str) -> None:
        with self._lock:
            self._running.pop(title, None)

    def step_done(self, title: str, seconds: float, note: str = "") -> None:
        self._finish(title)
        suffix = f": {note}" if note else ""
        self.console.print(f" [green]✓[/] {title} [dim]({_dur(seconds)})[/]{suffix}", highlight=False)

    def step_skipped(self, title: str, reason: str) -> None:
        self._finish(title)
        self.console.print(f" [green]✓[/] {title}: [dim]{reason}[/]", highlight=False)

    def step_failed(self, title: str, seconds: float, reason: str = "") -> None:
        self._finish(title)
        suffix = f": {reason}" if reason else ""
        self.console.print(f" [red]✗[/] {title} [dim]({_dur(seconds)})[/]{suffix}", highlight=False)

    def info(self, message: str) -> None:
        self.console.print(message, highlight=False, markup=False)

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]WARNING:[/] {message}", highlight=False)

    @contextlib.contextmanager
    def _paused(self) -> Iterator[None]:
        self._live.stop()
        try:
            yield
        finally:
            self._live.start()

    def pause(self) -> AbstractContextManager[None]:
        return self._paused()

    def close(self) -> None:
        self._live.stop()


def _plain_by_environment() -> bool:
    return bool(os.environ.get("NO_COLOR") or os.environ.get("CI"))


def reporter_for(console: Console) -> Reporter:
    """Spinners on an interactive terminal; plain lines otherwise (pipes, and CI or NO_COLOR anywhere)."""
    if console.is_terminal and not _plain_by_environment():
        return RichReporter(console)
    return PlainReporter(console.file)


def stderr_reporter(make_console: Callable[[], Console]) -> Reporter:
    """``reporter_for`` the stderr console ``make_console`` makes, made only if spinners are possible:
    NO_COLOR and CI ask for plain lines on any stream, and rich takes a stream that is no tty for no
    terminal unless FORCE_COLOR or TTY_COMPATIBLE say otherwise."""
    stream = sys.stderr
    if stream is not None:
        if _plain_by_environment():
            return PlainReporter(stream)
        if not ({"FORCE_COLOR", "TTY_COMPATIBLE"} & os.environ.keys()) and not _isatty(stream):
            return PlainReporter(stream)
    return reporter_for(make_console())


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no such method, or closed
        return False
