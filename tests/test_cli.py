"""The CLI front end: version, help, lazy imports, errors at one edge."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from devctl.hosts_block import render_block
from devctl.report import PlainReporter, stderr_reporter
from tests.conftest import REPO, FakeWorld, run_cli

COMMANDS = ["up", "down", "dev", "status", "logs", "hosts", "routes", "verify", "doctor"]


def test_version() -> None:
    res = run_cli("--version")
    assert res.exit_code == 0 and res.stdout.startswith("devctl ")


def test_help_lists_every_command_and_the_global_options() -> None:
    res = run_cli("--help")
    assert res.exit_code == 0
    for cmd in COMMANDS:
        assert f"  {cmd} " in res.stdout
    for opt in ("--cluster", "--verbose", "--dry-run", "--version"):
        assert opt in res.stdout


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys, json\n"
        "from devctl.cli import app\n"  # not main(): it would end the process before the print below
        f"try:\n    app(args={args!r}, prog_name='devctl')\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(res.stderr.strip().splitlines()[-1]))


def test_version_and_help_import_nothing_they_do_not_use() -> None:
    heavy = {"sh", "yaml", "python_hosts", "rich", "rich.table", "devctl.runner", "devctl.config"}
    for args in (["--version"], ["--help"]):
        loaded = _modules_after(args)
        assert not (heavy & loaded), f"{args} imported {sorted(heavy & loaded)}"


def _exit_now(body: str) -> subprocess.CompletedProcess[str]:
    code = f"import atexit, sys, threading, time\nfrom devctl.cli import exit_now\n{body}"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)


def test_exit_now_flushes_what_is_buffered_and_keeps_the_code() -> None:
    res = _exit_now("sys.stdout.write('no newline yet'); sys.stderr.write('err'); exit_now(3)")
    assert (res.returncode, res.stdout, res.stderr) == (3, "no newline yet", "err")


def test_exit_now_leaves_pending_work_to_the_normal_shutdown() -> None:
    # A non-daemon thread still working, or an atexit handler, must not be cut short.
    thread = "threading.Thread(target=lambda: (time.sleep(0.3), print('thread done'))).start()\nexit_now(0)"
    assert _exit_now(thread).stdout == "thread done\n"
    handler = "atexit.register(lambda: print('handler ran'))\nexit_now(4)"
    res = _exit_now(handler)
    assert (res.returncode, res.stdout) == (4, "handler ran\n")
    res = _exit_now("exit_now('a message')")  # SystemExit's meaning: printed, exit 1
    assert (res.returncode, res.stderr) == (1, "a message\n")


def test_unknown_command_is_a_usage_error() -> None:
    res = run_cli("bogus")
    assert res.exit_code == 2
    assert "No such command" in res.output


def test_python_dash_m_devctl_works() -> None:
    res = subprocess.run([sys.executable, "-m", "devctl", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("devctl ")


def test_status_imports_neither_rich_nor_python_hosts_nor_the_hosts_file_writer(
    fake_tools: FakeWorld, repo_cwd: Path
) -> None:
    # `devctl status` is meant to cost about one `kubectl get` plus start-up (README): these cost 100 ms.
    hosts = fake_tools.root / "hosts"
    hosts.write_bytes(hosts.read_bytes() + render_block("tour.xyz", "127.0.0.1", "tour", b"\n"))
    loaded = _modules_after(["status", "--json"])
    assert "devctl.status" in loaded
    unwanted = {"rich", "python_hosts", "devctl.hostsfile", "urllib.request", "concurrent.futures"} & loaded
    assert not unwanted, f"status imported {sorted(unwanted)}"


_PLAIN_UP = (
    "import sys\n"
    "from devctl.report import PlainReporter, stderr_reporter\n"
    "from devctl.cli._common import print_line\n"
    "reporter = stderr_reporter(lambda: 1 / 0)  # no console may be made\n"
    "assert isinstance(reporter, PlainReporter) and reporter.stream is sys.stderr\n"
    "reporter.step_done('Hosts entry', 0.1)\n"
    "print_line('Ready: http://tour.xyz:8080  (run `devctl dev` for the dev loop)')\n"
    "assert 'rich' not in sys.modules, 'rich was imported'\n"
)


@pytest.mark.parametrize("env", [{}, {"NO_COLOR": "1"}, {"CI": "true"}])
def test_plain_progress_and_the_ready_line_need_no_rich_when_not_on_a_terminal(env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI", "FORCE_COLOR", "TTY_COMPATIBLE")}
    res = subprocess.run(
        [sys.executable, "-c", _PLAIN_UP], env={**clean, **env}, capture_output=True, text=True, cwd=REPO
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == "Ready: http://tour.xyz:8080  (run `devctl dev` for the dev loop)\n"
    assert res.stderr == " ✓ Hosts entry (0.1s)\n"


@pytest.mark.parametrize("var", ["FORCE_COLOR", "TTY_COMPATIBLE"])
def test_a_stream_that_rich_may_take_for_a_terminal_asks_the_console(var: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(var, "1")
    out = io.StringIO()
    made: list[object] = []

    def make_console() -> Any:
        made.append(True)
        return SimpleNamespace(is_terminal=False, file=out)  # what rich decided: no terminal after all

    reporter = stderr_reporter(make_console)
    assert made and isinstance(reporter, PlainReporter) and reporter.stream is out
