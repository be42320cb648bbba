"""Workflows as ordered lists of idempotent steps (kind's create actions, nox's workflow).

A step can say whether it is already done (``check``), do its work (``apply``) and describe itself for
--dry-run (``describe``). ``run_steps`` is the only place that knows about concurrency: a step starts
as soon as the steps it ``needs`` have finished, so independent steps (registry and cluster, the image
build and the ingress wait) overlap. The first failure stops new steps from starting; running ones finish.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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


def _run_one(step: Step, ctx: Context) -> StepOutcome:
    rep = ctx.reporter
    started = time.monotonic()
    rep.step_started(step.title)
    try:
        reason = step.check(ctx)
        if reason is not None:
            rep.step_skipped(step.title, reason)
            return StepOutcome(step.name, step.title, "skipped", time.monotonic() - started, reason)
        note = step.apply(ctx)
    except DevctlError as err:
        rep.step_failed(step.title, time.monotonic() - started, str(err))
        raise StepFailed(step.title, err) from err
    except BaseException:
        rep.step_failed(step.title, time.monotonic() - started)
        raise
    seconds = time.monotonic() - started
    rep.step_done(step.title, seconds, note)
    return StepOutcome(step.name, step.title, "done", seconds, note)


def run_steps(steps: Sequence[Step], ctx: Context, *, max_workers: int = 4) -> PlanResult:
    """Run steps respecting ``needs``; independent ones run concurrently. The first failure stops steps
    that have not started; it is raised (StepFailed for devctl's own errors) once the running ones have
    finished: none is abandoned, whatever ends the run (a failure, Ctrl-C)."""
    _validate(steps)
    outcomes: dict[str, StepOutcome] = {}
    pending = list(steps)
    failure: BaseException | None = None
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="step")
    running: dict[Future[StepOutcome], Step] = {}
    try:
        while pending or running:
            for step in [s for s in pending if all(d in outcomes for d in s.needs)]:
                pending.remove(step)
                running[pool.submit(_run_one, step, ctx)] = step
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                step = running.pop(future)
                try:
                    outcomes[step.name] = future.result()
                except BaseException as err:
                    failure = failure or err
            if failure is not None:
                pending.clear()
                running = {f: s for f, s in running.items() if not f.cancel()}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if failure is not None:
        raise failure
    return PlanResult([outcomes.get(s.name) or StepOutcome(s.name, s.title, "not run") for s in steps])
