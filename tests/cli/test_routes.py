"""`devctl routes` through the CLI: tables, `check`, JSON shapes, lint and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import run_cli
from tests.routing.test_rules import (
    REFERENCE_ORDER,
    ingress,
    path,
    reference_backend,
    request_paths,
    tour_ingress,
    write,
)
from tests.stack_facts import TOUR_INGRESS_PATHS


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    return write(tmp_path / "k8s", tour_ingress())


def routes(*args: str) -> tuple[int, str, str]:
    res = run_cli("routes", *args)
    return res.exit_code, res.stdout, res.stderr


def test_table_lists_the_rules_in_evaluation_order(manifests: Path) -> None:
    code, out, _ = routes("--manifests", str(manifests))
    assert code == 0
    assert "tour.xyz" in out and "regex mode" in out
    rows = [r for r in (line.split() for line in out.splitlines()) if len(r) >= 3 and r[0].isdigit()]
    assert [row[0] for row in rows] == [str(n) for n in range(1, 16)]
    assert [(row[1], row[-1]) for row in rows[:-1]] == [(p, f"{s}:3000") for p, s in REFERENCE_ORDER]
    assert rows[-1][1] == "/" and "404 (default)" in " ".join(rows[-1])
    assert "Warnings: 1 (details: devctl routes --lint)" in out


def test_json_lists_hosts_locations_and_warnings(manifests: Path) -> None:
    code, out, _ = routes("--manifests", str(manifests), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"hosts", "warnings"}
    [host] = data["hosts"]  # the catch-all server has nothing of the user's, so it is not listed
    assert host["host"] == "tour.xyz" and host["regex_mode"] is True
    assert host["ingresses"] == ["default/tour-ingress"]
    locations = host["locations"]
    assert [(loc["path"], loc["service"]) for loc in locations[:-1]] == REFERENCE_ORDER
    assert [loc["order"] for loc in locations] == list(range(1, 16))
    assert locations[-1] == {
        "order": 15, "location": '~* "^/"', "path": "/", "path_type": "Prefix", "declared_path": "/",
        "declared_type": None, "service": None, "port": None, "ingress": None, "default_root": True,
        "added_exact_copy": False,
    }
    assert [w["kind"] for w in data["warnings"]] == ["api-fallthrough"]


def test_lint_prints_one_warning_per_problem(manifests: Path) -> None:
    code, out, _ = routes("--manifests", str(manifests), "--lint")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("WARNING: tour.xyz: ")
    assert "/api/v1/unknown" in lines[0] and "client:3000" in lines[0]


def test_lint_says_so_when_there_is_nothing_to_report(tmp_path: Path) -> None:
    write(tmp_path, ingress("i", [path(p, s) for p, s in TOUR_INGRESS_PATHS if p != "/?(.*)"],
                            annotations={"nginx.ingress.kubernetes.io/use-regex": "true"}))
    code, out, _ = routes("--manifests", str(tmp_path), "--lint")
    assert (code, out.strip()) == (0, "No routing problems found.")


@pytest.mark.parametrize(
    ("request_path", "service", "rule"),
    [
        ("/api/v1/tours/42/reviews", "review", "/api/v1/tours/?(.*)/reviews"),
        ("/api/v1/tours/42/bookings", "booking", "/api/v1/tours/?(.*)/bookings"),
        ("/API/V1/AUTH/login", "auth", "/api/v1/auth/?(.*)"),
        ("/api/v1/toursfoo", "tour", "/api/v1/tours/?(.*)"),
        ("/api/v1/unknown", "client", "/?(.*)"),
    ],
)
def test_check_json_names_service_port_and_rule(manifests: Path, request_path: str, service: str, rule: str) -> None:
    code, out, _ = routes("check", request_path, "--host", "tour.xyz", "--manifests", str(manifests), "--json")
    assert code == 0
    assert json.loads(out) == {
        "host": "tour.xyz", "path": request_path, "service": service, "port": 3000, "rule": rule, "redirect": None,
    }


def test_check_on_an_unknown_host_reports_the_404_backend_and_exits_0(manifests: Path) -> None:
    code, out, _ = routes("check", "/api/v1/tours/1", "--host", "example.com", "--manifests", str(manifests),
                          "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["service"], data["port"], data["rule"]) == (None, None, None)


def test_check_text_explains_the_decision(manifests: Path) -> None:
    code, out, _ = routes("--manifests", str(manifests), "check", "/api/v1//x/../tours/42/reviews?x=1",
                          "--host", "tour.xyz")
    assert code == 0
    assert "as NGINX:  /api/v1/tours/42/reviews" in out
    assert '#3 ~* "^/api/v1/tours/?(.*)/reviews" (default/tour-ingress)' in out
    assert "backend:   review:3000" in out


def test_check_reports_the_auto_redirect(tmp_path: Path) -> None:
    write(tmp_path, ingress("docs", [path("/docs/", "docs", "Prefix")]))
    code, out, _ = routes("check", "/docs", "--host", "tour.xyz", "--manifests", str(tmp_path), "--json")
    assert code == 0
    assert json.loads(out)["redirect"] == "/docs/"
    code, out, _ = routes("check", "/docs", "--host", "tour.xyz", "--manifests", str(tmp_path))
    assert "301 redirect to /docs/" in out


def test_check_uses_the_configured_host_by_default(manifests: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVCTL_HOST", "other.example")
    code, out, _ = routes("check", "/api/v1/tours/1", "--manifests", str(manifests), "--json")
    assert code == 0 and json.loads(out)["host"] == "other.example" and json.loads(out)["service"] is None
    monkeypatch.delenv("DEVCTL_HOST")
    code, out, _ = routes("check", "/api/v1/tours/1", "--manifests", str(manifests), "--json")
    assert json.loads(out)["host"] == "tour.xyz" and json.loads(out)["service"] == "tour"


def _one_error_line(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2
    assert out == "" or json.loads(out)["ok"] is False  # with --json: one JSON object, also on failure
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


def test_missing_manifests_directory_exits_2(tmp_path: Path) -> None:
    _one_error_line(*routes("--manifests", str(tmp_path / "nope")), "does not exist")
    _one_error_line(*routes("check", "/", "--manifests", str(tmp_path / "nope")), "does not exist")


def test_malformed_yaml_exits_2_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "ingress.yaml").write_text("apiVersion: networking.k8s.io/v1\nkind: Ingress\nspec: [\n")
    _one_error_line(*routes("--manifests", str(tmp_path), "--json"), "ingress.yaml", "line ")


def test_unreadable_manifest_exits_2(tmp_path: Path) -> None:
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "missing-target")
    _one_error_line(*routes("--manifests", str(tmp_path)), "gone.yaml")


def test_a_path_nginx_rejects_exits_2(manifests: Path) -> None:
    _one_error_line(*routes("check", "/../etc/passwd", "--manifests", str(manifests)), "400 Bad Request")


def test_default_manifests_come_from_the_repo_config(repo_cwd: Path) -> None:
    from devctl.routing.rules import load_ingresses

    k8s = repo_cwd / "k8s"
    if not k8s.is_dir() or not any(i.name == "tour-ingress" for i in load_ingresses(k8s)):
        pytest.skip("the repo's k8s/ has no tour-ingress yet (k8s/ingress.yaml is written by another engineer)")
    code, out, _ = routes("--json")
    assert code == 0
    [host] = [h for h in json.loads(out)["hosts"] if h["host"] == "tour.xyz"]
    assert [loc["path"] for loc in host["locations"] if not loc["default_root"]] == [p for p, _ in REFERENCE_ORDER]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=request_paths)
def test_check_agrees_with_an_independent_walk_of_the_sorted_list(manifests: Path, request: str) -> None:
    expected = reference_backend(request)
    code, out, _ = routes("check", request, "--host", "tour.xyz", "--manifests", str(manifests), "--json")
    if isinstance(expected, Exception):
        assert code == 2
    else:
        assert code == 0 and json.loads(out)["service"] == expected
