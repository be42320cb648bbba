"""devctl.hosts.entry: ensure/remove/status for workflows, dry-run, elevation through sudo, WSL, resolver."""

from __future__ import annotations

import shlex
import socket
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from devctl import host_checks
from devctl.config import Config
from devctl.errors import DevctlError, UsageError
from devctl.hosts import entry, safe_write
from devctl.hosts.block import HostsConflict, plan_add
from devctl.hosts.entry import NeedsElevation, Target, elevated_argv, ensure_entry, remove_entry, status
from devctl.runner import Runner

REPO = Path(__file__).resolve().parents[2]
ORIGINAL = b"127.0.0.1\tlocalhost\n::1\tlocalhost\n# mine\n"


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    p = tmp_path / "hosts"
    p.write_bytes(ORIGINAL)
    return p


@pytest.fixture
def cfg(hosts: Path) -> Config:
    return Config(hosts_file=hosts, repo_root=REPO)


@pytest.fixture(autouse=True)
def not_wsl(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests must not depend on the machine they run on: no WSL unless a test says so."""
    version = tmp_path / "proc-version"
    version.write_text("Linux version 6.8.0-generic (buildd@lcy02) #1 SMP\n")
    monkeypatch.setattr(host_checks, "PROC_VERSION", version)
    monkeypatch.setattr(entry, "WSL_CONF", tmp_path / "no-wsl.conf")


def fake_sudo(tmp_path: Path, exit_code: int = 0) -> tuple[Runner, Path]:
    """A `sudo` on PATH that logs its argv and runs the command (we may already be root), or fails."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "sudo.log"
    run = 'exec "$@"' if exit_code == 0 else f"echo 'sudo: a password is required' >&2; exit {exit_code}"
    (bindir / "sudo").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {shlex.quote(str(log))}\n{run}\n')
    (bindir / "sudo").chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    return Runner(env=env), log


# --- add / remove when the file is writable ----------------------------------------------------------


def test_ensure_entry_adds_the_block_and_reports_how(cfg: Config, hosts: Path) -> None:
    change = ensure_entry(cfg, Runner())
    assert (change.action, change.written, change.elevated, change.method) == ("add", True, False, "replace")
    assert change.backup == str(hosts) + ".devctl-backup"
    assert hosts.read_bytes() == plan_add(ORIGINAL, "tour.xyz", "127.0.0.1", "tour").new
    assert "+127.0.0.1\ttour.xyz" in change.diff


def test_ensure_entry_twice_writes_once(cfg: Config, hosts: Path) -> None:
    ensure_entry(cfg, Runner())
    mtime = hosts.stat().st_mtime_ns
    again = ensure_entry(cfg, Runner())
    assert (again.changed, again.written) == (False, False)
    assert hosts.stat().st_mtime_ns == mtime


def test_remove_entry_restores_the_original(cfg: Config, hosts: Path) -> None:
    ensure_entry(cfg, Runner())
    change = remove_entry(cfg, Runner())
    assert (change.action, change.written) == ("remove", True)
    assert hosts.read_bytes() == ORIGINAL


def test_remove_mentions_a_users_line_it_leaves_in_place(cfg: Config, hosts: Path) -> None:
    hosts.write_bytes(ORIGINAL + b"127.0.0.1 tour.xyz\n")
    change = remove_entry(cfg, Runner())
    assert not change.changed
    assert any("line 4 still maps tour.xyz" in n and "leaves it" in n for n in change.notes)


def test_remove_on_a_missing_file_has_nothing_to_do(tmp_path: Path) -> None:
    change = remove_entry(Config(hosts_file=tmp_path / "gone"), Runner())
    assert (change.changed, change.written) == (False, False)
    assert "does not exist" in change.reason


def test_a_conflict_raises_and_changes_nothing(cfg: Config, hosts: Path) -> None:
    hosts.write_bytes(ORIGINAL + b"10.0.0.5 tour.xyz\n")
    with pytest.raises(HostsConflict, match=r"line 4 maps tour\.xyz to 10\.0\.0\.5"):
        ensure_entry(cfg, Runner())
    assert hosts.read_bytes() == ORIGINAL + b"10.0.0.5 tour.xyz\n"
    assert not safe_write.backup_path(hosts).exists()


def test_dry_run_returns_the_diff_and_writes_nothing(cfg: Config, hosts: Path) -> None:
    change = ensure_entry(replace(cfg, dry_run=True), Runner(dry_run=True))
    assert (change.action, change.dry_run, change.written) == ("add", True, False)
    assert change.diff.splitlines()[:2] == [f"--- {hosts}", f"+++ {hosts} (new)"]
    assert "+# BEGIN devctl cluster=tour (managed by `devctl hosts`; do not edit)" in change.diff
    assert hosts.read_bytes() == ORIGINAL
    assert not safe_write.backup_path(hosts).exists()


# --- elevation ---------------------------------------------------------------------------------------


def test_the_elevated_command_runs_only_devctls_hidden_write_step(cfg: Config, hosts: Path) -> None:
    argv = elevated_argv("add", cfg, hosts)
    assert argv[:4] == ["sudo", sys.executable, "-m", "devctl"]
    assert argv[4:] == [
        "--cluster", "tour", "hosts", "_write", "--action", "add",
        "--hosts-file", str(hosts), "--host", "tour.xyz", "--ip", "127.0.0.1",
    ]  # fmt: skip


def test_no_sudo_raises_with_the_exact_command_and_writes_nothing(
    cfg: Config, hosts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safe_write, "can_write", lambda p: False)
    with pytest.raises(NeedsElevation) as err:
        ensure_entry(cfg, Runner(), no_sudo=True)
    assert err.value.argv == elevated_argv("add", cfg, hosts)
    assert shlex.join(err.value.argv) in (err.value.hint or "")
    assert err.value.exit_code == 1
    assert hosts.read_bytes() == ORIGINAL


def test_an_unwritable_file_is_written_by_devctls_write_step_under_sudo(
    cfg: Config, hosts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safe_write, "can_write", lambda p: False)
    runner, log = fake_sudo(tmp_path)
    said: list[str] = []
    change = ensure_entry(cfg, runner, notify=said.append)
    assert (change.action, change.written, change.elevated) == ("add", True, True)
    assert log.read_text().splitlines() == elevated_argv("add", cfg, hosts)[1:]
    assert hosts.read_bytes() == plan_add(ORIGINAL, "tour.xyz", "127.0.0.1", "tour").new
    assert said and "sudo" in said[0] and str(hosts) in said[0]
    removed = remove_entry(cfg, runner)
    assert removed.elevated and hosts.read_bytes() == ORIGINAL


def test_no_sudo_prompt_when_nothing_needs_writing(
    cfg: Config, hosts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hosts.write_bytes(ORIGINAL + b"127.0.0.1 tour.xyz\n")
    monkeypatch.setattr(safe_write, "can_write", lambda p: False)
    runner, log = fake_sudo(tmp_path)
    assert not ensure_entry(cfg, runner).changed
    assert not log.exists()


def test_a_failed_sudo_is_an_error_that_repeats_the_command(
    cfg: Config, hosts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safe_write, "can_write", lambda p: False)
    runner, _ = fake_sudo(tmp_path, exit_code=1)
    with pytest.raises(DevctlError, match=r"elevated write .* failed \(exit code 1\)") as err:
        ensure_entry(cfg, runner)
    assert "_write --action add" in (err.value.hint or "")
    assert hosts.read_bytes() == ORIGINAL


def test_a_missing_sudo_says_what_to_run_as_administrator(
    cfg: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safe_write, "can_write", lambda p: False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DevctlError, match="sudo is not installed") as err:
        ensure_entry(cfg, Runner(env={"PATH": str(tmp_path / "empty")}))
    assert (err.value.hint or "").startswith("run as an administrator: " + shlex.quote(sys.executable))


# --- WSL ---------------------------------------------------------------------------------------------


def _wsl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wsl_conf: str | None = None) -> None:
    version = tmp_path / "proc-version"
    version.write_text("Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1) #1 SMP\n")
    monkeypatch.setattr(host_checks, "PROC_VERSION", version)
    if wsl_conf is not None:
        (tmp_path / "wsl.conf").write_text(wsl_conf)
        monkeypatch.setattr(entry, "WSL_CONF", tmp_path / "wsl.conf")



@pytest.mark.parametrize(
    ("conf", "generates"),
    [(None, True), ("[network]\ngenerateHosts = false\n", False), ("[network]\ngenerateHosts=true\n", True),
     ("[boot]\nsystemd=true\n", True), ("not ini at all [", True)],
)  # fmt: skip
def test_wsl_regenerates_etc_hosts_unless_wsl_conf_turns_it_off(
    tmp_path: Path, conf: str | None, generates: bool
) -> None:
    path = tmp_path / "wsl.conf"
    if conf is not None:
        path.write_text(conf)
    assert entry.wsl_generates_hosts(path) is generates


def test_under_wsl_add_explains_the_windows_file_and_regeneration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hosts: Path
) -> None:
    _wsl(tmp_path, monkeypatch)
    notes = entry.wsl_notes(Config(hosts_file=hosts), Target(hosts, windows=False, system=True))
    assert any(r"C:\Windows\System32\drivers\etc\hosts" in n and "--windows" in n for n in notes)
    assert any("generateHosts = false" in n for n in notes)
    _wsl(tmp_path, monkeypatch, "[network]\ngenerateHosts = false\n")
    notes = entry.wsl_notes(Config(hosts_file=hosts), Target(hosts, windows=False, system=True))
    assert len(notes) == 1 and "generateHosts" not in notes[0]
    assert ensure_entry(Config(hosts_file=hosts), Runner()).notes == tuple(
        entry.wsl_notes(Config(hosts_file=hosts), Target(hosts, windows=False, system=False))
    )


def test_windows_flag_outside_wsl_is_a_usage_error(cfg: Config) -> None:
    with pytest.raises(UsageError, match=r"--windows .* not WSL"):
        ensure_entry(cfg, Runner(), windows=True)


def test_windows_flag_manages_the_windows_file_with_crlf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cfg: Config
) -> None:
    _wsl(tmp_path, monkeypatch)
    win = tmp_path / "mnt-c-hosts"
    win.write_bytes(b"# Copyright (c) 1993-2009 Microsoft Corp.")  # no line break at all: CRLF by default
    monkeypatch.setattr(entry, "WSL_WINDOWS_HOSTS", win)
    change = ensure_entry(cfg, Runner(), windows=True)
    assert change.written and change.notes == ()
    assert win.read_bytes().endswith(b"\r\n127.0.0.1\ttour.xyz\r\n# END devctl cluster=tour (devctl added the "
                                     b"line break before BEGIN)\r\n")  # fmt: skip
    remove_entry(cfg, Runner(), windows=True)
    assert win.read_bytes() == b"# Copyright (c) 1993-2009 Microsoft Corp."


def test_an_unwritable_windows_file_prints_what_to_add_instead_of_calling_sudo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cfg: Config
) -> None:
    _wsl(tmp_path, monkeypatch)
    win = tmp_path / "mnt-c-hosts"
    win.write_bytes(b"# windows\r\n")
    monkeypatch.setattr(entry, "WSL_WINDOWS_HOSTS", win)
    monkeypatch.setattr(safe_write, "can_write", lambda p: False)
    runner, log = fake_sudo(tmp_path)
    with pytest.raises(DevctlError, match="elevated process") as err:
        ensure_entry(cfg, runner, windows=True)
    assert "Administrator" in (err.value.hint or "")
    assert "127.0.0.1\ttour.xyz" in (err.value.hint or "")
    assert not log.exists()


# --- status ------------------------------------------------------------------------------------------


def test_status_of_a_custom_file_judges_the_file_only(cfg: Config, hosts: Path) -> None:
    called: list[str] = []
    st = status(cfg, resolver=lambda h: called.append(h) or ["127.0.0.1"])
    assert (st.state, st.ok, st.block, st.system_file, st.resolver) == ("missing", False, False, False, None)
    assert called == []
    ensure_entry(cfg, Runner())
    st = status(cfg)
    assert (st.state, st.ok, st.block) == ("ok", True, True)
    assert [(e.lineno, e.in_block) for e in st.entries] == [(5, True)]


def test_status_says_which_line_maps_the_host_elsewhere(cfg: Config, hosts: Path) -> None:
    hosts.write_bytes(ORIGINAL + b"10.0.0.5 tour.xyz\n")
    st = status(cfg)
    assert (st.state, st.ok) == ("elsewhere", False)
    assert "line 4" in st.detail and "10.0.0.5" in st.detail


def test_status_of_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(safe_write.HostsReadError):
        status(Config(hosts_file=tmp_path / "missing"))


@pytest.fixture
def system_file(monkeypatch: pytest.MonkeyPatch, hosts: Path) -> Path:
    """Make the temp file count as "the system's hosts file" (what /etc/hosts is for real)."""
    monkeypatch.setattr(entry, "default_hosts_file", lambda: hosts)
    return hosts


def test_status_of_the_system_file_reports_the_resolver(cfg: Config, system_file: Path) -> None:
    ensure_entry(cfg, Runner())
    st = status(cfg, resolver=lambda h: ["127.0.0.1"])
    assert (st.ok, st.system_file, st.resolver, st.warnings) == (True, True, ("127.0.0.1",), ())


@pytest.mark.parametrize(
    ("answer", "warning"),
    [(["10.9.9.9"], "returns 10.9.9.9 for tour.xyz, not only 127.0.0.1"),
     (["127.0.0.1", "::1"], "returns 127.0.0.1, ::1"),
     (OSError("[Errno -2] Name or service not known"), "finds no address for tour.xyz")],
)  # fmt: skip
def test_status_warns_when_the_resolver_disagrees_with_the_file(
    cfg: Config, system_file: Path, answer: list[str] | OSError, warning: str
) -> None:
    def resolver(host: str) -> list[str]:
        if isinstance(answer, OSError):
            raise answer
        return answer

    ensure_entry(cfg, Runner())
    st = status(cfg, resolver=resolver)
    assert st.ok  # the file is right; the warning is about what overrides it
    assert any(warning in w for w in st.warnings), st.warnings


def test_resolve_asks_the_system_resolver() -> None:
    assert set(entry.resolve("localhost")) & {"127.0.0.1", "::1"}


def test_resolve_gives_up_after_its_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: time.sleep(1))
    start = time.monotonic()
    with pytest.raises(OSError, match=r"no answer within 0\.2 s"):
        entry.resolve("tour.xyz", timeout=0.2)
    assert time.monotonic() - start < 2
