"""devctl.config: defaults < [tool.devctl] < DEVCTL_* < flags, each value validated once."""

from __future__ import annotations

from pathlib import Path

import pytest

from devctl import config
from devctl.errors import ConfigError
from tests.conftest import run_cli


def write_pyproject(d: Path, table: str) -> Path:
    (d / "pyproject.toml").write_text(f"[project]\nname='x'\n\n[tool.devctl]\n{table}\n")
    return d


def test_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    cfg = config.load({}, env={}, cwd=tmp_path)
    assert (cfg.cluster, cfg.host, cfg.host_ip, cfg.http_port, cfg.https_port) == (
        "tour", "tour.xyz", "127.0.0.1", 80, 443)
    assert cfg.context == "kind-tour"
    assert cfg.node_image.startswith("kindest/node:v1.35.") and "@sha256:" in cfg.node_image


def test_pyproject_overrides_defaults_and_env_overrides_pyproject_and_flags_override_env(tmp_path: Path) -> None:
    write_pyproject(tmp_path, 'cluster = "fromfile"\nhttp_port = 8080\nhost = "file.test"')
    cfg = config.load({}, env={}, cwd=tmp_path)
    assert (cfg.cluster, cfg.http_port, cfg.host) == ("fromfile", 8080, "file.test")
    cfg = config.load({}, env={"DEVCTL_CLUSTER": "fromenv", "DEVCTL_HTTP_PORT": "9090"}, cwd=tmp_path)
    assert (cfg.cluster, cfg.http_port, cfg.host) == ("fromenv", 9090, "file.test")
    cfg = config.load({"cluster": "fromflag"}, env={"DEVCTL_CLUSTER": "fromenv"}, cwd=tmp_path)
    assert cfg.cluster == "fromflag"
    assert cfg.repo_root == tmp_path.resolve()


def test_repo_root_is_found_from_a_subdirectory(tmp_path: Path) -> None:
    write_pyproject(tmp_path, 'cluster = "deep"')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert config.load({}, env={}, cwd=sub).cluster == "deep"


def test_a_flag_given_as_none_means_not_given(tmp_path: Path) -> None:
    assert config.load({"cluster": None}, env={"DEVCTL_CLUSTER": "envwins"}, cwd=tmp_path).cluster == "envwins"


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("cluster", "Tour"),
        ("cluster", "tour_1"),
        ("cluster", "-tour"),
        ("cluster", "a" * 51),
        ("host", "not a host"),
        ("host", "-bad.xyz"),
        ("host", "a..b"),
        ("host", "1.2.3.4"),
        ("host_ip", "localhost"),
        ("host_ip", "300.1.1.1"),
        ("http_port", "0"),
        ("http_port", "65536"),
        ("https_port", "abc"),
        ("registry_port", "-1"),
        ("node_image", "has space"),
        ("registry_image", ""),
        ("ingress_version", "latest"),
        ("ingress_timeout", "0"),
        ("ingress_timeout", "soon"),
        ("cleanup_timeout", "-5"),
        ("skaffold_profile", "bad profile"),
        ("registry_name", "/x"),
        ("ingress_manifest", "a\nb"),
    ],
)
def test_each_bad_value_is_rejected_with_one_line_naming_field_value_and_source(
    tmp_path: Path, field: str, bad: str
) -> None:
    env = {config.env_name(field): bad}
    if bad == "":
        # An empty environment variable means "unset"; an empty value in pyproject is an error.
        write_pyproject(tmp_path, f'{field} = ""')
        env = {}
    with pytest.raises(ConfigError) as exc:
        config.load({}, env=env, cwd=tmp_path)
    msg = str(exc.value)
    assert "\n" not in msg
    assert field in msg
    assert exc.value.exit_code == 2


def test_unknown_pyproject_key_is_an_error(tmp_path: Path) -> None:
    write_pyproject(tmp_path, 'clustr = "x"')
    with pytest.raises(ConfigError, match="unknown key 'clustr'"):
        config.load({}, env={}, cwd=tmp_path)


def test_malformed_pyproject_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.devctl]\ncluster = \n")
    with pytest.raises(ConfigError, match="cannot parse"):
        config.load({}, env={}, cwd=tmp_path)


def test_two_settings_on_one_port_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="same port"):
        config.load({}, env={"DEVCTL_HTTPS_PORT": "80"}, cwd=tmp_path)


def test_values_are_normalised(tmp_path: Path) -> None:
    cfg = config.load({}, env={"DEVCTL_HOST": "Tour.XYZ.", "DEVCTL_HOST_IP": "::0001",
                               "DEVCTL_INGRESS_VERSION": "v1.15.1"}, cwd=tmp_path)
    assert (cfg.host, cfg.host_ip, cfg.ingress_version) == ("tour.xyz", "::1", "1.15.1")


def test_cli_reports_a_bad_env_value_in_one_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, fake_tools: object
) -> None:
    monkeypatch.setenv("DEVCTL_HTTP_PORT", "99999")
    res = run_cli("doctor")
    assert res.exit_code == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("ERROR: invalid http_port '99999' (from DEVCTL_HTTP_PORT)")
    assert "Traceback" not in res.output


def test_cli_rejects_a_bad_cluster_flag(fake_tools: object) -> None:
    res = run_cli("--cluster", "Bad_Name", "doctor")
    assert res.exit_code == 2
    assert "invalid cluster 'Bad_Name' (from --cluster)" in res.stderr


# --- extra_ca --------------------------------------------------------------------------------------------


def test_extra_ca_must_be_an_absolute_readable_pem(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    assert config.load(env={"DEVCTL_EXTRA_CA": str(ca)}, cwd=tmp_path).extra_ca == ca
    assert config.load(env={}, cwd=tmp_path).extra_ca is None
    for value, why in (
        ("ca.pem", "must be an absolute path"),
        (str(tmp_path / "missing.pem"), "cannot be read"),
        (str(tmp_path), "cannot be read"),
    ):
        with pytest.raises(ConfigError, match=why) as err:
            config.load(env={"DEVCTL_EXTRA_CA": value}, cwd=tmp_path)
        assert err.value.exit_code == 2 and "DEVCTL_EXTRA_CA" in str(err.value)
    (tmp_path / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="is not a PEM certificate"):
        config.load(env={"DEVCTL_EXTRA_CA": str(tmp_path / "key.pem")}, cwd=tmp_path)
