"""devctl.runner: the one front door for processes (real processes, no mocks)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from devctl.errors import CommandError, CommandTimeout, ToolNotFound
from devctl.runner import Runner


def test_output_captures_stdout_and_stderr_separately() -> None:
    res = Runner().output([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr)"])
    assert (res.exit_code, res.stdout, res.stderr) == (0, "out\n", "err\n")


def test_non_zero_exit_raises_with_pasteable_command_and_the_tools_stderr() -> None:
    with pytest.raises(CommandError) as exc:
        Runner().output([sys.executable, "-c", "import sys; sys.stderr.write('boom happened\\n'); sys.exit(3)"])
    err = exc.value
    assert err.returncode == 3
    assert "boom happened" in err.output_tail()
    assert sys.executable in str(err) and "exit code 3" in str(err)


def test_ok_codes_accept_expected_failures() -> None:
    res = Runner().output([sys.executable, "-c", "import sys; sys.exit(1)"], ok_codes=(0, 1))
    assert res.exit_code == 1 and not res.ok


def test_input_is_passed_on_stdin() -> None:
    res = Runner().output([sys.executable, "-c", "import sys; print(sys.stdin.read().upper())"], input="abc")
    assert res.stdout.strip() == "ABC"


def test_stdout_is_not_a_terminal_so_tools_do_not_colour() -> None:
    res = Runner().output([sys.executable, "-c", "import sys; print(sys.stdout.isatty())"])
    assert res.stdout.strip() == "False"


def test_missing_tool_names_it_with_an_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolNotFound) as exc:
        Runner().output(["kind", "get", "clusters"])
    assert str(exc.value) == "kind is not installed (not found on PATH)"
    assert exc.value.hint and "kind" in exc.value.hint


def test_timeout_raises_command_timeout() -> None:
    with pytest.raises(CommandTimeout):
        Runner().output([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.3)


def test_dry_run_prints_changes_and_does_not_run_them(tmp_path: Path) -> None:
    marker = tmp_path / "made"
    lines: list[str] = []
    r = Runner(dry_run=True, echo=lines.append)
    res = r.run([sys.executable, "-c", f"open({str(marker)!r}, 'w')"])
    assert res.ok and not marker.exists()
    assert lines and lines[0].startswith("would run: ")
    # reads still run under --dry-run
    assert r.output([sys.executable, "-c", "print(1)"]).stdout == "1\n"


def test_verbose_echoes_each_command_before_running_it() -> None:
    lines: list[str] = []
    Runner(verbose=True, echo=lines.append).output([sys.executable, "-c", "pass"])
    assert lines == [f"+ {sys.executable} -c pass"]


def test_start_runs_in_its_own_process_group_and_streams_lines() -> None:
    got: list[str] = []
    done = threading.Event()

    def on_out(line: str) -> None:
        got.append(line)
        if "ready" in line:
            done.set()

    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, lambda *a: (print('got SIGINT', flush=True), sys.exit(0)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    bg = Runner().start([sys.executable, "-c", code], on_stdout=on_out, on_stderr=on_out)
    assert done.wait(10)
    assert os.getpgid(bg.pid) == bg.pid != os.getpgid(0)
    bg.signal_group(signal.SIGINT)
    assert bg.wait(timeout=10) == 0
    time.sleep(0.1)
    assert any("got SIGINT" in ln for ln in got)


def test_interactive_runs_in_the_foreground_and_returns_the_exit_code(capfd: pytest.CaptureFixture[str]) -> None:
    code = "import sys; print('to the terminal'); sys.exit(3)"
    assert Runner().interactive([sys.executable, "-c", code]) == 3
    assert capfd.readouterr().out == "to the terminal\n"  # not captured by devctl: the user sees it


def test_interactive_under_dry_run_only_prints(tmp_path: Path) -> None:
    lines: list[str] = []
    marker = tmp_path / "made"
    runner = Runner(dry_run=True, echo=lines.append)
    assert runner.interactive([sys.executable, "-c", f"open({str(marker)!r}, 'w')"]) == 0
    assert not marker.exists() and lines[0].startswith("would run: ")


def test_start_and_start_chunks_hand_back_the_same_supervisor() -> None:
    got: list[bytes] = []
    bg = Runner().start_chunks([sys.executable, "-c", "print('x' * 10)"], on_chunk=got.append, on_stderr=print)
    assert bg.wait(10) == 0
    bg.drain()
    assert b"".join(got) == b"x" * 10 + b"\n"
    lines: list[str] = []
    other = Runner().start([sys.executable, "-c", "print('y')"], on_stdout=lines.append, on_stderr=print)
    assert other.wait(10) == 0
    other.drain()
    assert lines == ["y\n"] and type(bg) is type(other)
