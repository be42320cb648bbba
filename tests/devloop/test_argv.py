"""How devctl calls `skaffold dev` (skaffold.md §2): exact flags, pinned context, private config, clean env."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from devctl import config
from devctl.context import Context
from devctl.devloop.api import free_port
from devctl.devloop.argv import dev_argv
from devctl.devloop.run import run_dev
from devctl.report import SilentReporter
from devctl.tools.skaffold import write_global_config
from tests.conftest import FakeWorld
from tests.stack_world import create_cluster, ctrl_c_when, dev_log, dev_ready, write_project


def cfg_for(root: Path, **flags: object) -> config.Config:
    return config.load({"skaffold_file": str(root / "skaffold.yaml"), **flags}, env={}, cwd=root)


def test_the_exact_command_line(tmp_path: Path) -> None:
    cfg = cfg_for(tmp_path, cluster="dev")
    assert dev_argv(cfg, 41234, "/tmp/x/skaffold-config.yaml", keep=False) == [
        "skaffold", "dev",
        "--kube-context", "kind-dev",
        "-c", "/tmp/x/skaffold-config.yaml",
        "-f", str(tmp_path / "skaffold.yaml"),
        "--interactive=false",
        "--update-check=false",
        "--rpc-http-port", "41234",
        "--port-forward=off",
    ]  # fmt: skip


def test_keep_turns_cleanup_off_and_a_profile_is_passed_through(tmp_path: Path) -> None:
    argv = dev_argv(cfg_for(tmp_path), 1, "/c", keep=True, profile="services")
    assert argv[-3:] == ["--cleanup=false", "-p", "services"]
    assert "--cleanup=false" not in dev_argv(cfg_for(tmp_path), 1, "/c", keep=False)


def test_a_relative_skaffold_file_is_made_absolute_against_the_repo_root(tmp_path: Path) -> None:
    cfg = config.load({"skaffold_file": "deploy/skaffold.yaml"}, env={}, cwd=tmp_path)
    argv = dev_argv(cfg, 1, "/c", keep=False)
    assert argv[argv.index("-f") + 1] == str(tmp_path / "deploy" / "skaffold.yaml")


def test_the_private_global_config_sets_nothing(tmp_path: Path) -> None:
    data = yaml.safe_load(write_global_config(tmp_path).read_text())
    assert data == {"global": {}, "kubeContexts": []}


def test_free_port_is_bindable_on_loopback() -> None:
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


@pytest.fixture
def project(fake_tools: FakeWorld, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    write_project(root)
    create_cluster()
    # A first deploy that fails ends skaffold dev by itself (exit 1): a complete, short run.
    fake_tools.set_knob("skaffold_fail_deploy", "auth")
    fake_tools.set_knob("skaffold_dev_delay", 0.02)
    return root


def test_inherited_skaffold_variables_never_reach_skaffold(
    project: Path, fake_tools: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKAFFOLD_DEFAULT_REPO", "evil")
    monkeypatch.setenv("SKAFFOLD_PROFILE", "prod")
    run_dev(Context.create(cfg_for(project), reporter=SilentReporter()))
    start = next(e for e in dev_log(fake_tools.state_dir) if e["event"] == "start")
    assert start["skaffold_env"] == {}


def test_every_call_is_pinned_and_nothing_lands_in_the_current_context(project: Path, fake_tools: FakeWorld) -> None:
    fake_tools.add_foreign_context("prod", current=True)
    fake_tools.set_knob("skaffold_fail_deploy", None)
    ctrl_c_when(dev_ready(fake_tools.state_dir))
    # keep=True: the deployed objects stay, so where they landed can be inspected afterwards.
    assert run_dev(Context.create(cfg_for(project), reporter=SilentReporter()), keep=True) == 0
    assert fake_tools.assert_pinned("tour") > 0
    assert not fake_tools.objects("prod")
    assert "Deployment/default/auth" in fake_tools.objects("kind-tour")
    start = next(e for e in dev_log(fake_tools.state_dir) if e["event"] == "start")
    assert yaml.safe_load(start["config_text"]) == {"global": {}, "kubeContexts": []}
    assert start["cwd"] == str(project)
    assert "--cleanup=false" in start["argv"]


def test_dry_run_starts_nothing_and_says_what_it_would_run(project: Path, fake_tools: FakeWorld) -> None:
    rep = SilentReporter()
    ctx = Context.create(cfg_for(project, dry_run=True), reporter=rep)
    assert run_dev(ctx) == 0
    assert fake_tools.calls("skaffold") == []
    said = " ".join(title for kind, title, _ in rep.events if kind == "info")
    assert "would run: skaffold dev --kube-context kind-tour -c " in said


def test_the_fake_refuses_an_unknown_flag_like_skaffold(fake_tools: FakeWorld) -> None:
    # skaffold.md §4: cobra's usage and the error on stderr, exit 127.
    import subprocess

    res = subprocess.run(["skaffold", "dev", "--bogus"], capture_output=True, text=True)
    assert res.returncode == 127
    assert res.stderr.strip().endswith("unknown flag: --bogus")
