"""devctl.engine: each engine told apart from its recorded `docker info` and `docker context inspect`
(tests/engine/shapes.py), named, with its own fixes."""

from __future__ import annotations

from typing import Any

import pytest

from devctl.engine import products
from devctl.engine.detect import Endpoint, detect
from devctl.tools.docker import DockerInfo
from tests.engine import shapes

CASES = [
    # (info, context, env, platform, kind, name)
    (shapes.DOCKER_ENGINE_DEBIAN, shapes.DEFAULT_CONTEXT, {}, "linux", products.DOCKER_ENGINE, "Docker Engine"),
    (shapes.DOCKER_DESKTOP, shapes.DESKTOP_CONTEXT, {}, "darwin", products.DOCKER_DESKTOP, "Docker Desktop"),
    (shapes.COLIMA, shapes.COLIMA_CONTEXT, {}, "darwin", products.COLIMA, "Colima"),
    (shapes.ORBSTACK, shapes.ORBSTACK_CONTEXT, {}, "darwin", products.ORBSTACK, "OrbStack"),
    (shapes.RANCHER, shapes.RANCHER_CONTEXT, {}, "darwin", products.RANCHER, "Rancher Desktop (dockerd)"),
    (
        shapes.PODMAN,
        {"Name": "default", "Endpoints": {"docker": {"Host": shapes.PODMAN_HOST}}},
        {"DOCKER_HOST": shapes.PODMAN_HOST},
        "darwin",
        products.PODMAN,
        "Podman",
    ),
    (shapes.ROOTLESS_ENGINE, shapes.ROOTLESS_CONTEXT, {}, "linux", products.DOCKER_ENGINE, "Docker Engine"),
]


@pytest.mark.parametrize(("info", "context", "env", "platform", "kind", "name"), CASES, ids=[c[4] for c in CASES])
def test_each_engine_is_named_from_its_docker_info(
    info: dict[str, Any], context: dict[str, Any], env: dict[str, str], platform: str, kind: str, name: str
) -> None:
    engine = detect(Endpoint.from_inspect(context, env), DockerInfo.from_json(info), platform)
    assert (engine.kind, engine.name) == (kind, name)
    assert engine.context == context["Name"]
    assert engine.host == context["Endpoints"]["docker"]["Host"]
    assert engine.to_json()["memory_bytes"] == info["MemTotal"]
    assert engine.to_json()["cpus"] == info["NCPU"]


@pytest.mark.parametrize(("info", "context", "env", "platform", "kind", "name"), CASES, ids=[c[4] for c in CASES])
def test_a_stopped_engine_is_named_from_its_socket_or_context_alone(
    info: dict[str, Any], context: dict[str, Any], env: dict[str, str], platform: str, kind: str, name: str
) -> None:
    # The daemon does not answer: only the context (read from the CLI's files) is known.
    engine = detect(Endpoint.from_inspect(context, env), None, platform)
    assert engine.kind == kind
    assert engine.to_json()["running"] is False


def test_the_endpoint_says_how_the_cli_chose_it() -> None:
    assert Endpoint.from_inspect(shapes.COLIMA_CONTEXT, {}).source == products.FROM_CURRENT_CONTEXT
    assert Endpoint.from_inspect(shapes.COLIMA_CONTEXT, {"DOCKER_CONTEXT": "colima"}).source == "DOCKER_CONTEXT"
    # DOCKER_HOST wins over DOCKER_CONTEXT (docker/cli resolveContextName); the CLI then shows "default".
    both = {"DOCKER_HOST": "unix:///tmp/d.sock", "DOCKER_CONTEXT": "colima"}
    assert Endpoint.from_inspect(shapes.DEFAULT_CONTEXT, both).source == "DOCKER_HOST"


def test_rootless_comes_from_the_security_options() -> None:
    assert DockerInfo.from_json(shapes.ROOTLESS_ENGINE).rootless
    assert DockerInfo.from_json(shapes.PODMAN).rootless
    assert not DockerInfo.from_json(shapes.DOCKER_ENGINE_DEBIAN).rootless
    assert not DockerInfo.from_json(shapes.COLIMA).rootless


def test_only_engines_in_a_vm_say_their_memory_is_a_vms() -> None:
    local = detect(
        Endpoint.from_inspect(shapes.DEFAULT_CONTEXT, {}), DockerInfo.from_json(shapes.DOCKER_ENGINE_DEBIAN), "linux"
    )
    colima = detect(Endpoint.from_inspect(shapes.COLIMA_CONTEXT, {}), DockerInfo.from_json(shapes.COLIMA), "darwin")
    assert not local.in_vm and colima.in_vm


def test_an_unnamed_engine_on_macos_stays_unknown_until_it_answers() -> None:
    plain = {"Name": "default", "Endpoints": {"docker": {"Host": "unix:///var/run/docker.sock"}}}
    assert detect(Endpoint.from_inspect(plain, {}), None, "darwin").kind == products.UNKNOWN
    assert detect(Endpoint.from_inspect(plain, {}), None, "linux").kind == products.DOCKER_ENGINE


@pytest.mark.parametrize(
    ("kind", "context", "platform", "wsl", "fix"),
    [
        (products.COLIMA, "colima", "darwin", False, "start Colima: `colima start --memory 6`"),
        (products.COLIMA, "colima-work", "darwin", False, "start Colima: `colima start --profile work --memory 6`"),
        (products.ORBSTACK, "orbstack", "darwin", False, "start OrbStack: `orb start`"),
        (products.PODMAN, "default", "darwin", False, "start the Podman machine: `podman machine start`"),
        (products.DOCKER_DESKTOP, "desktop-linux", "darwin", False, "start Docker Desktop (open the app)"),
        (products.DOCKER_ENGINE, "default", "linux", False, "start Docker: `sudo systemctl start docker`"),
        (products.DOCKER_ENGINE, "default", "linux", True, "turn on its WSL integration for this distribution"),
    ],
)
def test_each_engine_has_its_own_start_fix(kind: str, context: str, platform: str, wsl: bool, fix: str) -> None:
    assert fix in products.start_fix(kind, context=context, platform=platform, wsl=wsl)


def test_rootless_docker_is_started_as_the_user() -> None:
    fix = products.start_fix(products.DOCKER_ENGINE, host="unix:///run/user/1000/docker.sock", platform="linux")
    assert fix == "start your rootless Docker: `systemctl --user start docker`"


@pytest.mark.parametrize(
    ("kind", "fix"),
    [
        (products.DOCKER_DESKTOP, "Settings > Resources > Advanced > Memory limit"),
        (products.COLIMA, "`colima stop && colima start --memory 6`"),
        (products.ORBSTACK, "Settings > System > Memory limit"),
        (products.RANCHER, "Preferences > Virtual Machine > Memory"),
        (products.PODMAN, "podman machine set --memory 6144"),
    ],
)
def test_each_engine_has_its_own_memory_fix(kind: str, fix: str) -> None:
    assert fix in products.memory_fix(kind, 6)


def test_the_context_fix_names_what_chose_the_engine() -> None:
    assert "unset DOCKER_HOST (it points at unix:///x.sock)" in products.context_fix(
        "default", "DOCKER_HOST", "unix:///x.sock"
    )
    assert "unset DOCKER_CONTEXT (it selects context 'colima')" in products.context_fix("colima", "DOCKER_CONTEXT", "")
    assert "switch from context 'colima' to a running engine: `docker context ls`" in products.context_fix(
        "colima", products.FROM_CURRENT_CONTEXT, ""
    )
