"""The CLI front end: version, help, lazy imports, errors at one edge."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import run_cli

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
        "from devctl.cli import main\n"
        f"sys.argv = ['devctl', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(res.stderr.strip().splitlines()[-1]))


def test_version_and_help_import_nothing_they_do_not_use() -> None:
    heavy = {"sh", "yaml", "python_hosts", "rich", "rich.table", "devctl.runner", "devctl.config"}
    for args in (["--version"], ["--help"]):
        loaded = _modules_after(args)
        assert not (heavy & loaded), f"{args} imported {sorted(heavy & loaded)}"


def test_unknown_command_is_a_usage_error() -> None:
    res = run_cli("bogus")
    assert res.exit_code == 2
    assert "No such command" in res.output


def test_python_dash_m_devctl_works() -> None:
    res = subprocess.run([sys.executable, "-m", "devctl", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("devctl ")
