"""Workflows as ordered lists of idempotent steps (kind's create actions, nox's workflow).

A step can say whether it is already done (``check``), do its work (``apply``) and describe itself for
--dry-run (``describe``). ``run_steps`` is the only place that knows about concurrency: a step starts
as soon as the steps it ``needs`` have finished, so independent steps (registry and cluster, the image
build and the ingress wait) overlap. The first failure stops new steps from starting; running ones finish.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from devctl.context import Context
from devctl.errors import DevctlError


class Step(Protocol):
    name: str
    title: str
    needs: tuple[str, ...]

    def check(self, ctx: Context) -> str | None:
        """A reason when there is nothing to do ("cluster tour exists and is healthy"), else None."""

    def apply(self, ctx: Context) -> str:
        """Do the work; return a short note for the report."""

    def describe(self, ctx: Context) -> list[str]:
        """What apply would do, for --dry-run (commands, generated files)."""


@dataclass
class FuncStep:
    """A step from plain functions, for small steps that need no class of their own."""

    name: str
    title: str
    apply_fn: Callable[[Context], str]
    check_fn: Callable[[Context], str | None] = lambda ctx: None
    describe_fn: Callable[[Context], list[str]] = lambda ctx: []
    needs: tuple[str, ...] = ()

    def check(self, ctx: Context) -> str | None:
        return self.check_fn(ctx)

    def apply(self, ctx: Context) -> str:
        return self.apply_fn(ctx)

    def describe(self, ctx: Context) -> list[str]:
        return self.describe_fn(ctx)


@dataclass
class StepOutcome:
    name: str
    title: str
    status: str  # "done" | "skipped" | "failed" | "not run"
    seconds: float = 0.0
    note: str = ""


@dataclass
class PlanResult:
    outcomes: list[StepOutcome] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(o.status == "done" for o in self.outcomes)


class StepFailed(DevctlError):
    def __init__(self, title: str, err: DevctlError) -> None:
        super().__init__(f"{title} failed", hint=err.hint)
        self.step_title = title
        self.__cause__ = err


def _validate(steps: Sequence[Step]) -> None:
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate step names in {names}")
    for i, s in enumerate(steps):
        for dep in s.needs:
            if dep not in names[:i]:
                raise ValueError(f"step {s.name!r} needs {dep!r}, which is not an earlier step")


def describe_steps(steps: Sequence[Step], ctx: Context) -> list[str]:
    """The plan as text lines, for --dry-run."""
    lines: list[str] = []
    for i, s in enumerate(steps, 1):
        after = f"  (after {', '.join(s.needs)})" if s.needs else ""
        lines.append(f"{i}. {s.title}{after}")
        lines.extend("     " + ln for d in s.describe(ctx) for ln in d.splitlines())
    return lines


def run_steps(steps: Sequence[Step], ctx: Context, *, max_workers: int = 4) -> PlanResult:
    """Run steps respecting ``needs``; independent ones run concurrently. Raises StepFailed."""
    _validate(steps)
    rep = ctx.reporter
    outcomes: dict[str, StepOutcome] = {}

    def one(step: Step) -> StepOutcome:
        started = time.monotonic()
        rep.step_started(step.title)
        try:
            reason = step.check(ctx)
            if reason is not None:
                out = StepOutcome(step.name, step.title, "skipped", time.monotonic() - started, reason)
                rep.step_skipped(step.title, reason)
                return out
            note = step.apply(ctx)
        except DevctlError as err:
            secs = time.monotonic() - started
            rep.step_failed(step.title, secs, str(err))
            raise StepFailed(step.title, err) from err
        except BaseException:
            rep.step_failed(step.title, time.monotonic() - started)
            raise
        secs = time.monotonic() - started
        rep.step_done(step.title, secs, note)
        return StepOutcome(step.name, step.title, "done", secs, note)

    # Plain threads and a queue rather than concurrent.futures, whose import (and the logging it pulls in)
    # was ~8 ms of every `devctl up`. A running step is never abandoned: whatever ends this loop (a
    # failure, Ctrl-C), the running steps are waited for.
    import queue

    finished: queue.SimpleQueue[tuple[Step, StepOutcome | None, BaseException | None]] = queue.SimpleQueue()

    def work(step: Step) -> None:
        try:
            finished.put((step, one(step), None))
        except BaseException as err:  # handed to the loop below
            finished.put((step, None, err))

    pending = list(steps)
    running: dict[str, threading.Thread] = {}
    failure: BaseException | None = None
    try:
        while pending or running:
            if failure is None:
                for step in list(pending):
                    if len(running) >= max_workers:
                        break
                    if all(d in outcomes for d in step.needs):
                        pending.remove(step)
                        running[step.name] = thread = threading.Thread(
                            target=work, args=(step,), name=f"step {step.name}"
                        )
                        thread.start()
            if not running:
                break
            step, outcome, error = finished.get()
            running.pop(step.name).join()
            if error is not None:
                failure = failure or error
                pending.clear()
            elif outcome is not None:
                outcomes[step.name] = outcome
    finally:
        for thread in running.values():
            thread.join()
    result = PlanResult([outcomes.get(s.name) or StepOutcome(s.name, s.title, "not run") for s in steps])
    if failure is not None:
        raise failure
    return result
