"""The parts of a Skaffold config (skaffold.yaml, `-f`) the fake acts on, with `-p` profiles applied.

An artifact's dependencies are the files of its context that Docker would send (`.dockerignore` read as
Docker reads it: patterns in order, the last match wins, `!` re-includes; the Dockerfile always counts),
the inputs Skaffold's docker dependency resolver watches (skaffold pkg/skaffold/docker/dependencies.go
reads the Dockerfile's COPY/ADD sources within that set; the fake takes the whole set). A changed
dependency that a `sync.manual` rule covers is synced, any other is rebuilt (skaffold.md §3 "Later
iterations"; runner/dev.go: `sync.NewItem` returns nil for a change sync cannot take -> AddRebuild).
"""

from __future__ import annotations

import fnmatch
import glob
import os
from dataclasses import dataclass, field
from typing import Any

from fakelib import flags


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Artifact:
    image: str
    context: str  # absolute
    dockerfile: str  # absolute
    sync: tuple[str, ...] = ()  # absolute glob patterns of its sync.manual rules

    def dependencies(self) -> list[str]:
        ignore = _dockerignore(self.context)
        out = []
        for root, dirs, files in os.walk(self.context):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for f in sorted(files):
                path = os.path.join(root, f)
                rel = os.path.relpath(path, self.context)
                if path == self.dockerfile or not _ignored(rel, ignore):
                    out.append(path)
        return out

    def synced(self, path: str) -> bool:
        return any(path in glob.glob(p, recursive=True) for p in self.sync)


@dataclass(frozen=True)
class Config:
    path: str
    artifacts: tuple[Artifact, ...]
    manifests: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def _dockerignore(context: str) -> list[str]:
    try:
        with open(os.path.join(context, ".dockerignore"), encoding="utf-8") as f:
            return [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
    except OSError:
        return []


def _ignored(rel: str, patterns: list[str]) -> bool:
    ignored = False
    for p in patterns:
        negate = p.startswith("!")
        if fnmatch.fnmatchcase(rel, p.lstrip("!").strip("/")):
            ignored = not negate
    return ignored


def load(a: flags.Parsed) -> Config:
    import yaml

    path = os.path.abspath(a.get("filename") or "skaffold.yaml")
    try:
        with open(path, encoding="utf-8") as f:
            cfg = next(d for d in yaml.safe_load_all(f) if d)
    except OSError as e:
        raise ConfigError(f"parsing skaffold config: failed to read {path}: {e.strerror}") from None
    build = cfg.get("build") or {}
    manifests = cfg.get("manifests") or {}
    for name in [p for value in a.all("profile") for p in value.split(",") if p and not p.startswith("-")]:
        prof = next((p for p in cfg.get("profiles") or [] if p.get("name") == name), None)
        if prof is None:
            raise ConfigError(f'parsing skaffold config: did not find profile "{name}"')
        if "artifacts" in (prof.get("build") or {}):
            build = prof["build"]
        manifests = prof.get("manifests") or manifests
    base = os.path.dirname(path)
    artifacts = []
    for art in build.get("artifacts") or []:
        context = os.path.normpath(os.path.join(base, art.get("context") or "."))
        dockerfile = os.path.join(context, (art.get("docker") or {}).get("dockerfile") or "Dockerfile")
        rules = ((art.get("sync") or {}).get("manual") or [])
        artifacts.append(Artifact(art["image"], context, dockerfile,
                                  tuple(os.path.join(context, r["src"]) for r in rules if r.get("src"))))
    docs: list[dict[str, Any]] = []
    for pattern in manifests.get("rawYaml") or []:
        for p in sorted(glob.glob(os.path.join(base, pattern), recursive=True)):
            if os.path.isfile(p) and p.endswith((".yaml", ".yml")):
                with open(p, encoding="utf-8") as f:
                    docs.extend(d for d in yaml.safe_load_all(f) if d)
    return Config(path, tuple(artifacts), tuple(docs))
