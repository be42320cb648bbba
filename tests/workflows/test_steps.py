"""devctl.workflows.steps: the order steps run in, what a failure stops, and the rules a plan must keep."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from devctl.config import Config
from devctl.context import Context
from devctl.errors import DevctlError
from devctl.report import SilentReporter
from devctl.workflows.steps import StepFailed, describe_steps, run_steps


@dataclass
class Recorder:
    """What the steps of one run did, in the order they did it."""

    events: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, event: str) -> None:
        with self.lock:
            self.events.append(event)


@dataclass
class Probe:
    """A step that records when it starts and ends, and can wait, fail or say it is already done."""

    name: str
    log: Recorder
    needs: tuple[str, ...] = ()
    seconds: float = 0.0
    fails: bool = False
    done_already: bool = False
    gate: threading.Event | None = None  # apply waits for it
    started: threading.Event = field(default_factory=threading.Event)

    @property
    def title(self) -> str:
        return f"step {self.name}"

    def check(self, ctx: Context) -> str | None:
        return "already done" if self.done_already else None

    def apply(self, ctx: Context) -> str:
        self.log.add(f"start {self.name}")
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        time.sleep(self.seconds)
        if self.fails:
            self.log.add(f"fail {self.name}")
            raise DevctlError(f"{self.name} broke", hint=f"fix {self.name}")
        self.log.add(f"end {self.name}")
        return f"{self.name} ok"

    def describe(self, ctx: Context) -> list[str]:
        return [f"would do {self.name}"]


def context() -> Context:
    return Context.create(Config(), reporter=SilentReporter())


def test_a_step_starts_only_after_every_step_it_needs_has_ended() -> None:
    log = Recorder()
    steps = [
        Probe("a", log, seconds=0.05),
        Probe("b", log, seconds=0.01),
        Probe("c", log, needs=("a", "b")),
    ]
    result = run_steps(steps, context())
    assert log.events.index("start c") > max(log.events.index("end a"), log.events.index("end b"))
    assert [o.status for o in result.outcomes] == ["done", "done", "done"]


def test_independent_steps_run_at_the_same_time() -> None:
    log = Recorder()
    gate = threading.Event()
    # a waits until b has started: only possible when both run at once.
    a = Probe("a", log, gate=gate)
    b = Probe("b", log)
    original = b.apply

    def b_apply(ctx: Context) -> str:
        note = original(ctx)
        gate.set()
        return note

    b.apply = b_apply  # type: ignore[method-assign]
    run_steps([a, b], context())
    assert log.events.index("start a") < log.events.index("end a")


def test_the_first_failure_stops_the_steps_that_have_not_started() -> None:
    log = Recorder()
    independent = Probe("independent", log, seconds=0.2)
    steps = [
        Probe("a", log, fails=True, gate=independent.started),  # fails once independent is running
        Probe("after-a", log, needs=("a",)),
        independent,
        Probe("after-independent", log, needs=("independent",)),
    ]
    with pytest.raises(StepFailed) as caught:
        run_steps(steps, context())
    assert "start after-a" not in log.events
    assert "start after-independent" not in log.events  # ready only after the failure: never started
    assert "end independent" in log.events  # running when a failed: finished, not abandoned
    assert str(caught.value) == "step a failed" and caught.value.hint == "fix a"
    assert isinstance(caught.value.__cause__, DevctlError) and str(caught.value.__cause__) == "a broke"


def test_a_step_that_says_it_is_done_is_skipped_with_its_reason() -> None:
    log = Recorder()
    ctx = context()
    result = run_steps([Probe("a", log, done_already=True), Probe("b", log, needs=("a",))], ctx)
    assert [(o.name, o.status, o.note) for o in result.outcomes] == [
        ("a", "skipped", "already done"),
        ("b", "done", "b ok"),
    ]
    assert result.changed and log.events == ["start b", "end b"]
    assert ("skip", "step a", "already done") in ctx.reporter.events  # type: ignore[attr-defined]


def test_a_bug_in_a_step_keeps_its_own_exception() -> None:
    class Broken(Probe):
        def apply(self, ctx: Context) -> str:
            raise KeyError("not a devctl error")

    with pytest.raises(KeyError):
        run_steps([Broken("a", Recorder())], context())


@pytest.mark.parametrize(
    ("names", "needs", "message"),
    [
        (["a", "a"], [(), ()], "duplicate step names"),
        (["a", "b"], [("b",), ()], "needs 'b', which is not an earlier step"),
        (["a"], [("missing",)], "needs 'missing'"),
    ],
)
def test_a_plan_that_breaks_the_rules_is_refused_before_anything_runs(
    names: list[str], needs: list[tuple[str, ...]], message: str
) -> None:
    log = Recorder()
    steps = [Probe(n, log, needs=d) for n, d in zip(names, needs, strict=True)]
    with pytest.raises(ValueError, match=message):
        run_steps(steps, context())
    assert log.events == []


def test_the_plan_is_described_in_order_with_what_each_step_waits_for() -> None:
    log = Recorder()
    lines = describe_steps([Probe("a", log), Probe("b", log, needs=("a",))], context())
    assert lines == ["1. step a", "     would do a", "2. step b  (after a)", "     would do b"]
    assert log.events == []
