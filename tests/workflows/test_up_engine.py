"""`devctl up` and the engine it finds: what it refuses before creating anything, and what kind and Skaffold
get behind a proxy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from devctl.config import load
from devctl.context import Context
from devctl.devloop.api import free_port
from devctl.report import SilentReporter
from devctl.runner import Result, Runner
from tests.conftest import REPO, FakeWorld, run_cli
from tests.engine import shapes

MANIFEST = REPO / "tests" / "data" / "ingress-nginx-kind-v1.15.1.yaml"


@pytest.fixture
def world(fake_tools: FakeWorld, repo_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> FakeWorld:
    monkeypatch.setenv("DEVCTL_REGISTRY_PORT", str(free_port()))
    monkeypatch.setenv("DEVCTL_INGRESS_MANIFEST", str(MANIFEST))
    return fake_tools


def created_anything(world: FakeWorld) -> bool:
    return any(c["argv"][:2] in (["create", "cluster"], ["run", "-d"]) for c in world.calls())


def error_lines(res: Any) -> list[str]:
    return [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]


def test_a_rootless_engine_with_ports_80_and_443_is_refused_before_anything_is_created(
    world: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVCTL_HTTP_PORT", "80")
    monkeypatch.setenv("DEVCTL_HTTPS_PORT", "443")
    hosts_before = (world.root / "hosts").read_bytes()
    world.play_engine(shapes.ROOTLESS_ENGINE)
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 1
    (line,) = error_lines(res)
    assert "the Docker engine is rootless and cannot publish http_port 80, https_port 443" in line
    assert "DEVCTL_HTTP_PORT=8080 and DEVCTL_HTTPS_PORT=8443" in res.stderr
    assert not created_anything(world)
    assert (world.root / "hosts").read_bytes() == hosts_before  # preflight comes before the hosts entry
    assert [a[0] for a in world.argvs("docker")] == ["info"]  # one read, then the refusal


def test_a_rootless_engine_with_unprivileged_ports_goes_ahead(
    world: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVCTL_HTTP_PORT", str(free_port()))
    monkeypatch.setenv("DEVCTL_HTTPS_PORT", str(free_port()))
    world.play_engine(shapes.ROOTLESS_ENGINE)
    assert run_cli("up", "--no-dev").exit_code == 0
    assert created_anything(world)


def test_podman_is_refused_in_one_line_before_anything_is_created(
    world: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVCTL_HTTP_PORT", str(free_port()))
    monkeypatch.setenv("DEVCTL_HTTPS_PORT", str(free_port()))
    world.play_engine(shapes.PODMAN)
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 1
    (line,) = error_lines(res)
    assert "Podman is not supported by devctl" in line
    assert not created_anything(world)


# --- behind a proxy ---------------------------------------------------------------------------------------


class Capture(Runner):
    """Records what each call would get as its environment, and answers nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.envs: list[tuple[list[str], dict[str, str] | None]] = []

    def run(self, argv: Sequence[str], **kw: Any) -> Result:
        self.envs.append((list(argv), kw.get("env")))
        return Result(list(argv), 0)

    def output(self, argv: Sequence[str], **kw: Any) -> Result:
        return self.run(argv, **kw)


NO_PROXY = "corp.example,localhost,127.0.0.1,kind-registry,.svc,.cluster.local,10.244.0.0/16,10.96.0.0/16"


@pytest.fixture
def behind_a_proxy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Context:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", "http://proxy.corp:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3129")
    monkeypatch.setenv("no_proxy", "corp.example, localhost")
    (tmp_path / "pyproject.toml").write_text("[tool.devctl]\n")
    return Context(load(env={}, cwd=tmp_path), Capture(), reporter=SilentReporter())


def test_kind_create_gets_the_proxy_and_the_no_proxy_the_cluster_needs(behind_a_proxy: Context) -> None:
    behind_a_proxy.kind.create_cluster("tour", "kind: Cluster\n")
    runner = behind_a_proxy.runner
    assert isinstance(runner, Capture)
    ((argv, env),) = runner.envs
    assert argv[:3] == ["kind", "create", "cluster"]
    assert env is not None
    # kind.md §8, kind#1650: exactly the user's entries, then what devctl adds, each once; both cases.
    assert (env["NO_PROXY"], env["no_proxy"]) == (NO_PROXY, NO_PROXY)
    assert (env["HTTP_PROXY"], env["http_proxy"]) == ("http://proxy.corp:3128",) * 2
    assert (env["HTTPS_PROXY"], env["https_proxy"]) == ("http://proxy.corp:3129",) * 2
    assert env["PATH"]  # the rest of the environment is kept


def test_skaffolds_builds_get_the_same_proxy_variables(behind_a_proxy: Context) -> None:
    behind_a_proxy.skaffold.with_global_config("/tmp/private.yaml").change("build", "--push=false")
    runner = behind_a_proxy.runner
    assert isinstance(runner, Capture)
    ((argv, env),) = runner.envs
    assert argv[:4] == ["skaffold", "build", "--kube-context", "kind-tour"] and "-c" in argv
    assert env is not None and env["NO_PROXY"] == NO_PROXY and env["no_proxy"] == NO_PROXY
    assert env["HTTP_PROXY"] == "http://proxy.corp:3128"
    assert not any(k.startswith("SKAFFOLD_") for k in env)


def test_without_a_proxy_kind_inherits_the_environment_unchanged(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "pyproject.toml").write_text("[tool.devctl]\n")
    ctx = Context(load(env={}, cwd=tmp_path), Capture(), reporter=SilentReporter())
    ctx.kind.create_cluster("tour", "kind: Cluster\n")
    assert isinstance(ctx.runner, Capture)
    assert ctx.runner.envs[0][1] is None
    assert ctx.proxy.env() == {}
