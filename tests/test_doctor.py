"""`devctl doctor`: every check with a fix hint; exit 1 when a required check fails."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from devctl.devloop.api import free_port
from tests.conftest import FakeWorld, run_cli


@pytest.fixture
def free_ports(monkeypatch: pytest.MonkeyPatch) -> tuple[int, int, int]:
    ports = (free_port(), free_port(), free_port())
    monkeypatch.setenv("DEVCTL_HTTP_PORT", str(ports[0]))
    monkeypatch.setenv("DEVCTL_HTTPS_PORT", str(ports[1]))
    monkeypatch.setenv("DEVCTL_REGISTRY_PORT", str(ports[2]))
    return ports


def checks_by_name(stdout: str) -> dict[str, dict[str, object]]:
    data = json.loads(stdout)
    return {c["name"]: c for c in data["checks"]}


def test_all_green_with_every_tool_present(fake_tools: FakeWorld, free_ports: tuple[int, int, int],
                                           repo_cwd: Path) -> None:
    res = run_cli("doctor", "--json")
    checks = checks_by_name(res.stdout)
    assert res.exit_code == 0, res.stdout
    for tool in ("docker", "docker daemon", "kind", "kubectl", "skaffold"):
        assert checks[tool]["status"] == "ok"
    kind = checks["kind"]
    assert (kind["version"], kind["source"], kind["path"]) == ("0.31.0", "PATH", str(fake_tools.bin_dir / "kind"))
    assert kind["detail"] == f"0.31.0 from PATH: {fake_tools.bin_dir / 'kind'}"
    assert checks["ingress-nginx"]["status"] == "info" and "retired" in str(checks["ingress-nginx"]["detail"])


def test_docker_daemon_down_is_named_and_fails(fake_tools: FakeWorld, free_ports: tuple[int, int, int]) -> None:
    fake_tools.docker_down()
    res = run_cli("doctor", "--json")
    assert res.exit_code == 1
    daemon = checks_by_name(res.stdout)["docker daemon"]
    assert daemon["status"] == "fail"
    assert "Cannot connect to the Docker daemon" in str(daemon["detail"])
    assert "start Docker" in str(daemon["hint"])


def test_no_permission_on_the_socket_is_named_with_its_own_fix(
    fake_tools: FakeWorld, free_ports: tuple[int, int, int]
) -> None:
    fake_tools.docker_denied()
    res = run_cli("doctor", "--json")
    assert res.exit_code == 1
    daemon = checks_by_name(res.stdout)["docker daemon"]
    assert daemon["status"] == "fail"
    assert "may not use the Docker daemon" in str(daemon["detail"]) and "permission denied" in str(daemon["detail"])
    assert "start Docker" not in str(daemon["hint"])
    assert checks_by_name(res.stdout)["docker"]["status"] == "ok"  # the client itself is fine


def test_missing_tools_are_each_named_with_an_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free_ports: tuple[int, int, int], repo_cwd: Path
) -> None:
    # A machine like this one: a docker CLI whose daemon is absent, no kind, no skaffold.
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    res = run_cli("doctor", "--json")
    assert res.exit_code == 1
    checks = checks_by_name(res.stdout)
    assert (checks["docker"]["status"], checks["docker"]["detail"]) == ("fail", "not found on PATH")
    assert checks["docker"]["hint"]
    for tool in ("kind", "kubectl", "skaffold"):
        assert checks[tool]["status"] == "fail"
        assert checks[tool]["detail"] == f"{tool} is not installed (not in devctl's tool store, not on PATH)"
        assert checks[tool]["hint"].startswith("run `devctl tools install`")
    assert checks["docker daemon"]["status"] == "fail"
    assert "Traceback" not in res.output


def test_table_output_has_no_traceback_and_says_how_many_failed(
    fake_tools: FakeWorld, free_ports: tuple[int, int, int]
) -> None:
    fake_tools.docker_down()
    res = run_cli("doctor")
    assert res.exit_code == 1
    assert "required check(s) failed" in res.stderr.strip().splitlines()[-1]


def test_a_busy_port_names_the_port_the_holder_and_the_knob(
    fake_tools: FakeWorld, free_ports: tuple[int, int, int]
) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", free_ports[0]))
    holder.listen()
    try:
        res = run_cli("doctor", "--json")
    finally:
        holder.close()
    check = checks_by_name(res.stdout)[f"HTTP port {free_ports[0]}"]
    assert res.exit_code == 1
    assert check["status"] == "fail"
    assert f"(pid {os.getpid()})" in str(check["detail"])  # this very test process holds it; /proc names it
    assert "DEVCTL_HTTP_PORT" in str(check["hint"])


def test_doctor_asks_kubectl_only_its_version_and_no_cluster(
    fake_tools: FakeWorld, free_ports: tuple[int, int, int]
) -> None:
    fake_tools.add_foreign_context("prod", current=True)
    run_cli("doctor", "--json")
    assert fake_tools.argvs("kubectl") == [["version", "--client"]]  # the PATH kubectl's version, once
    assert fake_tools.objects("prod") == {}


def test_the_configured_host_is_served_by_the_ingress(
    fake_tools: FakeWorld, free_ports: tuple[int, int, int], repo_cwd: Path
) -> None:
    check = checks_by_name(run_cli("doctor", "--json").stdout)["host routed"]
    assert check["status"] == "ok" and check["required"] is True
    assert check["detail"] == "tour.xyz is served by the Ingress rules"


def test_a_host_no_ingress_serves_fails_and_names_the_hosts_that_are_served(
    fake_tools: FakeWorld, free_ports: tuple[int, int, int], repo_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `up` would succeed and every request to http://other.test/ would get ingress-nginx's 404.
    monkeypatch.setenv("DEVCTL_HOST", "other.test")
    res = run_cli("doctor", "--json")
    check = checks_by_name(res.stdout)["host routed"]
    assert res.exit_code == 1
    assert check["status"] == "fail"
    assert check["detail"] == (
        "no Ingress under k8s/ serves other.test (they serve tour.xyz): every request would get ingress-nginx's 404"
    )
    assert "DEVCTL_HOST" in str(check["hint"])


def test_a_wildcard_or_host_less_rule_serves_the_host(
    fake_tools: FakeWorld, free_ports: tuple[int, int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.devctl]\nhost = 'api.tour.test'\n")
    k8s = tmp_path / "k8s"
    k8s.mkdir()
    (k8s / "ingress.yaml").write_text(_INGRESS.format(host="host: '*.tour.test'"))
    monkeypatch.chdir(tmp_path)
    check = checks_by_name(run_cli("doctor", "--json").stdout)["host routed"]
    assert (check["status"], check["detail"]) == ("ok", "api.tour.test is served by the rules for *.tour.test")
    (k8s / "ingress.yaml").write_text(_INGRESS.format(host=""))
    check = checks_by_name(run_cli("doctor", "--json").stdout)["host routed"]
    assert (check["status"], check["detail"]) == ("ok", "api.tour.test is served by the rules without a host")


def test_the_table_shows_brackets_in_hints_as_they_are(
    fake_tools: FakeWorld, free_ports: tuple[int, int, int], repo_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVCTL_HOST", "other.test")
    monkeypatch.setenv("COLUMNS", "400")
    res = run_cli("doctor")
    assert "[tool.devctl] host or DEVCTL_HOST" in res.stdout  # rich would take `[tool.devctl]` for markup


_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  ingressClassName: nginx
  rules:
    - {host}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
"""
