"""Every command and subcommand `devctl --help` lists, run as a newcomer would on a bare machine: no
cluster, no kind, kubectl, Skaffold or Docker on PATH. Whatever happens, the exit code is a documented
one, nothing prints a traceback, a failure ends with one `ERROR:` line that names a next step, and with
--json stdout holds one JSON object, on success and on failure alike."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from devctl.cli import app
from tests.conftest import REPO

DOCUMENTED_EXIT_CODES = {0, 1, 2, 130}  # README, "Exit codes"
# Arguments a command cannot run without: a sample a newcomer might type.
SAMPLE_ARGUMENTS = {
    "routes check": ["/api/v1/tours/1"],
    "shell": ["auth"],
}


def commands() -> Iterator[tuple[str, bool]]:
    """(`command path`, whether it has --json) for every command a user can type."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    ctx = typer.Context(root)

    def walk(prefix: list[str], command: object) -> Iterator[tuple[str, bool]]:
        params = [opt for p in getattr(command, "params", []) for opt in getattr(p, "opts", [])]
        if isinstance(command, TyperGroup):
            names = command.list_commands(ctx) if command is root else list(command.commands)
            if command is not root and getattr(command, "invoke_without_command", False):
                yield " ".join(prefix), "--json" in params
            for name in names:
                sub = command.get_command(ctx, name)
                if sub is not None and not getattr(sub, "hidden", False):
                    yield from walk([*prefix, name], sub)
        else:
            yield " ".join(prefix), "--json" in params

    yield from walk([], root)


ALL = sorted(commands())


def test_the_walk_sees_every_command() -> None:
    names = {name for name, _ in ALL}
    assert {"up", "down", "status", "hosts add", "routes check", "secrets show", "cluster up", "tools list"} <= names


@pytest.fixture
def bare_machine(tmp_path: Path) -> dict[str, str]:
    """No tools on PATH (only the Python that runs devctl), a private home, hosts file and kubeconfig."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    with socket.socket() as s:  # a port nothing listens on: the tools mirror, for `tools lock`/`install`
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVCTL_", "SKAFFOLD_", "XDG_", "KUBE"))}
    (tmp_path / "hosts").write_text("127.0.0.1\tlocalhost\n")
    env.update(
        PATH=str(bin_dir),
        HOME=str(tmp_path / "home"),
        KUBECONFIG=str(tmp_path / "kubeconfig"),
        DEVCTL_HOSTS_FILE=str(tmp_path / "hosts"),
        DEVCTL_NO_TOOL_INSTALL="1",
        DEVCTL_TOOLS_MIRROR=f"http://127.0.0.1:{closed}",
        DEVCTL_HTTP_PORT="18080",  # a newcomer's default 80 needs root to probe; the walk is about messages
        DEVCTL_HTTPS_PORT="18443",
        PYTHONPATH=str(REPO),
    )
    return env


@pytest.mark.parametrize(("command", "has_json"), ALL, ids=[name for name, _ in ALL])
def test_every_command_fails_in_one_line_with_a_next_step(
    command: str, has_json: bool, bare_machine: dict[str, str]
) -> None:
    argv = [*command.split(), *SAMPLE_ARGUMENTS.get(command, [])]
    variants: list[list[str]] = [["--json"], []] if has_json else [[]]
    for extra in variants:
        res = subprocess.run(
            [sys.executable, "-m", "devctl", *argv, *extra],
            cwd=REPO,
            env=bare_machine,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        shown = f"devctl {' '.join(argv + extra)} -> {res.returncode}\n{res.stdout}\n{res.stderr}"
        assert res.returncode in DOCUMENTED_EXIT_CODES, shown
        assert "Traceback" not in res.stderr, shown
        if res.returncode != 0:
            last = res.stderr.strip().splitlines()[-1]
            assert last.startswith("ERROR: ") and " — " in last, shown  # what is wrong — what to do
        if extra:
            assert isinstance(json.loads(res.stdout), dict), shown
