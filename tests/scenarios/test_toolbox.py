"""The toolbox switches between the fakes and the real tools by DEVCTL_E2E alone, and refuses without the tools.

The first tests run in both modes (``make test``: fakes; ``make e2e``: real tools) and assert per mode;
the rest test the decisions and the real-mode teardown directly, against the fakes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from tests.conftest import FAKES, REPO, FakeWorld
from tests.scenarios import e2e_gate
from tests.scenarios.conftest import (
    E2E_REGISTRY_NAME,
    FAKE_CLUSTER,
    LOGS_VAR,
    REAL_PORTS,
    Ports,
    Toolbox,
    build_toolbox,
    e2e_requested,
    free_ports,
    isolated_env,
    real_ports,
    resolve_mode,
)

TOOLS = ("docker", "kind", "kubectl", "skaffold")


def _inside_fakes(binary: str) -> bool:
    return Path(binary).resolve().is_relative_to(FAKES.resolve())


# --- in both modes --------------------------------------------------------------------------------


def test_the_mode_follows_DEVCTL_E2E(toolbox: Toolbox) -> None:
    assert toolbox.mode == ("real" if e2e_requested(os.environ) else "fake")


@pytest.mark.parametrize("tool", TOOLS)
def test_each_tool_resolves_to_the_fake_or_the_real_binary_by_mode(toolbox: Toolbox, tool: str) -> None:
    binary = toolbox.which(tool)
    assert binary is not None, f"{tool} not on the toolbox PATH"
    if toolbox.mode == "fake":
        assert _inside_fakes(binary), f"fake mode resolved {tool} to {binary}, outside {FAKES}"
    else:
        assert not _inside_fakes(binary), f"real mode resolved {tool} to the test fake {binary}"


def test_devctl_started_by_the_toolbox_runs_the_tools_the_toolbox_resolves(toolbox: Toolbox) -> None:
    code, out, err = toolbox.run("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    for tool in ("kind", "kubectl", "skaffold"):
        assert checks[tool]["status"] == "ok", f"doctor on {tool}: {checks[tool]} (exit {code}, stderr {err!r})"
    if toolbox.world is not None:  # the fakes log every call: devctl really ran them
        assert toolbox.world.argvs("kind"), "devctl did not call the fake kind"
        assert toolbox.world.argvs("skaffold"), "devctl did not call the fake skaffold"


def test_the_toolbox_isolates_hosts_file_kubeconfig_and_ports(toolbox: Toolbox) -> None:
    env = toolbox.env
    assert env["DEVCTL_HOSTS_FILE"] == str(toolbox.hosts_file) != "/etc/hosts"
    assert toolbox.hosts_file.read_text().startswith("127.0.0.1")
    assert env["KUBECONFIG"] == str(toolbox.kubeconfig)
    assert not toolbox.kubeconfig.is_relative_to(Path.home() / ".kube")
    assert [int(env[f"DEVCTL_{p}_PORT"]) for p in ("HTTP", "HTTPS", "REGISTRY")] == list(toolbox.ports)
    assert env["DEVCTL_REGISTRY_NAME"] == toolbox.registry_name == E2E_REGISTRY_NAME
    if toolbox.mode == "real":
        assert re.fullmatch(r"devctl-e2e-[0-9a-f]{6}", toolbox.cluster)
        assert toolbox.ports == real_ports(os.environ)
    else:
        assert toolbox.cluster == FAKE_CLUSTER


# --- the decisions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wanted"),
    [(None, False), ("", False), ("0", False), ("false", False), ("1", True), ("yes", True)],
)
def test_e2e_is_requested_by_a_non_empty_non_zero_DEVCTL_E2E(value: str | None, wanted: bool) -> None:
    env = {} if value is None else {"DEVCTL_E2E": value}
    assert e2e_requested(env) is wanted


def _bin_dir(tmp_path: Path, names: tuple[str, ...], docker_info_exit: int = 0) -> Path:
    """Stand-in executables (outside tests/fakes) that answer like the real ones for the gate."""
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    for name in names:
        body = f"exit {docker_info_exit}" if name == "docker" else "exit 0"
        (d / name).write_text(f"#!/bin/sh\n{body}\n")
        (d / name).chmod(0o755)
    return d


def test_missing_tools_names_every_absent_tool(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert e2e_gate.missing_tools(str(empty)) == list(TOOLS)
    some = _bin_dir(tmp_path, ("docker", "kind"))
    (some / "skaffold").write_text("not executable\n")  # a file that is not executable does not count
    assert e2e_gate.missing_tools(str(some)) == ["kubectl", "skaffold"]


def test_DEVCTL_E2E_without_the_tools_refuses_with_the_gate_line(tmp_path: Path) -> None:
    mode, refusal = resolve_mode({"DEVCTL_E2E": "1", "PATH": str(_bin_dir(tmp_path, ("docker", "kubectl")))})
    assert mode == "real"
    assert refusal == ("make e2e needs docker (daemon running), kind, kubectl and skaffold: missing kind, skaffold")


def test_without_DEVCTL_E2E_the_fakes_are_used_and_nothing_is_required(tmp_path: Path) -> None:
    assert resolve_mode({"PATH": str(tmp_path)}) == ("fake", None)


def test_the_test_fakes_do_not_pass_for_real_tools(fake_tools: FakeWorld) -> None:
    line = e2e_gate.refusal(fake_tools.env()["PATH"])
    assert line is not None
    assert "docker, kind, kubectl, skaffold resolve to the test fakes" in line


def test_a_docker_whose_daemon_does_not_answer_is_reported(fake_tools: FakeWorld) -> None:
    path = fake_tools.env()["PATH"]
    assert e2e_gate.docker_daemon_reachable(path)
    fake_tools.docker_down()
    assert not e2e_gate.docker_daemon_reachable(path)


def test_the_gate_refuses_a_stopped_docker_daemon(tmp_path: Path) -> None:
    path = str(_bin_dir(tmp_path, TOOLS, docker_info_exit=1))
    assert e2e_gate.refusal(path) == (
        "make e2e needs docker (daemon running), kind, kubectl and skaffold: "
        "docker daemon not reachable (is Docker running?)"
    )


def _gate(path: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PATH",)}
    env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "tests.scenarios.e2e_gate"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_make_e2e_gate_exits_1_with_exactly_one_line_on_a_machine_without_the_tools(tmp_path: Path) -> None:
    done = _gate(str(tmp_path))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.endswith("\n")
    assert done.stderr.strip() == (
        "make e2e needs docker (daemon running), kind, kubectl and skaffold: missing docker, kind, kubectl, skaffold"
    )


def test_make_e2e_gate_passes_when_every_tool_is_there_and_docker_answers(tmp_path: Path) -> None:
    bin_dir = _bin_dir(tmp_path, TOOLS)
    done = _gate(str(bin_dir))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.strip() == "e2e: " + " ".join(f"{t}={bin_dir / t}" for t in TOOLS)


MAKE = shutil.which("make")


@pytest.mark.skipif(MAKE is None, reason="no make on this machine")
@pytest.mark.skipif(not (REPO / ".venv" / "bin" / "python").exists(), reason="no .venv: make e2e would create one")
def test_make_e2e_without_the_tools_stops_at_the_gate_with_one_line(tmp_path: Path) -> None:
    assert MAKE is not None
    drop = ("PATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    env = {k: v for k, v in os.environ.items() if k not in drop} | {"PATH": str(tmp_path)}
    # -o: take the installed venv as it is (no pip install from a test).
    done = subprocess.run(
        [MAKE, "-o", ".venv/.installed-test", "e2e"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    own_lines = [line for line in done.stderr.splitlines() if not line.startswith(("make: ", "make["))]
    assert own_lines == [
        "make e2e needs docker (daemon running), kind, kubectl and skaffold: missing docker, kind, kubectl, skaffold"
    ]
    assert "test session starts" not in done.stdout, "the scenarios ran although the gate refused"


def test_free_ports_are_distinct_and_bindable() -> None:
    import socket

    ports = free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_isolated_env_drops_what_would_steer_devctl_elsewhere() -> None:
    env = isolated_env(
        {
            "PATH": "/bin",
            "HOME": "/h",
            "DEVCTL_CLUSTER": "prod",
            "SKAFFOLD_PROFILE": "x",
            "KUBECONFIG": "/h/.kube/config",
            "KIND_CLUSTER_NAME": "k",
            "DEVCTL_FAKE_STATE": "/s",
        }
    )
    assert env == {"PATH": "/bin", "HOME": "/h", "DEVCTL_FAKE_STATE": "/s"}


def test_a_real_mode_toolbox_gets_a_throwaway_cluster_and_the_e2e_ports(tmp_path: Path) -> None:
    box = build_toolbox("real", tmp_path, {"PATH": "/usr/bin", "DEVCTL_E2E_HTTP_PORT": "28080"})
    assert re.fullmatch(r"devctl-e2e-[0-9a-f]{6}", box.cluster)
    assert box.ports == Ports(28080, REAL_PORTS.https, REAL_PORTS.registry)
    assert box.env["PATH"] == "/usr/bin"
    assert box.env["KUBECONFIG"] == str(tmp_path / "kube" / "config")
    assert box.world is None


def _environ() -> dict[str, str]:
    """This process's environment minus a CI log dir, so these unit tests keep their logs in tmp_path."""
    return {k: v for k, v in os.environ.items() if k != LOGS_VAR}


# --- the real-mode teardown, exercised against the fakes ---------------------------------------------


def _fake_world_with_real_teardown(tmp_path: Path, cluster: str = "devctl-e2e-abc123") -> Toolbox:
    """A toolbox on the fakes' PATH whose teardown is the real mode's (down, leftovers, kind logs)."""
    box = build_toolbox("fake", tmp_path, _environ())
    box.mode = "real"
    box.cluster = cluster
    return box


def _close(box: Toolbox, failed: bool) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        box.close(failed=failed)
    return [str(w.message) for w in caught]


def _create_cluster_and_registry(box: Toolbox) -> None:
    for argv in (
        ["kind", "create", "cluster", "--name", box.cluster],
        ["docker", "run", "-d", "--name", box.registry_name, "registry:2"],
    ):
        binary = box.which(argv[0])
        assert binary is not None
        subprocess.run([binary, *argv[1:]], env=box.env, check=True, capture_output=True, timeout=60)


def test_real_mode_teardown_deletes_cluster_and_registry_even_after_a_failure(tmp_path: Path) -> None:
    box = _fake_world_with_real_teardown(tmp_path)
    assert box.world is not None
    _create_cluster_and_registry(box)
    assert f"{box.cluster}-control-plane" in box.world.containers()
    assert box.registry_name in box.world.containers()

    warned = _close(box, failed=True)

    assert not [c for c in box.world.containers() if c.startswith(box.cluster)], "cluster node left behind"
    assert box.registry_name not in box.world.containers(), "registry container left behind"
    assert ["export", "logs", str(box.log_dir / "kind"), "--name", box.cluster] in box.world.argvs("kind")
    downs = [p.read_text() for p in box.log_dir.glob("*-down.log")]
    assert len(downs) == 1 and f"--cluster {box.cluster} down --registry --hosts" in downs[0]
    # Deleted by `devctl down`, or else by the toolbox itself with a warning (see the next test).
    assert all("the toolbox deleted them" in message for message in warned)


def test_what_down_leaves_behind_is_deleted_by_the_toolbox_and_named_in_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = _fake_world_with_real_teardown(tmp_path)
    assert box.world is not None
    _create_cluster_and_registry(box)
    monkeypatch.setattr(box, "argv", lambda *args: [sys.executable, "-c", "pass"])  # a `down` that deletes nothing

    warned = _close(box, failed=False)

    assert warned == [
        f"`devctl down --registry --hosts` (exit 0) left cluster {box.cluster}, registry container "
        f"{box.registry_name} behind; the toolbox deleted them"
    ]
    assert ["delete", "cluster", "--name", box.cluster] in box.world.argvs("kind")
    assert box.world.containers() == {}


def test_teardown_of_a_passing_real_run_runs_down_but_keeps_no_kind_logs(tmp_path: Path) -> None:
    box = _fake_world_with_real_teardown(tmp_path)
    assert box.world is not None
    assert _close(box, failed=False) == []  # nothing was created, so nothing is left over
    assert not [a for a in box.world.argvs("kind") if a[:2] == ["export", "logs"]]
    assert list(box.log_dir.glob("*-down.log"))


def test_a_fake_mode_teardown_deletes_nothing(tmp_path: Path) -> None:
    box = build_toolbox("fake", tmp_path, _environ())
    assert box.world is not None
    _create_cluster_and_registry(box)
    box.world.clear_calls()
    assert _close(box, failed=True) == []
    assert box.world.calls() == []


_SLEEP = "import time\nfor _ in range(600): time.sleep(0.1)"
_DEAF = (
    "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('deaf', flush=True)\n"
    "for _ in range(600): time.sleep(0.1)"
)


def test_interrupt_sends_ctrl_c_to_the_process_group(tmp_path: Path) -> None:
    box = build_toolbox("fake", tmp_path, _environ())
    started = box.spawn([sys.executable, "-c", _SLEEP])
    time.sleep(0.3)
    began = time.monotonic()
    code = started.interrupt(timeout=20)
    assert code != 0 and time.monotonic() - began < 20


def test_interrupt_kills_and_fails_when_ctrl_c_is_ignored(tmp_path: Path) -> None:
    box = build_toolbox("fake", tmp_path, _environ())
    started = box.spawn([sys.executable, "-c", _DEAF])
    started.wait_for("deaf", timeout=30)  # SIGINT is ignored from here on
    with pytest.raises(pytest.fail.Exception, match="still running 1s after Ctrl-C; killed"):
        started.interrupt(timeout=1)
    assert started.proc.poll() is not None


def test_teardown_stops_whatever_a_scenario_left_running(tmp_path: Path) -> None:
    box = build_toolbox("fake", tmp_path, _environ())
    started = box.spawn([sys.executable, "-c", _SLEEP])
    box.close(failed=False)
    assert started.proc.poll() is not None


def test_call_runs_any_command_in_the_toolbox_env_and_fails_the_test_on_timeout(tmp_path: Path) -> None:
    box = build_toolbox("fake", tmp_path, _environ())
    code, out, _ = box.call([sys.executable, "-c", "import os; print(os.environ['DEVCTL_HOSTS_FILE'])"])
    assert (code, out.strip()) == (0, str(box.hosts_file))
    with pytest.raises(pytest.fail.Exception, match="did not finish within 1s"):
        box.call([sys.executable, "-c", _SLEEP], timeout=1)
    last = max(box.log_dir.glob("*.log"), key=lambda p: p.name)
    assert "\n# timed out after " in last.read_text()


def test_every_run_leaves_a_transcript_in_the_log_dir(tmp_path: Path) -> None:
    box = build_toolbox("fake", tmp_path, {**_environ(), "DEVCTL_E2E_LOGS": str(tmp_path / "ci-logs")}, label="m")
    code, _, _ = box.run("--version")
    assert box.log_dir == tmp_path / "ci-logs" / "m"
    (log,) = box.log_dir.glob("*.log")
    text = log.read_text()
    assert text.startswith(f"$ {sys.executable} -m devctl --cluster tour --version\n# exit {code} after ")
