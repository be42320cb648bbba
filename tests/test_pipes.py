"""devctl.pipes: one thread reads every chunked stdout pipe."""

from __future__ import annotations

import os
import threading

import pytest

from devctl import pipes


def _collect() -> tuple[list[bytes], pipes.ChunkSink]:
    got: list[bytes] = []
    return got, got.append


def test_every_byte_of_every_pipe_reaches_its_own_sink_in_order() -> None:
    reader = pipes.Pipes()
    ends = []
    for i in range(5):
        r, w = os.pipe()
        got, sink = _collect()
        ends.append((w, got, reader.read(r, sink), bytes([65 + i]) * 200_000))
    writers = [threading.Thread(target=_write_all, args=(w, data), daemon=True) for w, _, _, data in ends]
    for t in writers:
        t.start()
    for t in writers:
        t.join(10)
        assert not t.is_alive(), "a writer is blocked: its pipe is not being read"
    for _, got, reading, data in ends:
        reading.join(5)
        assert not reading.is_alive()
        assert b"".join(got) == data


def test_join_waits_for_the_end_of_the_pipe() -> None:
    reader = pipes.Pipes()
    r, w = os.pipe()
    got, sink = _collect()
    reading = reader.read(r, sink)
    os.write(w, b"first\n")
    reading.join(0.2)
    assert reading.is_alive(), "the writer has not closed its end yet"
    os.close(w)
    reading.join(5)
    assert not reading.is_alive()
    assert got == [b"first\n"]


def test_a_failing_sink_lets_go_of_its_pipe_and_the_writer_gets_epipe() -> None:
    reader = pipes.Pipes()
    r, w = os.pipe()

    def broken(_: bytes) -> None:
        raise BrokenPipeError  # as logs' output does when `devctl logs | head` has read enough

    reading = reader.read(r, broken)
    os.write(w, b"x")
    reading.join(5)
    assert not reading.is_alive()
    with pytest.raises(BrokenPipeError):
        os.write(w, b"more")  # with the read end still open this would fill the pipe and then block
    os.close(w)


def test_a_failing_sink_does_not_stop_the_other_pipes() -> None:
    reader = pipes.Pipes()
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()

    def broken(_: bytes) -> None:
        raise OSError("sink failed")

    got, sink = _collect()
    first = reader.read(r1, broken)
    second = reader.read(r2, sink)
    os.write(w1, b"x")
    first.join(5)
    os.write(w2, b"still read\n")
    os.close(w2)
    second.join(5)
    assert got == [b"still read\n"]
    os.close(w1)


def test_pipes_added_while_the_thread_waits_are_read() -> None:
    reader = pipes.Pipes()
    r1, w1 = os.pipe()
    got1, sink1 = _collect()
    first = reader.read(r1, sink1)  # the thread now waits in select on this pipe alone
    r2, w2 = os.pipe()
    got2, sink2 = _collect()
    second = reader.read(r2, sink2)
    os.write(w2, b"late\n")
    os.close(w2)
    second.join(5)
    assert not second.is_alive()
    assert got2 == [b"late\n"]
    os.close(w1)
    first.join(5)
    assert got1 == []


def test_one_thread_reads_them_all() -> None:
    reader = pipes.Pipes()
    before = threading.active_count()
    pairs = [os.pipe() for _ in range(7)]
    readings = [reader.read(r, lambda _: None) for r, _ in pairs]
    assert threading.active_count() == before + 1
    for _, w in pairs:
        os.close(w)
    for reading in readings:
        reading.join(5)
        assert not reading.is_alive()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.close(fd)
