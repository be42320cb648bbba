"""One thread that reads every chunked stdout pipe (``Runner.start_chunks``), for ``devctl logs``.

With a thread per pipe, seven busy streams hand the GIL to each other at every read and write; one
thread waits on all the pipes at once (``selectors``, epoll on Linux) and reads whichever is ready. The sinks run on
that thread, one chunk at a time, so a sink that blocks (a full stdout) holds back the other pipes too,
as the shared output lock did with a thread each.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from collections.abc import Callable

ChunkSink = Callable[[bytes], None]
CHUNK = 65536  # a chunk and its prefixed copy stay small enough for the CPU's caches


class Reading:
    """One pipe being read; ``join`` waits for its end (EOF, or its sink failed and the pipe was closed)."""

    def __init__(self) -> None:
        self._done = threading.Event()

    def join(self, timeout: float | None = None) -> None:
        self._done.wait(timeout)

    def is_alive(self) -> bool:
        return not self._done.is_set()

    def _end(self) -> None:
        self._done.set()


class Pipes:
    """Reads the pipes handed to ``read`` on one daemon thread, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._new: list[tuple[int, ChunkSink, Reading]] = []
        self._wake_w = -1
        self._thread: threading.Thread | None = None

    def read(self, fd: int, on_chunk: ChunkSink) -> Reading:
        """Pass ``fd``'s bytes to ``on_chunk`` as they come, up to 64 KiB at a time, then close ``fd``.

        If ``on_chunk`` raises (e.g. our stdout closed), reading stops and the pipe is closed, so the
        writer gets SIGPIPE instead of blocking forever on a full pipe."""
        reading = Reading()
        with self._lock:
            self._new.append((fd, on_chunk, reading))
            if self._thread is None:
                wake_r, self._wake_w = os.pipe()
                os.set_blocking(self._wake_w, False)
                self._thread = threading.Thread(target=self._run, args=(wake_r,), name="pipes", daemon=True)
                self._thread.start()
        with contextlib.suppress(BlockingIOError):  # a full wake-up pipe: the thread is due to wake anyway
            os.write(self._wake_w, b"\0")
        return reading

    def _run(self, wake_r: int) -> None:
        selector = selectors.DefaultSelector()
        selector.register(wake_r, selectors.EVENT_READ, None)
        while True:
            for key, _ in selector.select():
                if key.data is None:
                    os.read(wake_r, 4096)
                    with self._lock:
                        new, self._new = self._new, []
                    for fd, sink, reading in new:
                        selector.register(fd, selectors.EVENT_READ, (sink, reading))
                    continue
                sink, reading = key.data
                if not _read_once(key.fd, sink):
                    selector.unregister(key.fd)
                    os.close(key.fd)
                    reading._end()


def _read_once(fd: int, sink: ChunkSink) -> bool:
    """One read from a ready pipe into its sink; False at EOF or when the sink failed."""
    try:
        data = os.read(fd, CHUNK)
        if not data:
            return False
        sink(data)
    except Exception:  # the sink reports its own failure; reading only has to let go of the pipe
        return False
    return True


_PIPES = Pipes()


def read(fd: int, on_chunk: ChunkSink) -> Reading:
    """Read ``fd`` on the process's one pipe-reading thread (see ``Pipes.read``)."""
    return _PIPES.read(fd, on_chunk)
