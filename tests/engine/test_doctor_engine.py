"""`devctl doctor` for each engine: the lines and the --json fields, against the fake docker playing the
recorded engines of tests/engine/shapes.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devctl import resources
from devctl.devloop.api import free_port
from tests.conftest import REPO, FakeWorld, run_cli
from tests.engine import shapes


@pytest.fixture
def doctor_env(fake_tools: FakeWorld, monkeypatch: pytest.MonkeyPatch, repo_cwd: Path, tmp_path: Path) -> FakeWorld:
    for knob in ("DEVCTL_HTTP_PORT", "DEVCTL_HTTPS_PORT", "DEVCTL_REGISTRY_PORT"):
        monkeypatch.setenv(knob, str(free_port()))
    routes = tmp_path / "route"  # a machine with only its LAN and default route (no VPN)
    routes.write_text(
        ROUTE_HEADER + "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        "eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
    )
    monkeypatch.setattr("devctl.doctor.PROC_NET_ROUTE", routes)
    return fake_tools


ROUTE_HEADER = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"


def doctor() -> tuple[int, dict[str, dict[str, Any]], dict[str, Any]]:
    res = run_cli("doctor", "--json")
    data = json.loads(res.stdout)
    return res.exit_code, {c["name"]: c for c in data["checks"]}, data


def needed() -> resources.StackResources:
    return resources.of_manifests(REPO / "k8s")


def test_colima_with_its_default_2_gib_fails_on_memory_with_colimas_fix(doctor_env: FakeWorld) -> None:
    doctor_env.play_engine(shapes.COLIMA, "colima", {"colima": "unix:///Users/dev/.colima/default/docker.sock"})
    code, checks, data = doctor()
    assert code == 1
    assert checks["docker engine"]["status"] == "ok"
    assert checks["docker engine"]["detail"] == (
        "Colima (context colima, unix:///Users/dev/.colima/default/docker.sock), server 24.0.9"
    )
    memory = checks["engine memory"]
    assert memory["status"] == "fail" and memory["required"] is True
    stack = needed()
    assert memory["detail"] == (
        f"1.9 GiB in Colima's VM (docker info MemTotal); the stack requests {resources.gib(stack.memory_needed)} and "
        f"may use {resources.gib(stack.memory_wanted)} (the requests and limits of the manifests under k8s/, plus "
        "about 1 GiB for the kind node and ingress-nginx (README, Memory budget))"
    )
    assert memory["hint"] == "restart Colima with more memory: `colima stop && colima start --memory 6`"
    assert data["engine"] == {
        "kind": "colima",
        "name": "Colima",
        "context": "colima",
        "context_source": "current context",
        "host": "unix:///Users/dev/.colima/default/docker.sock",
        "running": True,
        "server_version": "24.0.9",
        "operating_system": "Ubuntu 24.04 LTS",
        "memory_bytes": shapes.COLIMA["MemTotal"],
        "cpus": 2,
        "rootless": False,
        "supported": True,
    }


def test_docker_desktop_below_the_limits_warns_with_its_settings(doctor_env: FakeWorld) -> None:
    doctor_env.play_engine(
        shapes.DOCKER_DESKTOP, "desktop-linux", {"desktop-linux": "unix:///Users/dev/.docker/run/docker.sock"}
    )
    code, checks, _ = doctor()
    memory = checks["engine memory"]
    assert memory["status"] == "warn" and "4.0 GiB in Docker Desktop's VM" in memory["detail"]
    assert "Settings > Resources > Advanced > Memory limit" in memory["hint"]
    assert checks["engine CPUs"]["status"] == "ok"
    assert code == 0  # a warning does not fail doctor


def test_orbstack_with_room_is_green(doctor_env: FakeWorld) -> None:
    doctor_env.play_engine(shapes.ORBSTACK, "orbstack", {"orbstack": "unix:///Users/dev/.orbstack/run/docker.sock"})
    code, checks, data = doctor()
    assert checks["engine memory"]["status"] == "ok"
    assert checks["docker context"]["detail"] == (
        "orbstack -> unix:///Users/dev/.orbstack/run/docker.sock (the docker CLI's current context)"
    )
    assert data["engine"]["name"] == "OrbStack" and code == 0


def test_podman_is_refused_in_one_line(doctor_env: FakeWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", shapes.PODMAN_HOST)
    doctor_env.play_engine(shapes.PODMAN)
    code, checks, data = doctor()
    engine = checks["docker engine"]
    assert code == 1 and engine["status"] == "fail"
    assert (
        "Podman is not supported by devctl: kind needs KIND_EXPERIMENTAL_PROVIDER=podman and a rootful machine"
        in (engine["detail"])
    )
    assert "\n" not in engine["detail"]
    assert data["engine"]["supported"] is False
    assert checks["docker context"]["detail"] == f"default -> {shapes.PODMAN_HOST} (DOCKER_HOST is set)"


def test_a_rootless_engine_with_ports_below_1024_fails_with_the_settings_to_use(
    doctor_env: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVCTL_HTTP_PORT", "80")
    monkeypatch.setenv("DEVCTL_HTTPS_PORT", "443")
    doctor_env.play_engine(shapes.ROOTLESS_ENGINE, "rootless", {"rootless": "unix:///run/user/1000/docker.sock"})
    code, checks, data = doctor()
    rootless = checks["rootless engine"]
    assert code == 1 and rootless["status"] == "fail"
    assert rootless["detail"] == (
        "the Docker engine is rootless and cannot publish http_port 80, https_port 443 (ports below 1024 need root)"
    )
    assert rootless["hint"].startswith("set DEVCTL_HTTP_PORT=8080 and DEVCTL_HTTPS_PORT=8443")
    assert data["engine"]["rootless"] is True


def test_a_stopped_colima_is_named_with_colimas_start(doctor_env: FakeWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    sock = "unix:///Users/dev/.colima/default/docker.sock"
    doctor_env.play_engine(shapes.COLIMA, "colima", {"colima": sock})
    doctor_env.docker_down()
    monkeypatch.setenv("DOCKER_HOST", sock)  # the fake names DOCKER_HOST's address in its text, as docker does
    code, checks, data = doctor()
    daemon = checks["docker daemon"]
    assert code == 1 and daemon["status"] == "fail"
    assert daemon["hint"].startswith("start Colima: `colima start --memory 6` and run the command again")
    assert f"unset DOCKER_HOST (it points at {sock})" in daemon["hint"]
    assert checks["docker engine"]["detail"].startswith(f"Colima (context default, {sock}) does not answer")
    assert data["engine"]["running"] is False and data["engine"]["memory_bytes"] is None
    assert checks["engine memory"]["status"] == "info"


def test_a_context_that_does_not_exist_is_named(doctor_env: FakeWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONTEXT", "gone")
    code, checks, _ = doctor()
    assert code == 1
    assert checks["docker context"]["status"] == "fail"
    assert checks["docker context"]["detail"].startswith(
        "the docker CLI is set to context 'gone', which does not exist"
    )
    assert "docker context ls" in checks["docker context"]["hint"]


def test_the_proxy_in_use_and_the_no_proxy_devctl_gives(doctor_env: FakeWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "corp.example,localhost")
    doctor_env.play_engine({**shapes.DOCKER_ENGINE_DEBIAN, "HttpsProxy": "http://proxy.corp:3128"})
    _, checks, data = doctor()
    no_proxy = "corp.example,localhost,127.0.0.1,kind-registry,.svc,.cluster.local,10.244.0.0/16,10.96.0.0/16"
    assert checks["proxy"]["detail"] == (
        f"HTTPS_PROXY=http://proxy.corp:3128; kind's nodes and Skaffold's builds get NO_PROXY={no_proxy} "
        "(devctl added 127.0.0.1, kind-registry, .svc, .cluster.local, 10.244.0.0/16, 10.96.0.0/16)"
    )
    assert "engine proxy" not in checks  # the engine has one
    assert checks["company CA"]["detail"] == "none (DEVCTL_EXTRA_CA is not set)"
    assert data["proxy"] == {
        "active": True,
        "http_proxy": None,
        "https_proxy": "http://proxy.corp:3128",
        "no_proxy": no_proxy.split(","),
        "added_to_no_proxy": ["127.0.0.1", "kind-registry", ".svc", ".cluster.local", "10.244.0.0/16", "10.96.0.0/16"],
        "extra_ca": None,
    }


def test_behind_a_proxy_an_engine_without_one_is_a_warning(
    doctor_env: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp:3128")
    _, checks, _ = doctor()
    assert checks["engine proxy"]["status"] == "warn"
    assert "Settings > Resources > Proxies" in checks["engine proxy"]["hint"]


def test_without_a_proxy_nothing_is_added(doctor_env: FakeWorld) -> None:
    _, checks, data = doctor()
    assert checks["proxy"]["status"] == "ok"
    assert data["proxy"]["active"] is False and data["proxy"]["no_proxy"] is None


def test_a_company_ca_is_shown_mounted(doctor_env: FakeWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ca = tmp_path / "corp-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv("DEVCTL_EXTRA_CA", str(ca))
    _, checks, data = doctor()
    assert checks["company CA"]["detail"].startswith(
        f"{ca} is mounted into the kind node at /etc/ssl/certs/devctl-extra-ca.pem"
    )
    assert data["proxy"]["extra_ca"] == str(ca)


def test_a_vpn_route_over_the_kind_network_warns_with_another_subnet(
    doctor_env: FakeWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    doctor_env._mutate(
        lambda d: (
            d["docker"]["networks"].append("kind"),
            d["docker"].setdefault("subnets", {}).update({"kind": "172.18.0.0/16"}),
        )
    )
    routes = tmp_path / "vpn-route"
    # tun0 routes 172.18.5.0/24 (0x0005_12AC little-endian) through the VPN
    routes.write_text(
        ROUTE_HEADER + "tun0\t000512AC\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
        "br-0123456789ab\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
    )
    monkeypatch.setattr("devctl.doctor.PROC_NET_ROUTE", routes)
    _, checks, data = doctor()
    network = checks["network"]
    assert network["status"] == "warn"
    assert network["detail"] == (
        "the `kind` network (172.18.0.0/16): route(s) 172.18.5.0/24 via tun0 overlap, so the node's traffic to "
        "those addresses may leave through a VPN"
    )
    assert network["hint"] == (
        "`devctl down`, `docker network rm kind`, then `docker network create kind --subnet 10.253.0.0/24` and "
        "`devctl up` (kind uses the network it finds)"
    )
    assert data["network"] == {
        "checked": True,
        "kind_network": ["172.18.0.0/16"],
        "overlapping_routes": [{"route": "172.18.5.0/24", "interface": "tun0", "subnet": "172.18.0.0/16"}],
    }


def test_no_kind_network_yet_checks_dockers_default_pools(doctor_env: FakeWorld) -> None:
    _, checks, data = doctor()
    assert checks["network"]["status"] == "ok"
    assert checks["network"]["detail"].startswith("the `kind` network does not exist yet; Docker's default pools")
    assert data["network"]["kind_network"] is None


def test_status_names_the_engine_and_its_context(doctor_env: FakeWorld) -> None:
    doctor_env.play_engine(shapes.COLIMA, "colima", {"colima": "unix:///Users/dev/.colima/default/docker.sock"})
    res = run_cli("status", "--json")
    assert json.loads(res.stdout)["engine"] == {"name": "Colima", "context": "colima"}
    doctor_env.docker_down()
    assert json.loads(run_cli("status", "--json").stdout)["engine"] is None
