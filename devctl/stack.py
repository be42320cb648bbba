"""Facts about the tour stack that devctl ships (``k8s/``, ``skaffold.yaml``), as pure helpers.

The names here are the contract between the manifests and the rest of devctl: ``up`` creates
``SECRET_NAME`` with ``SECRET_KEYS`` before Skaffold applies ``k8s/`` (whose Deployments read it
through ``secretKeyRef``), and checks ``missing_source_dirs`` before ``--profile services``.
Nothing in this module starts a process or talks to a cluster.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from devctl.errors import UsageError

# The tour services, in the order the tour project lists them; each is one Skaffold artifact
# `csup96/tour-<name>` and, in the `services` profile, one source folder `<repo>/<name>/`.
SERVICES: tuple[str, ...] = ("auth", "booking", "expiration", "payment", "review", "tour", "client")
# expiration is a queue worker: a Deployment without a Service or a port.
WEB_SERVICES: tuple[str, ...] = tuple(s for s in SERVICES if s != "expiration")
IMAGE_PREFIX = "csup96/tour-"

SECRET_NAME = "tour-secrets"
SECRET_KEYS: tuple[str, ...] = ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET")

# The Skaffold profile that builds the real tour sources instead of the stand-in image.
SOURCES_PROFILE = "services"

# What the whole stack may claim at most (sum of container memory limits), so it runs on a
# 4 GiB Docker VM; tests/test_k8s_manifests.py holds the manifests to it.
MEMORY_BUDGET_BYTES = 4 * 1024**3

_MANIFEST_SUFFIXES = (".yaml", ".yml")


def image_name(service: str) -> str:
    return IMAGE_PREFIX + service


def load_manifests(directory: Path) -> list[dict[str, Any]]:
    """Every Kubernetes object in the YAML files under ``directory`` (recursively, like Skaffold's
    ``k8s/**``), in path order then document order. Empty documents are skipped.

    Raises ``UsageError`` naming the file when it cannot be read, is not valid YAML, or holds a
    document that is not a mapping with ``apiVersion`` and ``kind``.
    """
    if not directory.is_dir():
        raise UsageError(f"manifest directory {directory} does not exist")
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix in _MANIFEST_SUFFIXES)
    objects: list[dict[str, Any]] = []
    for path in files:
        for index, doc in enumerate(_load_all(path), start=1):
            if doc is None:
                continue
            if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
                raise UsageError(f"{path}: document {index} is not a Kubernetes object (needs apiVersion and kind)")
            objects.append(doc)
    return objects


def artifact_images(skaffold_yaml: Path, profile: str = "") -> list[str]:
    """The image names of the build artifacts in ``skaffold_yaml``, in file order.

    With ``profile`` (a name, or several joined by ``,`` as Skaffold's ``-p`` takes them), the
    artifacts of the last named profile that defines ``build.artifacts`` replace the top-level ones,
    which is what Skaffold does with a profile's list fields.
    """
    docs = [d for d in _load_all(skaffold_yaml) if d is not None]
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


def missing_source_dirs(repo_root: Path, profile: str) -> list[str]:
    """For the ``services`` profile: the services whose source folder ``<repo_root>/<name>`` is
    missing or has no ``Dockerfile`` (each is a Skaffold build context there). Empty otherwise."""
    if SOURCES_PROFILE not in profile.split(","):
        return []
    return [s for s in SERVICES if not (repo_root / s / "Dockerfile").is_file()]


_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?")
_UNITS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def memory_bytes(quantity: str | int) -> int:
    """A Kubernetes memory quantity (``256Mi``, ``1G``, ``1048576``) in bytes."""
    m = _QUANTITY.fullmatch(str(quantity).strip())
    if not m:
        raise ValueError(f"not a memory quantity: {quantity!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def memory_limits(objects: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Memory limit in bytes per workload (``Kind/name``), summed over its containers and replicas.

    A container without a memory limit raises ``ValueError``: the budget would be meaningless.
    """
    out: dict[str, int] = {}
    for obj in objects:
        pod_spec = _pod_spec(obj)
        if pod_spec is None:
            continue
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        replicas = int(obj.get("spec", {}).get("replicas", 1))
        total = 0
        for c in pod_spec.get("containers", []):
            limit = c.get("resources", {}).get("limits", {}).get("memory")
            if limit is None:
                raise ValueError(f"{name}: container {c.get('name')!r} has no memory limit")
            total += memory_bytes(limit)
        out[name] = total * replicas
    return out


def _pod_spec(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    if obj.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        spec: dict[str, Any] = obj["spec"]["template"]["spec"]
        return spec
    return None


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


def _load_all(path: Path) -> list[Any]:
    """The file's YAML documents; UsageError naming the file when it cannot be read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read {path}: {err}") from None
    try:
        # PyYAML's C loader where it was built with libyaml: the same documents, parsed several times faster.
        return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError as err:
        raise UsageError(f"{path} is not valid YAML: {err}", hint="fix the YAML syntax") from None
