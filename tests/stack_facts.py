"""Facts the tests hold the shipped stack to (no command needs them): the tour Ingress's paths, which images
skaffold.yaml builds, which services serve HTTP, and what the stack's containers may claim in memory."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from devctl import resources
from devctl.errors import UsageError
from devctl.stack import SERVICES

# The tour Ingress's paths and their services as the tour project declares them (declaration order, not
# the order ingress-nginx evaluates them in).
TOUR_INGRESS_PATHS = [
    ("/api/v1/auth/?(.*)", "auth"),
    ("/api/v1/oauth2/?(.*)", "auth"),
    ("/api/v1/users/?(.*)", "auth"),
    ("/api/v1/admin/users/?(.*)", "auth"),
    ("/api/v1/tours/?(.*)/bookings", "booking"),
    ("/api/v1/bookings/?(.*)", "booking"),
    ("/api/v1/admin/bookings/?(.*)", "booking"),
    ("/api/v1/payments/?(.*)", "payment"),
    ("/api/v1/tours/?(.*)/reviews", "review"),
    ("/api/v1/reviews/?(.*)", "review"),
    ("/api/v1/admin/reviews/?(.*)", "review"),
    ("/api/v1/tours/?(.*)", "tour"),
    ("/api/v1/admin/tours/?(.*)", "tour"),
    ("/?(.*)", "client"),
]

# expiration is a queue worker: a Deployment without a Service or a port.
WEB_SERVICES: tuple[str, ...] = tuple(s for s in SERVICES if s != "expiration")

# What the whole stack may claim at most (sum of container memory limits), so it runs on a
# 4 GiB Docker VM; tests/test_k8s_manifests.py holds the manifests to it.
MEMORY_BUDGET_BYTES = 4 * 1024**3


def artifact_images(skaffold_yaml: Path, profile: str = "") -> list[str]:
    """The image names of the build artifacts in ``skaffold_yaml``, in file order.

    With ``profile`` (a name, or several joined by ``,`` as Skaffold's ``-p`` takes them), the
    artifacts of the last named profile that defines ``build.artifacts`` replace the top-level ones,
    which is what Skaffold does with a profile's list fields.
    """
    docs = [d for d in yaml.safe_load_all(skaffold_yaml.read_text(encoding="utf-8")) if d is not None]
    if not docs or not isinstance(docs[0], dict):
        raise UsageError(f"{skaffold_yaml}: not a Skaffold config (expected a mapping)")
    config: dict[str, Any] = docs[0]
    artifacts = _artifacts_of(config.get("build"), skaffold_yaml)
    wanted = [p for p in profile.split(",") if p and not p.startswith("-")]
    profiles = {p.get("name"): p for p in config.get("profiles") or [] if isinstance(p, dict)}
    for name in wanted:
        if name not in profiles:
            raise UsageError(f"{skaffold_yaml}: no profile named {name!r}")
        build = profiles[name].get("build")
        if isinstance(build, dict) and "artifacts" in build:
            artifacts = _artifacts_of(build, skaffold_yaml)
    return artifacts


def memory_limits(objects: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Memory limit in bytes per workload (``Kind/name``), summed over its containers and replicas
    (``devctl.resources``, which doctor uses too).

    A container without a memory limit raises ``ValueError``: the budget would be meaningless.
    """
    out: dict[str, int] = {}
    for obj in objects:
        claim = resources.workload(obj)
        if claim is None:
            continue
        if claim.no_memory_limit:
            raise ValueError(f"{claim.no_memory_limit[0]} has no memory limit")
        out[claim.name] = claim.memory_limit
    return out


def _artifacts_of(build: Any, source: Path) -> list[str]:
    if build is None:
        return []
    if not isinstance(build, dict) or not isinstance(build.get("artifacts", []), list):
        raise UsageError(f"{source}: build.artifacts must be a list")
    images: list[str] = []
    for a in build.get("artifacts", []):
        if not isinstance(a, dict) or not isinstance(a.get("image"), str):
            raise UsageError(f"{source}: every build artifact needs an image name")
        images.append(a["image"])
    return images
