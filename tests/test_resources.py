"""devctl.resources: what the stack's manifests ask of the engine, summed as Kubernetes sums it."""

from __future__ import annotations

from pathlib import Path

import pytest

from devctl import resources
from devctl.errors import UsageError
from tests.conftest import REPO


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("256Mi", 256 * 2**20),
        ("1Gi", 2**30),
        ("64Ki", 65536),
        ("1G", 10**9),
        ("500M", 5 * 10**8),
        ("1048576", 2**20),
        (1024, 1024),
        ("0.5Gi", 2**29),
    ],
)
def test_memory_quantities_in_bytes(quantity: str | int, expected: int) -> None:
    assert resources.memory_bytes(quantity) == expected


@pytest.mark.parametrize("quantity", ["", "12XB", "Mi", "-1Mi", "1 Gi"])
def test_malformed_quantities_are_rejected(quantity: str) -> None:
    with pytest.raises(ValueError):
        resources.memory_bytes(quantity)


@pytest.mark.parametrize(("quantity", "cores"), [("250m", 0.25), ("1", 1.0), ("0.5", 0.5), (2, 2.0), ("1500m", 1.5)])
def test_cpu_quantities_in_cores(quantity: str | int, cores: float) -> None:
    assert resources.cpu_cores(quantity) == pytest.approx(cores)


def _deployment(name: str, replicas: int, containers: str, init: str = "") -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  template:
    spec:
      containers:
{containers}{init}
"""


def test_requests_and_limits_are_summed_over_containers_and_replicas(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(
        _deployment(
            "web",
            2,
            "        - {name: a, resources: {requests: {memory: 64Mi, cpu: 100m}, limits: {memory: 256Mi, cpu: 1}}}\n"
            "        - {name: b, resources: {requests: {memory: 16Mi, cpu: 10m}, limits: {memory: 32Mi, cpu: 20m}}}",
        )
        + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
    )
    got = resources.of_manifests(tmp_path)
    assert got.memory_requests == 2 * 80 * 2**20
    assert got.memory_limits == 2 * 288 * 2**20
    assert got.cpu_requests == pytest.approx(2 * 0.11)
    assert got.unbounded == ()


def test_a_missing_request_is_the_limit_and_a_missing_limit_is_counted_at_the_request(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        _deployment(
            "a",
            1,
            "        - {name: only-limit, resources: {limits: {memory: 100Mi, cpu: 200m}}}\n"
            "        - {name: only-request, resources: {requests: {memory: 10Mi, cpu: 50m}}}",
        )
    )
    got = resources.of_manifests(tmp_path)
    assert got.memory_requests == 110 * 2**20  # Kubernetes defaults a missing request to the limit
    assert got.memory_limits == 110 * 2**20
    assert got.cpu_requests == pytest.approx(0.25)
    assert got.unbounded == ("Deployment/a container only-request",)


def test_an_init_container_counts_when_it_asks_more_than_the_containers_together(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        _deployment(
            "a",
            1,
            "        - {name: app, resources: {requests: {memory: 10Mi}, limits: {memory: 20Mi}}}",
            "\n      initContainers:\n"
            "        - {name: migrate, resources: {requests: {memory: 300Mi}, limits: {memory: 400Mi}}}",
        )
    )
    got = resources.of_manifests(tmp_path)
    assert (got.memory_requests, got.memory_limits) == (300 * 2**20, 400 * 2**20)


def test_workloads_in_subdirectories_and_statefulsets_count(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "db.yaml").write_text(
        _deployment(
            "db", 3, "        - {name: db, resources: {requests: {memory: 1Mi}, limits: {memory: 2Mi}}}"
        ).replace("kind: Deployment", "kind: StatefulSet")
    )
    (tmp_path / "job.yaml").write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: seed}\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - {name: s, resources: {requests: {memory: 5Mi}, limits: {memory: 5Mi}}}\n"
    )
    got = resources.of_manifests(tmp_path)
    assert [w.name for w in got.workloads] == ["Job/seed", "StatefulSet/db"]  # the loader's path order
    assert got.memory_limits == (3 * 2 + 5) * 2**20


def test_an_unreadable_manifest_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("kind: [\n")
    with pytest.raises(UsageError):
        resources.of_manifests(tmp_path)


def test_the_shipped_stack_and_what_the_engine_needs_for_it() -> None:
    got = resources.of_manifests(REPO / "k8s")
    assert got.memory_requests == sum(w.memory_request for w in got.workloads) > 0
    assert got.memory_limits >= got.memory_requests
    # Fail below requests plus the node, warn below limits plus the node; both from the manifests.
    assert got.memory_needed == got.memory_requests + resources.NODE_AND_INGRESS_MEMORY
    assert got.memory_wanted == got.memory_limits + resources.NODE_AND_INGRESS_MEMORY
    assert got.memory_needed < got.memory_wanted
    assert got.cpus_needed >= 2  # the node's own requests are over one CPU
