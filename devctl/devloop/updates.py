"""The typed updates both parsers produce (``events`` from Skaffold's API, ``console`` from its lines).

Names are service (= Deployment) names: the tour stack runs each service as Deployment ``<name>``
built from artifact ``csup96/tour-<name>``; ``service_for_image`` and ``deployment_name`` map
Skaffold's image and resource names onto them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Build states, in the order a service goes through them.
CHECKING = "checking cache"
PENDING = "pending"  # cache miss: will be built
BUILDING = "building"
BUILT = "built"
CACHED = "cached"  # found in the cache: not rebuilt
BUILD_FAILED = "failed"
CANCELED = "canceled"

# Deploy states.
DEPLOYING = "deploying"
WAITING = "waiting"
READY = "ready"
DEPLOY_FAILED = "failed"

# Loop states.
RUNNING = "running"
LOOP_READY = "ready"
LOOP_FAILED = "failed"


@dataclass(frozen=True)
class BuildState:
    service: str
    state: str
    detail: str = ""
    iteration: int = 0  # 0: not known (console lines carry no iteration)


@dataclass(frozen=True)
class DeployState:
    name: str  # Deployment name
    state: str
    detail: str = ""
    ready: int | None = None
    desired: int | None = None
    iteration: int = 0


@dataclass(frozen=True)
class LoopState:
    """A dev-loop iteration started, finished, or failed (``DevLoop-N``; ``Watching for changes...``)."""

    state: str
    iteration: int = 0
    detail: str = ""


@dataclass(frozen=True)
class Phase:
    """What Skaffold is doing now, for the footer: build, render, deploy, status check, sync, cleanup."""

    name: str
    state: str = RUNNING


@dataclass(frozen=True)
class AppLog:
    """One application log line Skaffold tails: ``[<pod> <container>]msg`` (skaffold.md §3)."""

    pod: str
    container: str
    text: str


@dataclass(frozen=True)
class Failure:
    """Skaffold's own reason for giving up (stderr: ``1/1 deployment(s) failed``, the final error)."""

    text: str


Update = BuildState | DeployState | LoopState | Phase | AppLog | Failure


def strip_tag(image: str) -> str:
    """``localhost:5001/a/b:tag@sha256:..`` -> ``localhost:5001/a/b`` (a registry port is not a tag)."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


# skaffold pkg/skaffold/docker/default_repo.go: with a default repo, an image's name goes under it with each
# of `/ . _ : @` replaced by `_`.
_ESCAPED = re.compile(r"[/._:@]")


def default_repo_name(repo: str, image: str) -> str:
    """Skaffold's name for artifact ``image`` under default repo ``repo`` (skaffold.md §6):
    ``localhost:5001`` + ``csup96/tour-auth`` -> ``localhost:5001/csup96_tour-auth``."""
    if image.startswith(repo):
        return image
    return (repo + "/" + _ESCAPED.sub("_", image))[:255]


def service_for_image(image: str, images: Mapping[str, str]) -> str:
    """The service an image belongs to, given ``images`` (artifact image -> service).

    With a default repo (the cluster's local registry) Skaffold renames the images it builds
    (``default_repo_name``), and deploys them with their tag and digest; both forms are recognised. An
    unknown image is named by its last path segment.
    """
    bare = strip_tag(image.strip())
    if bare in images:
        return images[bare]
    repo, _, name = bare.rpartition("/")
    for known, service in images.items():
        # Registries with multi-level repositories (gcr.io, *-docker.pkg.dev) keep the name as it is.
        if repo and (default_repo_name(repo, known) == bare or bare.endswith("/" + known)):
            return service
    return name


def deployment_name(resource: str) -> str | None:
    """``deployment/web`` or ``ns:deployment/web`` (skaffold.md §3) -> ``web``; None for other kinds."""
    res = resource.strip().split(":", 1)[-1]
    kind, _, name = res.partition("/")
    if kind.lower() not in ("deployment", "deployments", "deployment.apps") or not name:
        return None
    return name
