"""Where Skaffold puts the images it builds, and the push to a local registry (skaffold.md §6).

Paths are in GoogleContainerTools/skaffold:
- pkg/skaffold/config/util.go GetCluster: on a local cluster (a kube context named `kind-*`) with no
  `--default-repo` flag or SKAFFOLD_DEFAULT_REPO, Skaffold reads ConfigMap kube-public/local-registry-hosting
  (discoverLocalRegistry: key `localRegistryHosting.v1`, its YAML's `host`); when there is one the default
  repo is that host, images are pushed and not loaded, and it logs at *info* level `using default-repo=<host>
  from cluster configmap` (so only `-v info` or lower shows it). The ConfigMap wins over the global config's
  `default-repo` (#7451). Otherwise kind images are loaded (`kind load`), unless `kind-disable-load`.
- pkg/skaffold/docker/default_repo.go SubstituteDefaultRepoIntoImage: `<repo>/<image with [/._:@] -> _>`
  (`csup96/tour-auth` -> `localhost:5001/csup96_tour-auth`), unchanged when it already starts with the repo.
- pkg/skaffold/docker/image.go Push: `could not push image "<ref>": <docker's error>`; a pushed image is
  deployed as `<ref>@<digest>` (build.TagWithDigest).
The push itself is the Docker daemon's: it reaches `localhost:<port>` on the host, i.e. whichever running
container publishes that port. Nothing there: `Get "http://localhost:<port>/v2/": dial tcp
127.0.0.1:<port>: connect: connection refused` (docker push against a closed port, run on this machine's
Docker 20.10 engine).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any

from fakelib import flags, skaffold_config, state

HOSTING = "ConfigMap/kube-public/local-registry-hosting"
_ESCAPE = re.compile(r"[/._:@]")


class PushError(Exception):
    pass


@dataclass(frozen=True)
class Repo:
    host: str | None  # the default repo; None: images keep their names
    source: str  # "flag", "configmap", "global config" or ""
    push: bool
    load: bool


def is_local(context: str) -> bool:
    # pkg/skaffold/config/util.go IsKindCluster: `kind-` prefix (or `@kind` suffix, kind < 0.6).
    return context.startswith("kind-") or context.endswith("@kind")


def _configmap_host(context: str) -> str | None:
    """The `host` of the cluster's KEP-1755 ConfigMap, as the API answers (None: none, or no answer)."""
    import yaml

    s = state.read()
    node = s["docker"]["containers"].get(f"{context[5:]}-control-plane")
    if s["docker"]["daemon"] != "up" or node is None or node["state"] != "running":
        return None  # the lookup fails; Skaffold only traces it and goes on without
    cm = (s["clusters"].get(context) or {}).get("objects", {}).get(HOSTING)
    value = ((cm or {}).get("data") or {}).get("localRegistryHosting.v1")
    if not value:
        return None
    host = (yaml.safe_load(value) or {}).get("host")
    return str(host) if host else None


def _global_config(path: str | None, context: str) -> dict[str, Any]:
    """The `global` settings of the -c file, overridden by its `kubeContexts` entry for ``context``."""
    import yaml

    if not path or not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    merged = dict(data.get("global") or {})
    for entry in data.get("kubeContexts") or []:
        if entry.get("kube-context") == context:
            merged.update({k: v for k, v in entry.items() if k != "kube-context"})
    return merged


def default_repo(a: flags.Parsed, context: str) -> Repo:
    explicit = a.get("default-repo") or os.environ.get("SKAFFOLD_DEFAULT_REPO")
    settings = _global_config(a.get("config"), context)
    local = is_local(context) if settings.get("local-cluster") is None else bool(settings["local-cluster"])
    if local and not explicit:
        host = _configmap_host(context)
        if host:
            return Repo(host, "configmap", push=True, load=False)
    disable_load = bool(settings.get("kind-disable-load"))
    kind = is_local(context)
    repo = explicit or settings.get("default-repo")
    source = "flag" if explicit else "global config" if repo else ""
    # util.go: pushImages = !local || (kind && kindDisableLoad); loadImages = local && kind && !kindDisableLoad
    return Repo(repo or None, source, push=not local or (kind and disable_load),
                load=local and kind and not disable_load)


def image_name(image: str, repo: str | None) -> str:
    if not repo or image.startswith(repo):
        return image
    return (repo + "/" + _ESCAPE.sub("_", image))[:255]


def artifact_images(a: flags.Parsed) -> list[str]:
    return [art.image for art in skaffold_config.load(a).artifacts]


def tag_for(artifact: skaffold_config.Artifact) -> str:
    """tagPolicy inputDigest: a sha256 over the artifact's inputs, so a changed input gives a new tag."""
    h = hashlib.sha256(artifact.image.encode())
    for path in artifact.dependencies():
        h.update(path.encode())
        try:
            with open(path, "rb") as f:
                h.update(f.read())
        except OSError:
            continue
    return h.hexdigest()


def _registry_port(host: str) -> int | None:
    name, _, port = host.rpartition(":")
    return int(port) if name in ("localhost", "127.0.0.1") and port.isdigit() else None


def push(ref: str) -> str:
    """Push ``ref`` (`<host>/<repo>:<tag>`) as the Docker daemon would; returns the digest."""
    host = ref.split("/", 1)[0]
    port = _registry_port(host)
    digest = "sha256:" + hashlib.sha256(ref.encode()).hexdigest()
    if port is None:
        return digest  # a remote registry: not simulated, taken as pushed
    with state.txn() as s:
        for c in s["docker"]["containers"].values():
            bound = [b for binds in (c.get("ports") or {}).values() for b in binds or []
                     if str(b.get("HostPort")) == str(port) and (b.get("HostIp") or "0.0.0.0") in
                     ("127.0.0.1", "0.0.0.0")]
            if c["state"] == "running" and bound:
                stored = c.setdefault("registry", [])
                if ref not in stored:
                    stored.append(ref)
                return digest
    raise PushError(f'could not push image "{ref}": Get "http://{host}/v2/": dial tcp 127.0.0.1:{port}: connect: '
                    "connection refused")
