"""devctl.host_checks: the inotify limits kind recommends, and the one line on native Windows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from devctl import host_checks
from tests.conftest import run_cli


def limits(tmp_path: Path, watches: int, instances: int) -> Path:
    (tmp_path / "max_user_watches").write_text(f"{watches}\n")
    (tmp_path / "max_user_instances").write_text(f"{instances}\n")
    return tmp_path


def test_ubuntus_defaults_are_below_kinds_recommendation_with_the_sysctl_lines(tmp_path: Path) -> None:
    check = host_checks.check_inotify(host_checks.read_inotify(limits(tmp_path, 8192, 128)), engine_local=True)
    assert check is not None and check.status == "warn"
    assert check.detail.startswith("fs.inotify.max_user_watches = 8192, fs.inotify.max_user_instances = 128: below")
    assert check.hint == (
        "`sudo sysctl fs.inotify.max_user_watches=524288; sudo sysctl fs.inotify.max_user_instances=512`; to keep "
        "them, put fs.inotify.max_user_watches = 524288 and fs.inotify.max_user_instances = 512 in "
        "/etc/sysctl.d/99-kind.conf"
    )


def test_enough_is_ok_and_a_vm_engine_is_told_apart(tmp_path: Path) -> None:
    values = host_checks.read_inotify(limits(tmp_path, 524288, 512))
    local = host_checks.check_inotify(values, engine_local=True)
    assert local is not None and local.status == "ok"
    vm = host_checks.check_inotify(values, engine_local=False)
    assert vm is not None and "the engine's VM has its own" in vm.detail


def test_no_limits_to_read_is_no_check(tmp_path: Path) -> None:
    assert host_checks.read_inotify(tmp_path / "absent") is None
    assert host_checks.check_inotify(None, engine_local=True) is None


def test_native_windows_gets_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from devctl.cli import main

    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(SystemExit) as done:
        main(["doctor"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ERROR: devctl does not run on native Windows")
    assert "WSL2" in err


def test_doctor_on_linux_is_not_refused() -> None:
    assert "native Windows" not in run_cli("--version").output


@pytest.mark.parametrize(
    ("text", "wsl"),
    [("Linux version 5.15.153.1-microsoft-standard-WSL2", True), ("Linux version 4.4.0-19041-Microsoft", True),
     ("Linux version 6.8.0-45-generic (buildd@lcy02-amd64-075)", False)],
)  # fmt: skip
def test_wsl_is_detected_from_proc_version(tmp_path: Path, text: str, wsl: bool) -> None:
    (tmp_path / "v").write_text(text)
    assert host_checks.is_wsl(tmp_path / "v") is wsl
    assert host_checks.is_wsl(tmp_path / "missing") is False
