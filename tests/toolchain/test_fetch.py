"""DEVCTL_TOOLS_MIRROR: the mirror's scheme and host (and path prefix) in place of upstream's, the path kept.

Downloads themselves, against a real server, are in tests/test_toolchain_install.py."""

from __future__ import annotations

import pytest

from devctl.toolchain.fetch import check_mirror, with_mirror

KIND = "https://github.com/kubernetes-sigs/kind/releases/download/v0.31.0/kind-linux-amd64"


@pytest.mark.parametrize(
    ("mirror", "url"),
    [
        ("", KIND),
        (
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/kubernetes-sigs/kind/releases/download/v0.31.0/kind-linux-amd64",
        ),
        (
            "https://artifacts.example.com/github",
            "https://artifacts.example.com/github/kubernetes-sigs/kind/releases/download/v0.31.0/kind-linux-amd64",
        ),
        ("https://m.example/", "https://m.example/kubernetes-sigs/kind/releases/download/v0.31.0/kind-linux-amd64"),
    ],
)
def test_the_mirror_replaces_scheme_and_host_and_keeps_the_path(mirror: str, url: str) -> None:
    assert with_mirror(KIND, mirror) == url


@pytest.mark.parametrize("value", ["mirror.example", "ftp://mirror.example", "https://", "https://m.example/?x=1"])
def test_a_mirror_must_be_an_http_base_url(value: str) -> None:
    with pytest.raises(ValueError, match="must be an http"):
        check_mirror(value)


def test_a_trailing_slash_is_dropped() -> None:
    assert check_mirror("https://m.example/gh/") == "https://m.example/gh"
