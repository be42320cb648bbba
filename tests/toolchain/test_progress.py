"""A download's progress: a bar with bytes, speed and time left on a terminal; plain lines when piped."""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Iterator

from rich.console import Console

from devctl.report import PlainReporter, RichReporter
from devctl.toolchain.progress import LineDownloads, RichDownloads, downloads_for, human_size


def test_on_a_terminal_a_bar_shows_bytes_speed_and_time_left_while_the_spinner_is_paused() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    paused: list[str] = []

    @contextlib.contextmanager
    def pause() -> Iterator[None]:
        paused.append("paused")
        yield
        paused.append("resumed")

    bar = RichDownloads(console, pause)
    bar.begin("kind v0.31.0 (linux-amd64)", "https://example.test/kind", 262144)
    for _ in range(4):
        time.sleep(0.12)  # the speed and time-left columns need time to measure
        bar.advance(65536)
    bar.end(True)
    text = out.getvalue()
    assert paused == ["paused", "resumed"]
    assert "downloading kind v0.31.0 (linux-amd64) from https://example.test/kind" in text
    assert "262.1/262.1 kB" in text  # bytes done / total
    assert re.search(r"\d+(\.\d+)? [kM]B/s", text)  # speed
    assert re.search(r"\d:\d\d:\d\d", text)  # time left


def test_when_piped_plain_lines_at_start_each_quarter_and_end() -> None:
    lines: list[str] = []
    clock = iter([10.0, 12.0])
    progress = LineDownloads(lines.append, clock=lambda: next(clock))
    progress.begin("kubectl v1.35.0 (linux-arm64)", "https://dl.k8s.io/x", 4_000_000)
    for _ in range(8):
        progress.advance(500_000)
    progress.end(True)
    assert lines == [
        "downloading kubectl v1.35.0 (linux-arm64) (4.0 MB) from https://dl.k8s.io/x",
        "  kubectl v1.35.0 (linux-arm64): 25% (1.0 MB)",
        "  kubectl v1.35.0 (linux-arm64): 50% (2.0 MB)",
        "  kubectl v1.35.0 (linux-arm64): 75% (3.0 MB)",
        "  kubectl v1.35.0 (linux-arm64): 4.0 MB in 2.0 s (2.0 MB/s)",
    ]


def test_a_failed_download_says_nothing_more_than_the_error_will() -> None:
    lines: list[str] = []
    progress = LineDownloads(lines.append)
    progress.begin("kind v0.31.0 (linux-amd64)", "u", None)
    progress.advance(10)
    progress.end(False)
    assert lines == ["downloading kind v0.31.0 (linux-amd64) from u"]


def test_the_display_follows_the_reporter() -> None:
    assert isinstance(downloads_for(PlainReporter(io.StringIO())), LineDownloads)
    rich = RichReporter(Console(file=io.StringIO(), force_terminal=True))
    try:
        assert isinstance(downloads_for(rich), RichDownloads)
    finally:
        rich.close()


def test_sizes_are_decimal_units() -> None:
    assert [human_size(n) for n in (999, 1000, 262_144, 57_000_000, 3e9)] == [
        "999 B",
        "1.0 kB",
        "262.1 kB",
        "57.0 MB",
        "3.0 GB",
    ]
