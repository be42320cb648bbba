"""The upstream download layouts, the published checksum files' formats, and the pins' validation."""

from __future__ import annotations

import pytest

from devctl.toolchain.catalog import PLATFORMS, TOOLS, Pins, check_pin, parse_checksum_file, parse_version

DIGEST = "eb" * 32


@pytest.mark.parametrize(
    ("tool", "platform", "url"),
    [
        # kubernetes-sigs/kind hack/release/build/cross.sh: kind-${GOOS}-${GOARCH} on the GitHub release.
        ("kind", "linux-amd64", "https://github.com/kubernetes-sigs/kind/releases/download/v0.31.0/kind-linux-amd64"),
        ("kind", "darwin-arm64", "https://github.com/kubernetes-sigs/kind/releases/download/v0.31.0/kind-darwin-arm64"),
        # kubernetes/website install-kubectl-linux.md / -macos.md.
        ("kubectl", "linux-arm64", "https://dl.k8s.io/release/v1.35.0/bin/linux/arm64/kubectl"),
        ("kubectl", "darwin-amd64", "https://dl.k8s.io/release/v1.35.0/bin/darwin/amd64/kubectl"),
        # GoogleContainerTools/skaffold Makefile: skaffold-<platform> for its SUPPORTED_PLATFORMS.
        (
            "skaffold",
            "linux-amd64",
            "https://github.com/GoogleContainerTools/skaffold/releases/download/v2.24.0/skaffold-linux-amd64",
        ),
    ],
)
def test_each_tool_is_downloaded_from_its_upstream_layout(tool: str, platform: str, url: str) -> None:
    version = {"kind": "v0.31.0", "kubectl": "v1.35.0", "skaffold": "v2.24.0"}[tool]
    assert TOOLS[tool].url(version, platform) == url


def test_the_checksum_file_sits_next_to_the_binary_with_the_upstream_suffix() -> None:
    assert {t: s.checksum_url("U") for t, s in TOOLS.items()} == {
        "kind": "U.sha256sum",
        "kubectl": "U.sha256",
        "skaffold": "U.sha256",
    }


def test_devctl_installs_for_linux_and_darwin_on_amd64_and_arm64() -> None:
    assert set(PLATFORMS) == {"linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64"}


@pytest.mark.parametrize(
    "text",
    [
        DIGEST,  # kubectl.sha256: the bare digest, no newline
        DIGEST + "\n",
        f"{DIGEST}  kind-linux-amd64\n",  # shasum -a 256 output
        f"{DIGEST} *kind-linux-amd64\n",  # binary mode marker
        f"{DIGEST.upper()}  kind-linux-amd64",
    ],
)
def test_a_published_checksum_file_gives_its_digest(text: str) -> None:
    assert parse_checksum_file(text, "kind-linux-amd64") == DIGEST


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "expected one line, found 0"),
        (f"{DIGEST}  kind-linux-amd64\n{DIGEST}  kind-linux-arm64\n", "expected one line, found 2"),
        ("<html>Not Found</html>", "is not a SHA-256 digest"),
        (DIGEST[:-1], "is not a SHA-256 digest"),
        (f"{DIGEST}  kind-darwin-amd64", "names 'kind-darwin-amd64', not kind-linux-amd64"),
    ],
)
def test_anything_else_is_not_a_checksum_file(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_checksum_file(text, "kind-linux-amd64")


@pytest.mark.parametrize(
    ("said", "version"),
    [
        ("kind v0.31.0 go1.25.5 linux/amd64\n", (0, 31, 0)),  # kind.md §1
        ("Client Version: v1.35.0\nKustomize Version: v5.7.1\n", (1, 35, 0)),
        ("v2.24.0\n", (2, 24, 0)),  # skaffold.md §1
        ("no version here", None),
    ],
)
def test_the_version_a_tool_reports(said: str, version: tuple[int, int, int] | None) -> None:
    assert parse_version(said) == version


def test_a_pin_is_spelled_as_the_upstream_tag() -> None:
    assert check_pin("kind", "0.31.0") == "v0.31.0"
    assert check_pin("kubectl", "v1.35.0") == "v1.35.0"


@pytest.mark.parametrize(
    ("tool", "value", "why"),
    [
        ("helm", "v3.0.0", "devctl installs only kind, kubectl, skaffold"),
        ("kind", "latest", "must be a release version"),
        ("kind", 31, "must be a release version"),
        ("kind", "v0.20.0", "older than 0.27.0, the oldest devctl works with"),
        ("kubectl", "v1.30.9", "older than 1.31.0"),
    ],
)
def test_a_bad_pin_says_why(tool: str, value: object, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_pin(tool, value)


def test_pins_list_only_what_is_pinned() -> None:
    assert Pins(kind="v0.31.0").pinned() == {"kind": "v0.31.0"}
    assert Pins().pinned() == {}
