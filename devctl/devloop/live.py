"""The dev loop on a terminal: a rich Live region (a table of the services and a footer) under the
lines that scroll above it."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from devctl import prefixes
from devctl.devloop.model import DevModel, Row
from devctl.devloop.supervisor import Outcome
from devctl.devloop.texts import DEVCTL, SKAFFOLD, Frame, keys_text, state_text, summary


class LiveView:
    """A rich Live region (table + footer) under the scrolling lines."""

    def __init__(self, console: Console, model: DevModel, frame: Frame) -> None:
        self.console = console
        self.model = model
        self.frame = frame
        self._notice = ""
        self._live = Live(
            console=console,
            get_renderable=self._render,
            refresh_per_second=4,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def start(self) -> None:
        self._live.start()

    def stop(self) -> None:
        self._live.stop()

    def _prefix(self, name: str) -> Any:
        style = "dim" if name in (SKAFFOLD, DEVCTL) else prefixes.rich_style(name, self.frame.names)
        return Text.assemble((name.ljust(self.frame.width), style), (" │ ", "dim"))

    def _print(self, name: str, text: str, style: str = "") -> None:
        line = self._prefix(name)
        line.append(Text(text, style=style))
        self.console.print(line, soft_wrap=True)

    def skaffold_line(self, text: str, *, err: bool = False) -> None:
        self._print(SKAFFOLD, text, "red" if err else "")

    def app_line(self, name: str, text: str) -> None:
        self._print(name, text)

    def notice(self, text: str) -> None:
        self._notice = text
        self._print(DEVCTL, text, "bold")

    def refresh(self) -> None:
        pass  # Live redraws on its own 4 times a second

    def finish(self, outcome: Outcome) -> None:
        text, failed = summary(outcome, self.model, self.frame)
        self.console.print(self._table(self.model.rows()))
        self._print(DEVCTL, text, "bold red" if failed else "bold")

    def _render(self) -> Any:
        rows = self.model.rows()
        footer = Text.assemble(
            (self.frame.url, "bold underline"),
            "  ",
            (state_text(self.model), "bold green" if self.model.loop == "ready" else "bold"),
            "  ",
            (self._notice if self.model.loop == "cleaning up" and self._notice else keys_text(self.frame.keep), "dim"),
        )
        parts: list[Any] = [self._table(rows), footer]
        if self.model.loop == "failed":
            # A later iteration failed and Skaffold waits for the next change: say why, with the fix if known.
            parts.append(Text(self.frame.explain(self.model.reason()) or "see Skaffold's lines above", style="red"))
        if self.model.forwards:
            parts.append(Text(self.model.forwards, style="dim", overflow="ellipsis", no_wrap=True))
        return Group(*parts)

    def _table(self, rows: list[Row]) -> Any:
        table = Table(box=None, pad_edge=False, expand=True, show_edge=False)
        table.add_column("SERVICE", no_wrap=True)
        table.add_column("BUILD", no_wrap=True)
        table.add_column("DEPLOY", no_wrap=True)
        table.add_column("PODS", no_wrap=True, justify="right")
        table.add_column("RESTARTS", no_wrap=True, justify="right")
        table.add_column("LAST LINE / ERROR", no_wrap=True, overflow="ellipsis", ratio=1)
        for r in rows:
            pods = f"{r.ready}/{r.desired}" if r.desired is not None else "-"
            restarts = str(r.restarts) if r.restarts is not None else "-"
            style = prefixes.rich_style(r.name, self.frame.names) if r.service else "dim"
            # Skaffold's error first, then why the pods are not ready, else what the service said last.
            problem = r.error or r.reason
            last = f"[red]{_escape(problem)}[/]" if problem else _escape(r.last)
            table.add_row(
                f"[{style}]{r.name}[/]",
                _state_markup(r.build),
                _state_markup(r.deploy),
                pods,
                restarts,
                last,
            )
        return table


def _escape(text: str) -> str:
    return escape(text)


def _state_markup(state: str) -> str:
    colour = {"built": "green", "cached": "green", "ready": "green", "failed": "red"}.get(state)
    return f"[{colour}]{state}[/]" if colour else state
