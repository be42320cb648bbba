"""devctl.stack: the names and pure helpers other commands use to reason about the tour stack."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest

from devctl import stack
from devctl.errors import UsageError

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
    assert stack.WEB_SERVICES == ("auth", "booking", "payment", "review", "tour", "client")
    assert stack.image_name("auth") == "csup96/tour-auth"
    assert (stack.SECRET_NAME, stack.SECRET_KEYS) == ("tour-secrets", ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET"))


# --- load_manifests -------------------------------------------------------------------------------------


def test_load_manifests_reads_every_document_of_every_yaml_file_in_path_order(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s2}\n")
    (tmp_path / "a.yaml").write_text(
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: s1}\n---\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1}\n"
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s3}\n")
    (tmp_path / "notes.txt").write_text("not a manifest: {")
    names = [o["metadata"]["name"] for o in stack.load_manifests(tmp_path)]
    assert names == ["s1", "c1", "s2", "s3"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("apiVersion: v1\nkind: [unclosed\n", "is not valid YAML"),
        ("- just\n- a list\n", "document 1 is not a Kubernetes object"),
        ("apiVersion: v1\nkind: Service\n---\nmetadata: {name: x}\n", "document 2 is not a Kubernetes object"),
    ],
)
def test_load_manifests_names_the_file_it_cannot_use(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text(content)
    with pytest.raises(UsageError, match=message) as err:
        stack.load_manifests(tmp_path)
    assert str(bad) in str(err.value)


def test_load_manifests_rejects_a_file_that_is_not_text(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(UsageError, match=r"cannot read .*x\.yaml"):
        stack.load_manifests(tmp_path)


def test_load_manifests_of_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        stack.load_manifests(tmp_path / "k8s")


def test_an_edited_manifest_is_read_again(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s1}\n")
    stack.load_manifests(tmp_path)
    st = f.stat()
    f.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s2}\n")  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime
    assert [o["metadata"]["name"] for o in stack.load_manifests(tmp_path)] == ["s2"]


def test_yaml_types_are_kept_as_yaml_defines_them(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, annotations: {when: 2026-11-27}}\ndata: {1: one}\n"
    )
    (obj,) = stack.load_manifests(tmp_path)
    assert obj["metadata"]["annotations"]["when"] == datetime.date(2026, 11, 27) and 1 in obj["data"]


def test_a_broken_manifest_is_reported_on_every_run(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: [unclosed\n")
    for _ in range(2):
        with pytest.raises(UsageError, match="is not valid YAML"):
            stack.load_manifests(tmp_path)


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
    assert stack.artifact_images(path, profile) == images


@pytest.mark.parametrize(
    ("content", "profile", "message"),
    [
        (SKAFFOLD, "nope", "no profile named 'nope'"),
        ("build: {artifacts: [{context: x}]}\n", "", "needs an image name"),
        ("build: {artifacts: {image: x}}\n", "", "must be a list"),
        ("- a\n", "", "not a Skaffold config"),
        ("build: [\n", "", "is not valid YAML"),
    ],
)
def test_artifact_images_of_a_bad_file_is_a_usage_error(
    tmp_path: Path, content: str, profile: str, message: str
) -> None:
    path = tmp_path / "skaffold.yaml"
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        stack.artifact_images(path, profile)


def test_artifact_images_of_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot read .*skaffold\.yaml"):
        stack.artifact_images(tmp_path / "skaffold.yaml")


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


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("256Mi", 256 * 2**20), ("1Gi", 2**30), ("64Ki", 65536), ("1G", 10**9), ("500M", 5 * 10**8),
     ("1048576", 2**20), (1024, 1024), ("0.5Gi", 2**29)],
)
def test_memory_quantities_in_bytes(quantity: str | int, expected: int) -> None:
    assert stack.memory_bytes(quantity) == expected


@pytest.mark.parametrize("quantity", ["", "12XB", "Mi", "-1Mi", "1 Gi"])
def test_malformed_memory_quantities_are_rejected(quantity: str) -> None:
    with pytest.raises(ValueError):
        stack.memory_bytes(quantity)


def test_memory_limits_sum_containers_times_replicas(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(
        DEPLOYMENT % {"replicas": 2} + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
    )
    assert stack.memory_limits(stack.load_manifests(tmp_path)) == {"Deployment/web": 2 * 128 * 2**20}


def test_memory_limits_refuse_a_container_without_a_limit(tmp_path: Path) -> None:
    text = (DEPLOYMENT % {"replicas": 1}).replace("resources: {limits: {memory: 28Mi}}", "resources: {}")
    (tmp_path / "web.yaml").write_text(text)
    with pytest.raises(ValueError, match="container 'b' has no memory limit"):
        stack.memory_limits(stack.load_manifests(tmp_path))
