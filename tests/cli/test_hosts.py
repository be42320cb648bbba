"""`devctl hosts add|remove|status`: exit codes, messages, --json, --dry-run, --no-sudo, and --help."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from devctl.cli import hosts as cli_hosts
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
ORIGINAL = b"127.0.0.1\tlocalhost\r\n::1\tlocalhost\r\n# no final newline"
WITHOUT_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
needs_root_setpriv = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to drop capabilities"
)


@pytest.fixture
def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k in list(os.environ):
        if k.startswith("DEVCTL_"):
            monkeypatch.delenv(k)
    p = tmp_path / "hosts"
    p.write_bytes(ORIGINAL)
    monkeypatch.setenv("DEVCTL_HOSTS_FILE", str(p))
    return p


def test_add_status_remove_round_trip(hosts: Path) -> None:
    missing = run_cli("hosts", "status")
    assert missing.exit_code == 1
    assert "missing" in missing.stdout and "no line maps tour.xyz" in missing.stdout

    added = run_cli("hosts", "add")
    assert added.exit_code == 0, added.stderr
    assert f"{hosts} written" in added.stdout
    assert f"{hosts}.devctl-backup" in added.stderr

    again = run_cli("hosts", "add")
    assert again.exit_code == 0 and "nothing to do" in again.stdout

    ok = run_cli("hosts", "status")
    assert ok.exit_code == 0 and "✓ ok" in ok.stdout

    removed = run_cli("hosts", "remove")
    assert removed.exit_code == 0, removed.stderr
    assert hosts.read_bytes() == ORIGINAL


def test_flags_override_the_environment(hosts: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-hosts"
    other.write_bytes(b"")
    assert run_cli("--cluster", "c2", "hosts", "add", "--hosts-file", str(other), "--host", "app.test",
                   "--ip", "::1").exit_code == 0  # fmt: skip
    assert b"# BEGIN devctl cluster=c2 " in other.read_bytes() and b"::1\tapp.test" in other.read_bytes()
    assert hosts.read_bytes() == ORIGINAL


def test_a_conflict_exits_1_names_the_line_and_changes_nothing(hosts: Path) -> None:
    hosts.write_bytes(b"# mine\n10.0.0.5   tour.xyz\n")
    result = run_cli("hosts", "add")
    assert result.exit_code == 1
    assert result.stderr.startswith("ERROR: ")
    assert "line 2 maps tour.xyz to 10.0.0.5" in result.stderr and "'10.0.0.5   tour.xyz'" in result.stderr
    assert hosts.read_bytes() == b"# mine\n10.0.0.5   tour.xyz\n"
    assert not Path(str(hosts) + ".devctl-backup").exists()


def test_status_exit_1_says_where_the_host_maps_instead(hosts: Path) -> None:
    hosts.write_bytes(b"10.0.0.5 tour.xyz\n")
    result = run_cli("hosts", "status")
    assert result.exit_code == 1
    assert "maps elsewhere" in result.stdout and "line 1" in result.stdout and "10.0.0.5" in result.stdout


def test_status_json_is_machine_readable(hosts: Path) -> None:
    run_cli("hosts", "add")
    result = run_cli("hosts", "status", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["ok"], data["state"], data["host"], data["ip"], data["block"]) == (
        True, "ok", "tour.xyz", "127.0.0.1", True)  # fmt: skip
    assert data["entries"] == [{"lineno": 5, "text": "127.0.0.1\ttour.xyz", "address": "127.0.0.1",
                                "in_block": True, "block_cluster": "tour"}]  # fmt: skip
    assert data["path"] == str(hosts)


def test_global_dry_run_prints_the_diff_and_writes_nothing(hosts: Path) -> None:
    result = run_cli("--dry-run", "hosts", "add")
    assert result.exit_code == 0
    assert "+127.0.0.1\ttour.xyz" in result.stdout and "dry run" in result.stdout
    assert hosts.read_bytes() == ORIGINAL


def test_an_invalid_address_is_a_usage_error(hosts: Path) -> None:
    result = run_cli("hosts", "add", "--ip", "300.1.1.1")
    assert result.exit_code == 2
    assert "invalid host_ip '300.1.1.1'" in result.stderr
    assert hosts.read_bytes() == ORIGINAL


def test_a_missing_file_exits_1(tmp_path: Path, hosts: Path) -> None:
    result = run_cli("hosts", "add", "--hosts-file", str(tmp_path / "nope"))
    assert result.exit_code == 1 and "does not exist" in result.stderr


def test_the_hidden_write_step_performs_the_write(hosts: Path) -> None:
    result = run_cli("hosts", "_write", "--action", "add", "--hosts-file", str(hosts))
    assert result.exit_code == 0, result.stderr
    assert b"127.0.0.1\ttour.xyz" in hosts.read_bytes()
    assert run_cli("hosts", "_write", "--action", "bogus").exit_code == 2


# --- as a user who may not read or write the file (root without its override capabilities) ----------


def _as_plain_user(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVCTL_")}
    return subprocess.run(
        [*WITHOUT_DAC, sys.executable, "-m", "devctl", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@needs_root_setpriv
def test_an_unreadable_file_exits_1_and_is_not_written(hosts: Path) -> None:
    os.chown(hosts, 1234, 1234)
    hosts.chmod(0o600)
    result = _as_plain_user("hosts", "add", "--hosts-file", str(hosts))
    assert result.returncode == 1
    assert result.stderr.startswith(f"ERROR: cannot read {hosts}: permission denied; nothing was changed")
    assert hosts.read_bytes() == ORIGINAL


@needs_root_setpriv
def test_no_sudo_on_an_unwritable_file_prints_the_command_and_exits_1(hosts: Path) -> None:
    os.chown(hosts, 1234, 1234)
    hosts.chmod(0o644)
    result = _as_plain_user("hosts", "add", "--no-sudo", "--hosts-file", str(hosts))
    assert result.returncode == 1
    expected = (
        f"sudo {sys.executable} -m devctl --cluster tour hosts _write --action add "
        f"--hosts-file {hosts} --host tour.xyz --ip 127.0.0.1"
    )
    assert "not writable" in result.stderr and expected in result.stderr
    assert hosts.read_bytes() == ORIGINAL
    # and the printed command, run as root, does the job
    done = subprocess.run(expected.split()[1:], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert b"127.0.0.1\ttour.xyz" in hosts.read_bytes()


# --- help --------------------------------------------------------------------------------------------


def test_hosts_help_lists_the_commands_but_not_the_internal_one() -> None:
    result = run_cli("hosts", "--help")
    assert result.exit_code == 0
    for word in ("add", "remove", "status", "--host", "--ip", "--hosts-file", "--no-sudo", "--windows", "--json",
                 "--dry-run", "DEVCTL_HOSTS_FILE"):  # fmt: skip
        assert word in result.stdout, word
    assert "_write" not in result.stdout


@pytest.mark.parametrize("command", ["add", "remove", "status"])
def test_every_option_of_every_command_is_documented(command: str) -> None:
    result = run_cli("hosts", command, "--help")
    assert result.exit_code == 0
    click_cmd = typer.main.get_command(cli_hosts.app).commands[command]  # type: ignore[attr-defined]
    options = [p for p in click_cmd.params if p.name != "help"]
    assert options, "the command has options"
    for param in options:
        assert param.help, f"{param.opts} has no help text"  # type: ignore[attr-defined]
        for opt in param.opts:
            assert opt in result.stdout, opt


def test_another_clusters_block_is_named_with_the_command_that_removes_it(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1\tlocalhost\n")
    assert run_cli("--cluster", "other", "hosts", "add", "--hosts-file", str(hosts), "--ip", "10.1.1.1").exit_code == 0
    res = run_cli("hosts", "add", "--hosts-file", str(hosts))
    assert res.exit_code == 1
    line = res.stderr.strip().splitlines()[-1]
    assert "in devctl's block for cluster other" in line
    assert f"devctl --cluster other hosts remove --hosts-file {hosts}" in line
    assert "--ip 10.1.1.1" not in line  # not advice to follow another cluster's address
    status = run_cli("hosts", "status", "--hosts-file", str(hosts))
    assert "devctl's block for cluster other" in status.stdout
