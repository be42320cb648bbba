"""Run a few independent calls at once (reads of docker and kubectl, mostly): one thread each.

Plain threads rather than concurrent.futures, whose import (with the logging it pulls in) costs ~8 ms:
the commands that use this are meant to cost about one external call plus start-up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Each call on its own thread; their results in order, or the first failure (in order) once all ended."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def work(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as err:  # handed to the caller below
            errors[i] = err

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(1, len(calls))]
    for t in threads:
        t.start()
    work(0)  # the first call on this thread: one thread fewer to start
    for t in threads:
        t.join()
    for err in errors:
        if err is not None:
            raise err
    return results
