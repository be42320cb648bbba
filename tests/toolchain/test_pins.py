"""The tool settings of the configuration: [tool.devctl.tools] pins and DEVCTL_TOOLS_MIRROR."""

from __future__ import annotations

from pathlib import Path

import pytest

from devctl import config
from devctl.errors import ConfigError
from devctl.toolchain.catalog import Pins
from tests.conftest import run_cli


def load(tmp_path: Path, tools: str, env: dict[str, str] | None = None) -> config.Config:
    (tmp_path / "pyproject.toml").write_text(f"[tool.devctl]\ncluster = 'tour'\n\n[tool.devctl.tools]\n{tools}\n")
    return config.load({}, env=env or {}, cwd=tmp_path)


def test_the_pins_are_read_and_spelled_as_upstream_tags(tmp_path: Path) -> None:
    cfg = load(tmp_path, 'kind = "0.31.0"\nkubectl = "v1.35.0"')
    assert cfg.tools == Pins(kind="v0.31.0", kubectl="v1.35.0")


def test_without_a_tools_table_nothing_is_pinned(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.devctl]\ncluster = 'tour'\n")
    assert config.load({}, env={}, cwd=tmp_path).tools.pinned() == {}


def test_this_repo_pins_all_three(repo_cwd: Path) -> None:
    assert set(config.load({}, env={}).tools.pinned()) == {"kind", "kubectl", "skaffold"}


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ('helm = "v3.17.0"', "unknown tool 'helm' in [tool.devctl.tools] in pyproject.toml"),
        (
            'kind = "latest"',
            "invalid tools.kind 'latest' (from [tool.devctl.tools] in pyproject.toml): must be a release",
        ),
        (
            'kind = "v0.20.0"',
            "invalid tools.kind 'v0.20.0' (from [tool.devctl.tools] in pyproject.toml): is older than",
        ),
        (
            'kubectl = "v1.33.0"',
            "invalid tools.kubectl v1.33.0 (from [tool.devctl.tools] in pyproject.toml): more than one minor version "
            "from the node image's Kubernetes v1.35",
        ),
    ],
)
def test_a_bad_pin_is_a_config_error_naming_it(tmp_path: Path, tools: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, tools)
    assert caught.value.message.startswith(message)
    assert caught.value.exit_code == 2


def test_kubectl_one_minor_either_side_of_the_node_image_is_fine(tmp_path: Path) -> None:
    assert load(tmp_path, 'kubectl = "v1.34.2"').tools.kubectl == "v1.34.2"
    assert load(tmp_path, 'kubectl = "v1.36.0"').tools.kubectl == "v1.36.0"


def test_the_mirror_comes_from_the_environment_and_must_be_a_base_url(tmp_path: Path) -> None:
    assert load(tmp_path, "", {"DEVCTL_TOOLS_MIRROR": "https://m.example/gh/"}).tools_mirror == "https://m.example/gh"
    with pytest.raises(ConfigError, match=r"invalid tools_mirror 'ftp://m' \(from DEVCTL_TOOLS_MIRROR\)"):
        load(tmp_path, "", {"DEVCTL_TOOLS_MIRROR": "ftp://m"})


def test_a_bad_mirror_is_one_line_and_exit_2(repo_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVCTL_TOOLS_MIRROR", "mirror.example")
    res = run_cli("tools", "list")
    assert res.exit_code == 2
    assert res.stderr.startswith("ERROR: invalid tools_mirror 'mirror.example' (from DEVCTL_TOOLS_MIRROR)")


# skaffold.md §1: the first Skaffold release that reads each config apiVersion.
SKAFFOLD_READS = {"skaffold/v4beta14": (2, 19, 0), "skaffold/v4beta13": (2, 15, 0), "skaffold/v4beta3": (2, 2, 0)}


def test_the_pinned_skaffold_reads_the_apiversion_of_skaffold_yaml(repo_cwd: Path) -> None:
    import yaml

    from devctl.toolchain.catalog import parse_version

    pinned = parse_version(config.load({}, env={}).tools.skaffold)
    assert pinned is not None
    for doc in yaml.safe_load_all((repo_cwd / "skaffold.yaml").read_text()):
        if doc:
            assert doc["apiVersion"] in SKAFFOLD_READS, "add the first Skaffold release that reads it (skaffold.md §1)"
            assert pinned >= SKAFFOLD_READS[doc["apiVersion"]]
