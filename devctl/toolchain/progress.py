"""How a download shows its progress: a bar with bytes, speed and time left on a terminal, plain lines
when stderr is piped (CI logs, `make up | tee`), nothing but lines a test can read otherwise.

The choice follows the run's reporter (``devctl.report``): its rich console draws the bar, with the
reporter's own spinner paused meanwhile (rich draws one live display at a time); a plain reporter gets
lines through its ``info``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from devctl.report import Reporter, RichReporter

if TYPE_CHECKING:
    from rich.console import Console


class DownloadProgress(Protocol):
    def begin(self, label: str, url: str, total: int | None) -> None: ...
    def advance(self, size: int) -> None: ...
    def end(self, ok: bool) -> None: ...


def human_size(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


class LineDownloads:
    """One line when a download starts, one at each quarter of it, one when it ends."""

    def __init__(self, write: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.write = write
        self.clock = clock
        self._label = ""
        self._total: int | None = None
        self._done = 0
        self._quarter = 0
        self._started = 0.0

    def begin(self, label: str, url: str, total: int | None) -> None:
        self._label, self._total, self._done, self._quarter = label, total, 0, 0
        self._started = self.clock()
        size = f" ({human_size(total)})" if total is not None else ""
        self.write(f"downloading {label}{size} from {url}")

    def advance(self, size: int) -> None:
        self._done += size
        if self._total:
            quarter = min(3, 4 * self._done // self._total)
            if quarter > self._quarter:
                self._quarter = quarter
                self.write(f"  {self._label}: {25 * quarter}% ({human_size(self._done)})")

    def end(self, ok: bool) -> None:
        if not ok:
            return
        seconds = max(self.clock() - self._started, 1e-6)
        speed = human_size(self._done / seconds)
        self.write(f"  {self._label}: {human_size(self._done)} in {seconds:.1f} s ({speed}/s)")


class RichDownloads:
    """A rich progress bar (bytes done and total, speed, time left) while the reporter's spinner is paused."""

    def __init__(self, console: Console, pause: Callable[[], contextlib.AbstractContextManager[None]]) -> None:
        self.console = console
        self.pause = pause
        self._stack = contextlib.ExitStack()
        self._progress: Any = None
        self._task: Any = None

    def begin(self, label: str, url: str, total: int | None) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._stack.enter_context(self.pause())
        self.console.print(f"downloading {label} from {url}", highlight=False, markup=False)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.console,
        )
        self._stack.enter_context(self._progress)
        self._task = self._progress.add_task(label, total=total)

    def advance(self, size: int) -> None:
        self._progress.update(self._task, advance=size)

    def end(self, ok: bool) -> None:
        self._stack.close()


def downloads_for(reporter: Reporter) -> DownloadProgress:
    """A bar when the reporter draws on a terminal, plain lines otherwise."""
    if isinstance(reporter, RichReporter):
        return RichDownloads(reporter.console, reporter.pause)
    return LineDownloads(reporter.info)
