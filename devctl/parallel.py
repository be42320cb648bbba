"""Run a few independent calls at once (reads of docker and kubectl, mostly): one thread each.

Plain threads rather than concurrent.futures, whose import (with the logging it pulls in) costs ~8 ms:
the commands that use this are meant to cost about one external call plus start-up.

``start`` runs a call on its own thread, ``here`` runs it now on this one; both give a waiter, and
``gather`` collects waiters in order, raising the first failure (in order) only once all have ended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Waiter = Callable[[], Any]


def start(call: Callable[[], Any]) -> Waiter:
    """Start call on its own thread; the waiter joins it and returns its result or raises its error."""
    box: list[Any] = [None, None]  # result, error

    def work() -> None:
        try:
            box[0] = call()
        except BaseException as err:  # handed to whoever waits
            box[1] = err

    thread = threading.Thread(target=work, daemon=True)
    thread.start()

    def wait() -> Any:
        thread.join()
        return _unbox(box)

    return wait


def here(call: Callable[[], Any]) -> Waiter:
    """Run call on this thread now; the waiter gives its result or raises its error, as ``start``'s does,
    so ``gather`` reports failures in the same order wherever the calls ran."""
    box: list[Any] = [None, None]
    try:
        box[0] = call()
    except Exception as err:
        box[1] = err
    return lambda: _unbox(box)


def _unbox(box: list[Any]) -> Any:
    if box[1] is not None:
        raise box[1]
    return box[0]


def gather(*waits: Waiter) -> list[Any]:
    """Every call's result in order, or the first failure (in order) once all ended."""
    results: list[Any] = []
    errors: list[BaseException] = []
    for wait in waits:
        try:
            results.append(wait())
        except BaseException as err:
            errors.append(err)
    if errors:
        raise errors[0]
    return results


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Each call at once (the first on this thread: one thread fewer to start); results as ``gather``."""
    started = [start(c) for c in calls[1:]]
    first = here(calls[0])
    return gather(first, *started)
