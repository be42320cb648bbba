"""The Kubernetes objects in the stack's manifests (``k8s/``, or any file or directory of YAML): the one
loader every command reads them with (``up``'s admission probe, ``routes``, ``verify``, ``doctor``).

Every ``*.yaml``/``*.yml`` file under the root is read, in path order (like Skaffold's ``k8s/**``), then
each document in file order; empty documents are skipped and a ``v1 List`` stands for its items (as
kubectl's resource builder reads it). A file that cannot be read or parsed, or a document that is not a
Kubernetes object, is a ``UsageError`` naming the file (and the line, for YAML errors).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devctl.errors import UsageError

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Manifest:
    """One object and where it came from (for messages)."""

    path: Path
    document: int  # 1-based, in its file
    obj: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind"))


def load(root: Path) -> list[Manifest]:
    """Every object under ``root`` (a directory, or one file)."""
    return [m for path in files(root) for m in _objects_of(path)]


def files(root: Path) -> list[Path]:
    """Every YAML file under root (or root itself when it is a file), in a stable order."""
    if root.is_file():
        return [root]
    if not root.exists():
        raise UsageError(f"manifests directory {root} does not exist")
    if not root.is_dir():
        raise UsageError(f"manifests path {root} is neither a file nor a directory")

    def fail(err: OSError) -> None:
        raise UsageError(f"cannot read manifests directory {err.filename}: {err.strerror}")

    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        dirnames.sort()
        found += [Path(dirpath, f) for f in sorted(filenames) if f.endswith(SUFFIXES)]
    return found


def _objects_of(path: Path) -> Iterator[Manifest]:
    for index, doc in enumerate(_documents(path), start=1):
        for obj in _flatten(doc):
            if not (isinstance(obj, dict) and "apiVersion" in obj and "kind" in obj):
                raise UsageError(f"{path}: document {index} is not a Kubernetes object (needs apiVersion and kind)")
            yield Manifest(path, index, obj)


def _flatten(doc: Any) -> Iterator[Any]:
    if doc is None:
        return
    if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        for item in doc["items"]:
            yield from _flatten(item)
    else:
        yield doc


def _documents(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(f"cannot read {path}: not UTF-8 text ({err.reason})") from None
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        # PyYAML's C loader where it was built with libyaml: the same documents, parsed several times faster.
        return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise UsageError(f"{path} is not valid YAML: {where}{err.problem or err.context}", hint=_FIX) from None
    except yaml.YAMLError as err:
        raise UsageError(f"{path} is not valid YAML: {str(err).splitlines()[0]}", hint=_FIX) from None


_FIX = "fix the YAML syntax"
