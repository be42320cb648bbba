"""The CLI front end: version, help, errors at one edge, plain output off a terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from devctl.report import PlainReporter, reporter_for, stderr_reporter
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


def test_unknown_command_is_a_usage_error() -> None:
    res = run_cli("bogus")
    assert res.exit_code == 2
    assert "no such command" in res.output and "did you mean" in res.output


def test_python_dash_m_devctl_works() -> None:
    res = subprocess.run([sys.executable, "-m", "devctl", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("devctl ")


_PLAIN_UP = (
    "import sys\n"
    "from devctl.report import PlainReporter, stderr_reporter\n"
    "from devctl.cli._edge import print_line\n"
    "reporter = stderr_reporter(lambda: 1 / 0)  # plain lines need no console\n"
    "assert isinstance(reporter, PlainReporter) and reporter.stream is sys.stderr\n"
    "reporter.step_done('Hosts entry', 0.1)\n"
    "print_line('Ready: http://tour.xyz:8080  (run `devctl dev` for the dev loop)')\n"
)


@pytest.mark.parametrize("env", [{}, {"NO_COLOR": "1"}, {"CI": "true"}])
def test_progress_and_the_ready_line_are_plain_when_not_on_a_terminal(env: dict[str, str]) -> None:
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


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"CI": "true"}])
def test_ci_and_no_color_ask_for_plain_lines_even_on_a_terminal(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    reporter = reporter_for(Console(file=out, force_terminal=True))
    assert isinstance(reporter, PlainReporter) and reporter.stream is out


@pytest.mark.parametrize(
    "args",
    [["--version"], ["status", "--json"], ["routes"], ["doctor"], ["hosts", "status"], ["cluster", "status"]],
    ids=" ".join,
)
def test_read_only_commands_write_nothing_under_home(fake_tools: FakeWorld, repo_cwd: Path, args: list[str]) -> None:
    home = fake_tools.root / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    res = subprocess.run([sys.executable, "-m", "devctl", *args], env=env, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in res.stderr, res.stderr
    assert [str(p.relative_to(home)) for p in home.rglob("*")] == []


def test_cluster_up_without_kind_stops_at_preflight_before_starting_anything(
    fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("docker", "kubectl"):
        (bin_dir / tool).symlink_to(fake_tools.bin_dir / tool)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    res = run_cli("cluster", "up")
    assert res.exit_code == 1
    assert res.stderr.strip().splitlines()[-1].startswith("ERROR: Preflight checks failed: kind is not installed")
    assert fake_tools.argvs("docker") == []  # nothing started: no `docker run` of the registry


def test_a_failed_tool_says_its_own_words_first_and_the_error_line_comes_last(
    fake_tools: FakeWorld, repo_cwd: Path
) -> None:
    fake_tools.set_knob("kind_create_fail", True)
    res = run_cli("cluster", "up")
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    output = lines.index("Command output:")
    assert any("failed to init node with kubeadm" in ln for ln in lines[output:-1])  # kind's reason, in full
    assert lines[-1].startswith("ERROR: ") and "failed" in lines[-1]
