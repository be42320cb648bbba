"""This machine's platform, and where the store lives on each OS (pure functions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devctl.toolchain.platforms import UnsupportedPlatform, current_platform, store_root

HOME = Path("/home/ada")


@pytest.mark.parametrize(
    ("system", "machine", "platform"),
    [
        ("Linux", "x86_64", "linux-amd64"),
        ("Linux", "aarch64", "linux-arm64"),
        ("Darwin", "x86_64", "darwin-amd64"),
        ("Darwin", "arm64", "darwin-arm64"),
    ],
)
def test_the_platform_in_the_upstream_spelling(system: str, machine: str, platform: str) -> None:
    assert current_platform(system, machine) == platform


def test_native_windows_is_told_to_use_wsl2() -> None:
    with pytest.raises(UnsupportedPlatform) as caught:
        current_platform("Windows", "AMD64")
    assert "this machine is windows amd64" in caught.value.message
    assert caught.value.hint == "run devctl inside WSL2, where it is Linux"


def test_another_architecture_is_refused_with_the_way_out() -> None:
    with pytest.raises(UnsupportedPlatform, match="this machine is linux riscv64"):
        current_platform("Linux", "riscv64")


@pytest.mark.parametrize(
    ("system", "env", "root"),
    [
        ("Linux", {}, HOME / ".local/share/devctl/tools"),
        ("Linux", {"XDG_DATA_HOME": "/data/ada"}, Path("/data/ada/devctl/tools")),
        ("Linux", {"XDG_DATA_HOME": "relative/dir"}, HOME / ".local/share/devctl/tools"),  # the spec: ignored
        ("Linux", {"XDG_DATA_HOME": ""}, HOME / ".local/share/devctl/tools"),
        ("Darwin", {}, HOME / "Library/Application Support/devctl/tools"),
        ("Darwin", {"XDG_DATA_HOME": "/data/ada"}, Path("/data/ada/devctl/tools")),
    ],
)
def test_the_store_is_under_the_users_data_directory(system: str, env: dict[str, str], root: Path) -> None:
    assert store_root(system, env, HOME) == root
