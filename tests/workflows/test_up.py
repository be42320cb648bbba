"""`devctl up` (the workflow through the CLI, against the fakes): order, idempotence, pinning, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from devctl.devloop.api import free_port
from tests.conftest import REPO, FakeWorld, run_cli

MANIFEST = REPO / "tests" / "data" / "ingress-nginx-kind-v1.15.1.yaml"


@pytest.fixture
def world(fake_tools: FakeWorld, repo_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> FakeWorld:
    for var in ("DEVCTL_HTTP_PORT", "DEVCTL_HTTPS_PORT", "DEVCTL_REGISTRY_PORT"):
        monkeypatch.setenv(var, str(free_port()))
    monkeypatch.setenv("DEVCTL_INGRESS_MANIFEST", str(MANIFEST))
    fake_tools.add_foreign_context("prod", current=True)  # the user's current context is someone else's
    return fake_tools


def first_index(calls: list[list[str]], *needle: str) -> int:
    for i, argv in enumerate(calls):
        joined = " ".join(argv)
        if all(n in joined for n in needle):
            return i
    raise AssertionError(f"no call with {needle}")


def test_fresh_up_creates_everything_in_order_pinned_to_the_kind_context(world: FakeWorld) -> None:
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 0, res.stderr
    assert "Ready: http://tour.xyz:" in res.stdout
    calls = [[c["tool"], *c["argv"]] for c in world.calls()]
    daemon = first_index(calls, "docker", "info")
    create = first_index(calls, "kind", "create", "cluster")
    ingress_apply = first_index(calls, "kubectl", "apply", str(MANIFEST))
    dry_run = first_index(calls, "kubectl", "--dry-run=server")
    secret = first_index(calls, "kubectl", "create", "-f", "-")
    build = first_index(calls, "skaffold", "build")
    assert daemon < create < ingress_apply < dry_run
    assert create < secret and create < build
    assert "# BEGIN devctl cluster=tour" in Path(world.root / "hosts").read_text()
    objects = world.objects("kind-tour")
    assert "Secret/default/tour-secrets" in objects
    assert "ConfigMap/kube-public/local-registry-hosting" in objects
    assert world.objects("prod") == {}
    assert world.assert_pinned() > 10


def test_second_up_is_a_no_op_within_eight_calls(world: FakeWorld) -> None:
    assert run_cli("up", "--no-dev").exit_code == 0
    hosts_before = (world.root / "hosts").read_bytes()
    world.clear_calls()
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 0, res.stderr
    argvs = [[c["tool"], *c["argv"]] for c in world.calls(probes=False)]
    assert len(argvs) <= 8, argvs
    assert not any(a[:3] == ["kind", "create", "cluster"] for a in argvs)
    assert not any(a[:2] == ["docker", "run"] for a in argvs)
    assert not any("apply" in a and "--dry-run=server" not in a for a in argvs if a[0] == "kubectl")
    assert (world.root / "hosts").read_bytes() == hosts_before
    world.assert_pinned()


def test_up_continues_after_a_failed_run(world: FakeWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first run dies in the ingress wait (the controller never becomes ready): exit 1 with the stage named.
    world.set_knob("ingress_never_ready", True)
    monkeypatch.setenv("DEVCTL_INGRESS_TIMEOUT", "2")
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 1
    assert "ERROR:" in res.stderr
    world.set_knob("ingress_never_ready", False)
    world.clear_calls()
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 0, res.stderr
    argvs = [[c["tool"], *c["argv"]] for c in world.calls()]
    assert not any(a[:3] == ["kind", "create", "cluster"] for a in argvs)  # the cluster was kept


def test_no_permission_on_the_socket_is_one_line_with_its_fix_and_nothing_is_created(world: FakeWorld) -> None:
    world.docker_denied()
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]
    assert len(errors) == 1 and "may not use the Docker daemon" in errors[0] and "start Docker" not in errors[0]
    assert world.containers() == {}


def test_docker_down_is_one_line_and_nothing_is_created(world: FakeWorld) -> None:
    hosts_before = (world.root / "hosts").read_bytes()
    world.docker_down()
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]
    assert len(errors) == 1 and "Docker daemon is not reachable" in errors[0]
    assert "Traceback" not in res.output
    assert not any(c["argv"][:2] in (["create", "cluster"], ["run", "-d"]) for c in world.calls())
    assert (world.root / "hosts").read_bytes() == hosts_before


@pytest.fixture
def kind_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH holds the fakes of docker, kubectl and skaffold, and no kind."""
    only_some = tmp_path / "bin"
    only_some.mkdir()
    for tool in ("docker", "kubectl", "skaffold"):
        (only_some / tool).symlink_to(REPO / "tests" / "fakes" / tool)
    monkeypatch.setenv("PATH", f"{only_some}:/usr/bin:/bin")


def test_a_missing_tool_is_named_with_how_to_install_it(world: FakeWorld, kind_missing: None) -> None:
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 1
    error = next(ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:"))
    assert "kind is not installed (not in devctl's tool store, not on PATH)" in error
    assert "devctl tools install" in error


def test_a_missing_tool_is_reported_before_a_daemon_that_does_not_answer(world: FakeWorld, kind_missing: None) -> None:
    world.docker_down()
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]
    assert len(errors) == 1 and "kind is not installed" in errors[0], res.stderr


def test_dry_run_prints_the_plan_and_changes_nothing(world: FakeWorld) -> None:
    hosts_before = (world.root / "hosts").read_bytes()
    res = run_cli("--dry-run", "up")
    assert res.exit_code == 0, res.stderr
    for title in ("Preflight", "Hosts entry", "Kind cluster", "Ingress", "Dev secrets", "Dev loop"):
        assert title in res.stdout
    assert "skaffold dev --kube-context kind-tour" in res.stdout
    assert "extraPortMappings" in res.stdout  # the generated kind config is shown
    assert (world.root / "hosts").read_bytes() == hosts_before
    assert not any(c["argv"][:1] in (["create"], ["run"], ["apply"]) for c in world.calls())


def test_only_cluster_runs_just_the_cluster_part(world: FakeWorld) -> None:
    res = run_cli("up", "--only", "cluster")
    assert res.exit_code == 0, res.stderr
    tools = [c["tool"] for c in world.calls(probes=False)]
    assert "skaffold" not in tools
    assert not any("ingress-nginx" in " ".join(c["argv"]) for c in world.calls())
    assert "BEGIN devctl" not in (world.root / "hosts").read_text()


def test_only_build_on_a_fresh_machine_still_stamps_the_cluster_it_creates(world: FakeWorld) -> None:
    # Without the stamp the next `up` would take the cluster for a half-finished create and rebuild it.
    res = run_cli("up", "--only", "build")
    assert res.exit_code == 0, res.stderr
    assert "ConfigMap/kube-public/devctl-cluster-spec" in world.objects("kind-tour")
    world.clear_calls()
    assert run_cli("up", "--no-dev").exit_code == 0
    assert not [c for c in world.calls() if c["argv"][:2] in (["create", "cluster"], ["delete", "cluster"])]


def test_the_build_and_the_ingress_start_without_waiting_for_the_stamp() -> None:
    from devctl.workflows.up import UpOptions, second_phase

    second = second_phase(UpOptions(no_dev=True))
    needs = {s.name: s.needs for s in second}
    assert needs["build"] == ("cluster",) and needs["ingress"] == ("cluster",)
    names = [s.name for s in second]
    assert names.index("cluster-stamp") == names.index("cluster") + 1, "started first among its siblings"


def test_unknown_only_value_is_a_usage_error(world: FakeWorld) -> None:
    res = run_cli("up", "--only", "everything")
    assert res.exit_code == 2
    assert "unknown --only value 'everything'" in res.stderr
    assert world.calls() == [], "nothing runs before the options are checked"


def test_services_profile_without_sources_says_which_folders_are_missing(world: FakeWorld) -> None:
    res = run_cli("up", "--no-dev", "--profile", "services")
    assert res.exit_code == 1
    line = next(ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:"))
    assert "auth" in line and "client" in line
    assert not any(c["argv"][:2] == ["create", "cluster"] for c in world.calls())


def test_piped_output_has_no_control_codes_and_reports_each_step_with_its_duration(
    world: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    res = run_cli("up", "--no-dev")
    assert res.exit_code == 0, res.stderr
    assert "\x1b" not in res.stdout + res.stderr
    import re

    assert re.search(r" ✓ Kind cluster \(\d+\.\ds\)", res.stderr)
    assert re.search(r" ✓ Dev secrets \(\d+\.\ds\)", res.stderr)
