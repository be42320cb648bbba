"""devctl.parallel: a few calls at once, results in order, the first failure (in order) after all ended."""

from __future__ import annotations

import threading

import pytest

from devctl.parallel import gather, here, in_parallel, start


def test_the_calls_really_run_at_the_same_time_and_results_keep_their_order() -> None:
    # Each call waits for the other two: run one after the other, the barrier would time out.
    barrier = threading.Barrier(3, timeout=5)

    def meet(value: str) -> str:
        barrier.wait()
        return value

    assert in_parallel(lambda: meet("a"), lambda: meet("b"), lambda: meet("c")) == ["a", "b", "c"]


def test_the_first_failure_in_order_is_raised_once_every_call_has_ended() -> None:
    ended: list[str] = []
    slow_may_end = threading.Event()

    def fail_fast() -> None:
        ended.append("fast")
        slow_may_end.set()
        raise ValueError("first")

    def slow() -> None:
        slow_may_end.wait(5)
        ended.append("slow")
        raise KeyError("second")

    with pytest.raises(ValueError, match="first"):
        in_parallel(fail_fast, slow)
    assert sorted(ended) == ["fast", "slow"]


def test_a_call_run_here_reports_like_a_started_one() -> None:
    def boom() -> None:
        raise RuntimeError("here")

    waiter = here(boom)  # ran already; its error waits for gather
    with pytest.raises(RuntimeError, match="here"):
        gather(start(lambda: 1), waiter)
