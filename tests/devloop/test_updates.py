"""Skaffold's image names mapped back to the stack's services (devctl.devloop.updates), as pure tables."""

from __future__ import annotations

import pytest

from devctl.devloop.updates import default_repo_name, deployment_name, service_for_image, strip_tag

IMAGES = {"csup96/tour-auth": "auth", "csup96/tour-client": "client", "acme.io/web.app": "web"}
DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("repo", "image", "renamed"),
    [
        # skaffold.md §6 and pkg/skaffold/docker/default_repo.go: `/ . _ : @` become `_`.
        ("localhost:5001", "csup96/tour-auth", "localhost:5001/csup96_tour-auth"),
        ("localhost:15001", "acme.io/web.app", "localhost:15001/acme_io_web_app"),
        ("localhost:5001", "web", "localhost:5001/web"),
        # Already under the repo: unchanged.
        ("localhost:5001", "localhost:5001/csup96_tour-auth", "localhost:5001/csup96_tour-auth"),
    ],
)
def test_default_repo_names_as_skaffold_makes_them(repo: str, image: str, renamed: str) -> None:
    assert default_repo_name(repo, image) == renamed


@pytest.mark.parametrize(
    ("image", "service"),
    [
        ("csup96/tour-auth", "auth"),
        ("csup96/tour-auth:v1", "auth"),
        (f"csup96/tour-auth:0123abcd@{DIGEST}", "auth"),
        # Renamed into the cluster's local registry, deployed with the tag and the pushed digest.
        ("localhost:5001/csup96_tour-auth", "auth"),
        (f"localhost:5001/csup96_tour-auth:{'f' * 64}@{DIGEST}", "auth"),
        ("localhost:15001/csup96_tour-client:latest", "client"),
        ("localhost:5001/acme_io_web_app:1", "web"),
        # A multi-level registry keeps the path.
        ("europe-docker.pkg.dev/p/r/csup96/tour-auth:1", "auth"),
        # Not an artifact: its last path segment.
        ("localhost:5001/csup96_tour-other:1", "csup96_tour-other"),
        ("mongo:7.0", "mongo"),
    ],
)
def test_service_for_image(image: str, service: str) -> None:
    assert service_for_image(image, IMAGES) == service


@pytest.mark.parametrize(
    ("image", "bare"),
    [
        ("localhost:5001/a/b:tag", "localhost:5001/a/b"),
        (f"localhost:5001/a_b:tag@{DIGEST}", "localhost:5001/a_b"),
        ("localhost:5001/a_b", "localhost:5001/a_b"),
        ("web", "web"),
    ],
)
def test_strip_tag_keeps_a_registry_port(image: str, bare: str) -> None:
    assert strip_tag(image) == bare


@pytest.mark.parametrize(
    ("resource", "name"),
    [("deployment/web", "web"), ("default:deployment/web", "web"), ("statefulset/db", None), ("pods", None)],
)
def test_deployment_name(resource: str, name: str | None) -> None:
    assert deployment_name(resource) == name
