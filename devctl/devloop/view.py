"""Drawing the dev loop: a rich Live table on a terminal (``devctl.devloop.live``), plain prefixed lines
everywhere else (here).

Both views take the same calls. Skaffold's lines and the application logs scroll, each behind a
coloured, aligned name (``skaffold`` for Skaffold's own); on a terminal a table with one row per service
and a footer (the URL, the loop's state, the keys) stays below them. The plain view writes no control
codes at all: it is what a pipe, CI or ``TERM=dumb`` gets. NO_COLOR is honoured by the consoles.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Protocol, TextIO

from devctl.devloop.model import DevModel
from devctl.devloop.supervisor import Outcome
from devctl.devloop.texts import DEVCTL, SKAFFOLD, Frame, keys_text, state_text, summary

if TYPE_CHECKING:
    from rich.console import Console


class View(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def skaffold_line(self, text: str, *, err: bool = False) -> None: ...
    def app_line(self, name: str, text: str) -> None: ...
    def notice(self, text: str) -> None: ...
    def refresh(self) -> None: ...
    def finish(self, outcome: Outcome) -> None: ...


class PlainView:
    """Line by line, no control codes: data (Skaffold's stdout, app logs) to ``out``, the rest to ``err``."""

    def __init__(self, model: DevModel, frame: Frame, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.model = model
        self.frame = frame
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._lock = threading.Lock()
        self._last_state = ""

    def _write(self, stream: TextIO, name: str, text: str) -> None:
        with self._lock:
            stream.write(f"{name.ljust(self.frame.width)} | {text}\n")
            stream.flush()

    def start(self) -> None:
        self._write(self.err, DEVCTL, f"starting skaffold dev for {self.frame.url} ({keys_text(self.frame.keep)})")

    def stop(self) -> None:
        pass

    def skaffold_line(self, text: str, *, err: bool = False) -> None:
        self._write(self.err if err else self.out, SKAFFOLD, text)

    def app_line(self, name: str, text: str) -> None:
        self._write(self.out, name, text)

    def notice(self, text: str) -> None:
        self._write(self.err, DEVCTL, text)

    def refresh(self) -> None:
        # Only the transitions a reader of a log needs: ready (with the URL) and failed.
        state = self.model.loop
        if state == self._last_state:
            return
        self._last_state = state
        if state == "ready":
            self.notice(f"{state_text(self.model)}: {self.frame.url}")
        elif state == "failed":
            self.notice(
                f"iteration {self.model.iteration} failed: {self.frame.explain(self.model.reason()) or 'see above'}"
            )

    def finish(self, outcome: Outcome) -> None:
        text, _ = summary(outcome, self.model, self.frame)
        self.notice(text)


def use_live(console: Console) -> bool:
    """A Live region needs a real terminal that understands cursor movement."""
    return bool(console.is_terminal) and not console.is_dumb_terminal and os.environ.get("TERM") != "dumb"


def make_view(model: DevModel, frame: Frame, console: Console | None = None) -> View:
    if console is not None and use_live(console):
        from devctl.devloop.live import LiveView  # rich's Live region, only where it is drawn

        return LiveView(console, model, frame)
    return PlainView(model, frame)
