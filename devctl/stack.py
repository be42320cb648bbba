"""Facts about the tour stack that devctl ships (``k8s/``, ``skaffold.yaml``).

The names here are the contract between the manifests and the rest of devctl: ``up`` creates
``SECRET_NAME`` with ``SECRET_KEYS`` before Skaffold applies ``k8s/`` (whose Deployments read it
through ``secretKeyRef``), and checks ``missing_source_dirs`` before ``--profile services``.
Nothing in this module starts a process or talks to a cluster.
"""

from __future__ import annotations

from pathlib import Path

# The tour services, in the order the tour project lists them; each is one Skaffold artifact
# `csup96/tour-<name>` and, in the `services` profile, one source folder `<repo>/<name>/`.
SERVICES: tuple[str, ...] = ("auth", "booking", "expiration", "payment", "review", "tour", "client")
IMAGE_PREFIX = "csup96/tour-"

SECRET_NAME = "tour-secrets"
SECRET_KEYS: tuple[str, ...] = ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET")

# The Skaffold profile that builds the real tour sources instead of the stand-in image.
SOURCES_PROFILE = "services"

# Where `devctl data seed` reads and `devctl data dump` writes: seed/<service>/<collection>.json.
SEED_DIR = Path("seed")


def image_name(service: str) -> str:
    return IMAGE_PREFIX + service


def missing_source_dirs(repo_root: Path, profile: str) -> list[str]:
    """For the ``services`` profile: the services whose source folder ``<repo_root>/<name>`` is
    missing or has no ``Dockerfile`` (each is a Skaffold build context there). Empty otherwise."""
    if SOURCES_PROFILE not in profile.split(","):
        return []
    return [s for s in SERVICES if not (repo_root / s / "Dockerfile").is_file()]
