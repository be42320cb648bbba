"""A new developer's first day: each message they meet names what is wrong and what to do, as typed.

Every test goes through the CLI's real entry point (devctl.cli.main, as the console script runs it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devctl.devloop.api import free_port
from devctl.stack import SERVICES
from tests.conftest import REPO, FakeWorld, run_cli
from tests.stack_world import create_cluster, healthy_world


def devctl(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devctl", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def last_error(stderr: str) -> str:
    line = stderr.strip().splitlines()[-1]
    assert line.startswith("ERROR: "), stderr
    assert "Traceback" not in stderr
    return line


# --- 1. outside the repo -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--dry-run", "up"], ["routes"], ["verify"], ["dev"], ["tools", "list"]], ids=" ".join
)
def test_outside_the_repo_a_command_that_needs_it_says_so(
    fake_tools: FakeWorld, tmp_path: Path, args: list[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    res = devctl(*args, cwd=elsewhere)
    assert res.returncode == 2
    line = last_error(res.stderr)
    assert "not inside the tour repo" in line and "cd into your clone of the tour repo" in line
    assert str(elsewhere / "skaffold.yaml") not in res.stdout + res.stderr  # nothing planned against it


def test_outside_the_repo_what_does_not_need_it_works(fake_tools: FakeWorld, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert devctl("--version", cwd=elsewhere).returncode == 0
    hosts = tmp_path / "hosts"
    assert devctl("hosts", "add", "--hosts-file", str(hosts), "--no-sudo", cwd=elsewhere).returncode == 0
    assert "tour.xyz" in hosts.read_text()
    doctor = devctl("doctor", "--json", cwd=elsewhere)
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["tour repo"]["status"] == "warn" and "cd into your clone" in checks["tour repo"]["hint"]
    assert "docker" in checks and "host routed" not in checks  # the machine is checked; the repo says why not


def test_inside_the_repo_a_relative_manifests_flag_is_relative_to_where_it_is_typed(
    fake_tools: FakeWorld, tmp_path: Path
) -> None:
    res = devctl("routes", "--manifests", "k8s", "--json", cwd=REPO / "services")
    assert res.returncode == 2
    line = last_error(res.stderr)
    assert f"manifests directory {REPO / 'services' / 'k8s'} does not exist" in line
    assert "check the path given to --manifests" in line


# --- 2. doctor's fixes whole ----------------------------------------------------------------------------


def test_doctor_prints_every_fix_whole_whatever_the_width(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    res = devctl("doctor", env={"COLUMNS": "60", "PATH": f"{fake_tools.bin_dir}"})  # kind & co on PATH, nothing else
    fixes = res.stdout.split("To fix:\n", 1)[1].splitlines()
    hints = [line.strip() for line in fixes if line.startswith("  ")]
    assert hints and all("…" not in h for h in hints)
    assert max(len(h) for h in hints) > 60, fixes  # longer than the terminal is wide, and not cut
    assert any(h.startswith("kind: run `devctl tools install`") and h.endswith("tool store)") for h in hints)


# --- 3. Docker refuses permission ------------------------------------------------------------------------


def test_permission_denied_on_the_docker_socket_says_what_and_how(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    fake_tools.docker_denied()
    res = run_cli("status", "--json")
    data = json.loads(res.stdout)
    for part in ("cluster", "registry"):
        assert "permission denied" in data[part]["detail"], data[part]
    assert 'command "docker' not in res.stdout
    doctor = json.loads(run_cli("doctor", "--json").stdout)
    daemon = next(c for c in doctor["checks"] if c["name"] == "docker daemon")
    assert daemon["status"] == "fail" and "docker" in daemon["hint"] and "group" in daemon["hint"]
    assert "start Docker" not in daemon["hint"]


# --- 4, 5. no cluster: one line, one instruction ---------------------------------------------------------


def test_dev_without_a_cluster_gives_one_instruction(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    res = run_cli("dev")
    assert res.exit_code == 1
    line = last_error(res.stderr)
    assert line.endswith("— run `devctl up` (it creates or repairs the cluster, then starts the dev loop)")
    assert line.count("devctl up") == 1


def test_secrets_show_without_a_cluster_is_one_line_with_the_fix(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    res = run_cli("secrets", "show")
    assert res.exit_code == 1
    assert res.stderr.strip().count("\n") == 0, res.stderr  # no "Command output:" dump
    assert "cannot reach the cluster through kind-tour" in res.stderr and "run `devctl up`" in res.stderr


# --- 8. global options after the command -----------------------------------------------------------------


def test_global_options_work_after_the_command(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    create_cluster()
    fake_tools.clear_calls()
    res = run_cli("down", "--dry-run")
    assert res.exit_code == 0 and "would remove kind cluster tour" in res.stdout
    assert not [a for a in fake_tools.argvs("kind") if a[:1] == ["delete"]]
    res = run_cli("status", "--cluster", "foo", "--json")
    assert json.loads(res.stdout)["cluster"]["name"] == "foo"
    res = run_cli("logs", "auth", "-v")
    assert "+ kubectl --context kind-tour logs" in res.stderr
    res = run_cli("--cluster", "a", "status", "--cluster", "b", "--json")  # after the command wins
    assert json.loads(res.stdout)["cluster"]["name"] == "b"


# --- 9. the smaller ones ---------------------------------------------------------------------------------


def test_bare_devctl_prints_the_help_and_succeeds() -> None:
    res = devctl()
    assert res.returncode == 0 and res.stdout.startswith("Usage: devctl")


def test_a_group_without_its_subcommand_prints_its_help_and_succeeds() -> None:
    res = devctl("secrets")
    assert res.returncode == 0 and "show" in res.stdout


def test_a_mistyped_command_gets_a_suggestion() -> None:
    res = devctl("stauts")
    assert res.returncode == 2
    assert "did you mean `devctl status`?" in last_error(res.stderr)


def test_logs_follow_without_a_cluster_says_it_once(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    res = run_cli("logs", "-f")
    assert res.exit_code == 1
    assert res.stderr.count("\n") == 1, res.stderr  # one line, said once
    assert "run `devctl up`" in last_error(res.stderr)


def test_logs_when_nothing_is_deployed_says_so(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    create_cluster()
    res = run_cli("logs")
    assert res.exit_code == 0 and res.stdout == ""
    assert "nothing is deployed" in res.stderr and "`devctl up`" in res.stderr
    assert "No resources found" not in res.stderr


def test_status_ends_with_a_next_step(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    res = run_cli("status")
    assert res.exit_code == 1
    assert res.stdout.strip().splitlines()[-1] == "not healthy"
    assert last_error(res.stderr).startswith("ERROR: not healthy — run `devctl up`")


def test_a_bad_value_is_fixed_where_it_was_given(fake_tools: FakeWorld, tmp_path: Path) -> None:
    hosts = str(tmp_path / "hosts")
    flag = last_error(run_cli("hosts", "add", "--hosts-file", hosts, "--ip", "999.1.1.1").stderr)
    assert "(from --ip)" in flag and "pass a valid value to --ip" in flag and "DEVCTL_HOST_IP" not in flag
    os.environ["DEVCTL_HOST_IP"] = "999.1.1.1"
    try:
        env = last_error(run_cli("hosts", "add", "--hosts-file", hosts).stderr)
    finally:
        del os.environ["DEVCTL_HOST_IP"]
    assert "fix DEVCTL_HOST_IP, or unset it" in env


def test_a_missing_sudo_is_said_once(fake_tools: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write any file: the sudo path is never taken")
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    hosts.chmod(0o444)
    tmp_path.chmod(0o555)
    monkeypatch.setenv("PATH", str(fake_tools.bin_dir))
    try:
        line = last_error(run_cli("hosts", "add", "--hosts-file", str(hosts)).stderr)
    finally:
        tmp_path.chmod(0o755)
    assert line.count("sudo is not installed") == 1


def test_status_json_says_null_for_what_it_does_not_know(
    fake_tools: FakeWorld, repo_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(run_cli("status", "--json").stdout)
    assert data["registry"]["drift"] is None and data["cluster"]["drift"] is None
    assert {s["image"] for s in data["services"]} == {None}
    port = free_port()
    monkeypatch.setenv("DEVCTL_REGISTRY_PORT", str(port))
    healthy_world(port, fake_tools.root / "hosts", SERVICES)
    data = json.loads(run_cli("status", "--json").stdout)
    assert data["registry"]["drift"] == [] and data["services"][0]["image"] == "csup96/tour-auth"


def test_verify_json_prints_json_when_it_cannot_run(fake_tools: FakeWorld, repo_cwd: Path) -> None:
    res = run_cli("verify", "--json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["ok"] is False and data["error"] and data["exit_code"] == 1


def test_every_command_has_the_same_help_style_and_completion_lives_at_the_top() -> None:
    top = devctl("--help").stdout
    assert "--install-completion" in top
    for cmd in ("up", "doctor", "status", "dev"):
        out = devctl(cmd, "--help").stdout
        assert "--install-completion" not in out and "╭" not in out  # plain help, no rich panels
        assert "--dry-run" in out and "--cluster" in out
    secrets = devctl("secrets", "--help").stdout
    assert "show" in secrets and "[action]" not in secrets and "<str>" not in secrets


def test_completion_script_is_offered_for_the_top_level_command() -> None:
    res = devctl("--show-completion", "bash", env={"SHELL": "/bin/bash"})
    assert res.returncode == 0 and "_DEVCTL_COMPLETE" in res.stdout
