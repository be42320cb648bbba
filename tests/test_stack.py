"""devctl.stack: the names and pure helpers other commands use to reason about the tour stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from devctl import manifests, stack
from devctl.errors import UsageError
from tests import stack_facts

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: %(replicas)s
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: a, image: a:1, resources: {limits: {memory: 100Mi}}}
        - {name: b, image: b:1, resources: {limits: {memory: 28Mi}}}
"""


def test_services_and_web_services() -> None:
    assert stack.SERVICES == ("auth", "booking", "expiration", "payment", "review", "tour", "client")
    assert stack_facts.WEB_SERVICES == ("auth", "booking", "payment", "review", "tour", "client")
    assert stack.image_name("auth") == "csup96/tour-auth"
    assert (stack.SECRET_NAME, stack.SECRET_KEYS) == ("tour-secrets", ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET"))


# --- artifact_images -----------------------------------------------------------------------------------

SKAFFOLD = """\
apiVersion: skaffold/v4beta14
kind: Config
build:
  artifacts:
    - image: one
    - image: two
profiles:
  - name: other
    build:
      artifacts:
        - image: three
  - name: deploy-only
    deploy: {kubectl: {}}
"""


@pytest.mark.parametrize(
    ("profile", "images"),
    [
        ("", ["one", "two"]),
        ("other", ["three"]),
        ("deploy-only", ["one", "two"]),
        ("other,deploy-only", ["three"]),
        ("-other", ["one", "two"]),
    ],
)
def test_artifact_images_follow_the_active_profiles(tmp_path: Path, profile: str, images: list[str]) -> None:
    path = tmp_path / "skaffold.yaml"
    path.write_text(SKAFFOLD)
    assert stack_facts.artifact_images(path, profile) == images


@pytest.mark.parametrize(
    ("content", "profile", "message"),
    [
        (SKAFFOLD, "nope", "no profile named 'nope'"),
        ("build: {artifacts: [{context: x}]}\n", "", "needs an image name"),
        ("build: {artifacts: {image: x}}\n", "", "must be a list"),
        ("- a\n", "", "not a Skaffold config"),
    ],
)
def test_artifact_images_of_a_bad_file_is_a_usage_error(
    tmp_path: Path, content: str, profile: str, message: str
) -> None:
    path = tmp_path / "skaffold.yaml"
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        stack_facts.artifact_images(path, profile)


# --- missing_source_dirs -------------------------------------------------------------------------------


def test_no_sources_are_needed_without_the_services_profile(tmp_path: Path) -> None:
    assert stack.missing_source_dirs(tmp_path, "") == []
    assert stack.missing_source_dirs(tmp_path, "debug") == []


def test_services_profile_needs_each_folder_with_a_dockerfile(tmp_path: Path) -> None:
    for name in ("auth", "booking", "payment", "review", "tour", "client"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text("FROM node:20-alpine\n")
    (tmp_path / "client" / "Dockerfile").unlink()  # a folder alone is not a build context
    assert stack.missing_source_dirs(tmp_path, "services") == ["expiration", "client"]
    assert stack.missing_source_dirs(tmp_path, "debug,services") == ["expiration", "client"]


# --- memory ------------------------------------------------------------------------------------------


def test_memory_limits_sum_containers_times_replicas(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(
        DEPLOYMENT % {"replicas": 2} + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
    )
    assert stack_facts.memory_limits([m.obj for m in manifests.load(tmp_path)]) == {"Deployment/web": 2 * 128 * 2**20}


def test_memory_limits_refuse_a_container_without_a_limit(tmp_path: Path) -> None:
    text = (DEPLOYMENT % {"replicas": 1}).replace("resources: {limits: {memory: 28Mi}}", "resources: {}")
    (tmp_path / "web.yaml").write_text(text)
    with pytest.raises(ValueError, match="Deployment/web container b has no memory limit"):
        stack_facts.memory_limits([m.obj for m in manifests.load(tmp_path)])
