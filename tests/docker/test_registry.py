"""The local registry against the real engine (devctl.cluster.registry, .steps, .teardown): created once
with the documented flags, reused, started, replaced, wired to the `kind` network once, removed by
`down --registry`, and the address devctl advertises takes pushes."""

from __future__ import annotations

import json

import pytest

from devctl.cluster import registry as reg_ops
from devctl.cluster.observe import read_hosting
from devctl.cluster.plan import LinkPlan
from devctl.stack import image_name
from tests.conftest import run_cli
from tests.docker import parts
from tests.docker.conftest import Devctl
from tests.docker.engine import KIND_NETWORK, Engine
from tests.docker.images import Images


def runs(calls: list[list[str]], verb: str) -> list[list[str]]:
    return [c for c in calls if c[1:2] == [verb]]


def test_created_once_with_the_documented_flags_then_reused_without_docker_run(
    devctl: Devctl, engine: Engine, images: Images
) -> None:
    parts.registry_part()

    port, name = devctl.registry_port, devctl.registry
    # kind.md §6 step 1 and the README: restart=always, 127.0.0.1:<registry_port> -> 5000, bridge, the name.
    documented = ["--restart=always", "-p", f"127.0.0.1:{port}:5000", "--network", "bridge", "--name", name]
    assert runs(devctl.docker_calls(), "run") == [["docker", "run", "-d", *documented, images.registry]]
    seen = engine.inspect(name)
    assert seen["HostConfig"]["RestartPolicy"]["Name"] == "always"  # type: ignore[index]
    assert seen["HostConfig"]["PortBindings"] == {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}  # type: ignore[index]
    assert seen["Config"]["Image"] == images.registry  # type: ignore[index]
    assert list(seen["NetworkSettings"]["Networks"]) == ["bridge"]  # type: ignore[index]
    parts.wait_for_registry(port)

    devctl.mark()
    parts.registry_part()
    calls = devctl.docker_calls()
    assert sorted(c[1] for c in calls) == ["inspect", "ps"], calls  # the two reads (side by side), nothing else
    assert engine.state(name) == "running"


def test_a_stopped_registry_is_started_not_run_again(devctl: Devctl, engine: Engine) -> None:
    parts.registry_part()
    engine.ok("stop", devctl.registry)
    assert engine.state(devctl.registry) == "exited"

    devctl.mark()
    parts.registry_part()
    calls = devctl.docker_calls()
    assert runs(calls, "start") == [["docker", "start", devctl.registry]] and not runs(calls, "run")
    assert engine.state(devctl.registry) == "running"
    parts.wait_for_registry(devctl.registry_port)


def test_a_registry_from_another_image_is_kept_and_named_then_replaced_with_recreate(
    devctl: Devctl, engine: Engine, images: Images, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = engine.tag(images.registry, f"{engine.name('registry')}:older")
    monkeypatch.setenv("DEVCTL_REGISTRY_IMAGE", older)
    parts.registry_part()
    assert engine.inspect(devctl.registry)["Config"]["Image"] == older  # type: ignore[index]

    monkeypatch.setenv("DEVCTL_REGISTRY_IMAGE", images.registry)
    devctl.mark()
    said = parts.registry_part()
    warnings = [title for kind, title, _ in said.events if kind == "warn"]
    assert any("registry_image" in w and "DEVCTL_REGISTRY_IMAGE" in w and older in w for w in warnings), said.events
    assert not runs(devctl.docker_calls(), "run") and not runs(devctl.docker_calls(), "rm")

    devctl.mark()
    parts.registry_part(recreate=True)
    calls = devctl.docker_calls()
    assert [c[1] for c in calls if c[1] in ("rm", "run")] == ["rm", "run"]
    assert runs(calls, "rm") == [["docker", "rm", "-f", devctl.registry]]
    assert engine.inspect(devctl.registry)["Config"]["Image"] == images.registry  # type: ignore[index]
    assert engine.state(devctl.registry) == "running"


def test_connected_to_the_kind_network_exactly_once(
    devctl: Devctl, engine: Engine, images: Images, kind_network: str
) -> None:
    parts.node(engine, images.busybox)
    parts.registry_part()
    assert devctl.registry not in engine.network_members(KIND_NETWORK)

    devctl.mark()
    parts.link()
    connects = runs(devctl.docker_calls(), "network")
    assert connects == [["docker", "network", "connect", KIND_NETWORK, devctl.registry]]
    assert engine.network_members(KIND_NETWORK).count(devctl.registry) == 1

    # The next look sees it on the network and plans no second connect.
    p, seen = parts.link_plan(parts.context())
    assert seen.registry is not None and KIND_NETWORK in seen.registry.networks
    assert p.connect_registry is False
    devctl.mark()
    parts.link()
    assert not runs(devctl.docker_calls(), "network")

    # Another devctl connected it between our look and our connect: docker refuses the second connect
    # (kind.md §6 step 4), and devctl takes that as done.
    ctx = parts.context()
    note = reg_ops.link(ctx, parts.spec(), LinkPlan(connect_registry=True), devctl.registry_port)
    assert note == "connected to the kind network"
    assert engine.network_members(KIND_NETWORK).count(devctl.registry) == 1


def test_the_nodes_get_the_hosts_toml_devctl_renders(
    devctl: Devctl, engine: Engine, images: Images, kind_network: str
) -> None:
    node = parts.node(engine, images.busybox)
    parts.registry_part()
    devctl.mark()
    note = parts.link()
    assert "hosts.toml written in 1 node(s)" in note
    directory = reg_ops.certs_dir(devctl.registry_port)
    execs = runs(devctl.docker_calls(), "exec")
    assert execs == [
        ["docker", "exec", node, "mkdir", "-p", directory],
        ["docker", "exec", "-i", node, "cp", "/dev/stdin", f"{directory}/hosts.toml"],
    ]
    assert engine.ok("exec", node, "cat", f"{directory}/hosts.toml") == reg_ops.hosts_toml(parts.spec()).strip()


def test_down_registry_removes_it_and_a_second_down_exits_0(devctl: Devctl, engine: Engine) -> None:
    parts.registry_part()
    devctl.mark()

    first = run_cli("down", "--registry")
    assert first.exit_code == 0, first.stderr
    assert f"removed registry container {devctl.registry}" in first.stdout
    assert not engine.exists(devctl.registry)

    second = run_cli("down", "--registry")
    assert second.exit_code == 0, second.stderr
    assert "nothing to delete" in second.stdout and devctl.registry in second.stdout
    assert runs(devctl.docker_calls(), "rm") == [["docker", "rm", "-f", devctl.registry]]


def test_the_address_the_kep_1755_configmap_advertises_takes_pushes(
    devctl: Devctl, engine: Engine, images: Images
) -> None:
    parts.registry_part()
    parts.wait_for_registry(devctl.registry_port)
    # The ConfigMap devctl applies, read back the way devctl (and Skaffold) read it.
    configmap = json.loads(reg_ops.hosting_manifest(parts.spec(), devctl.registry_port))
    advertised = (read_hosting(configmap) or {})["host"]
    assert advertised == f"localhost:{devctl.registry_port}"

    # Skaffold renames csup96/tour-auth to <default repo>/csup96_tour-auth (skaffold.md §6).
    repository = image_name("auth").replace("/", "_")
    pushed = engine.tag(images.busybox, f"{advertised}/{repository}:dev")
    engine.ok("push", pushed)
    assert parts.tags(devctl.registry_port, repository) == ["dev"]
