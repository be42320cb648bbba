"""Where the stack's parts run, as its manifests (``k8s/``, infrastructure included) say: each workload with
the label selector of its pods and its first container, each Service with its ports, and each service's
MongoDB (the host and database of its ``MONGO_URI``).

Pure reading of the one manifest loader's objects; nothing here talks to a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from devctl import manifests
from devctl.config import Config
from devctl.errors import UsageError

NAMESPACE = "default"


@dataclass(frozen=True)
class Workload:
    """A Deployment: how to find its pods, and the container a command runs in by default."""

    name: str
    selector: str  # ``app=auth``: its pods' labels, as kubectl's -l takes them
    container: str


@dataclass(frozen=True)
class ServicePort:
    name: str  # the port's name in the Service (mongo, redis, client, monitor, http)
    port: int


@dataclass(frozen=True)
class ServiceEndpoint:
    """A Service and its ports (what ``devctl forward`` reaches)."""

    name: str
    ports: tuple[ServicePort, ...]


@dataclass(frozen=True)
class Database:
    """A service's MongoDB: the Service that serves it (``<service>-mongo``) and the database name."""

    service: str
    host: str
    name: str


@dataclass(frozen=True)
class Topology:
    workloads: tuple[Workload, ...]
    endpoints: tuple[ServiceEndpoint, ...]
    databases: tuple[Database, ...]

    def workload(self, name: str) -> Workload | None:
        return next((w for w in self.workloads if w.name == name), None)

    def serving(self, service: str) -> Workload | None:
        """The workload behind a Service of the same name (the stack names them alike)."""
        return self.workload(service)


def _selector(match: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(match.items()))


def _env(container: Mapping[str, Any]) -> dict[str, str]:
    return {str(e.get("name")): str(e["value"]) for e in container.get("env") or [] if "value" in e}


def from_objects(objects: Sequence[Mapping[str, Any]]) -> Topology:
    workloads, endpoints, databases = [], [], []
    for obj in objects:
        kind, md, spec = obj.get("kind"), obj.get("metadata") or {}, obj.get("spec") or {}
        name = str(md.get("name"))
        if kind == "Deployment":
            containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
            match = (spec.get("selector") or {}).get("matchLabels") or {}
            workloads.append(Workload(name, _selector(match), str(containers[0].get("name"))))
            uri = _env(containers[0]).get("MONGO_URI")
            if uri:
                parts = urlsplit(uri)
                databases.append(Database(name, str(parts.hostname), parts.path.strip("/") or name))
        elif kind == "Service":
            ports = tuple(
                ServicePort(str(p.get("name") or p.get("port")), int(p["port"])) for p in spec.get("ports") or []
            )
            endpoints.append(ServiceEndpoint(name, ports))
    by_name = sorted(endpoints, key=lambda e: e.name)
    return Topology(tuple(workloads), tuple(by_name), tuple(sorted(databases, key=lambda d: d.service)))


def load(cfg: Config) -> Topology:
    return from_objects([m.obj for m in manifests.load(cfg.path(cfg.manifests_dir))])


def choose(names: Sequence[str], known: Sequence[str], what: str) -> list[str]:
    """The names asked for (all when none), each once, in the order given; UsageError lists the known ones."""
    unknown = [n for n in dict.fromkeys(names) if n not in known]
    if unknown:
        noun = what if len(unknown) == 1 else what + "s"
        raise UsageError(
            f"unknown {noun} {', '.join(repr(n) for n in unknown)}", hint=f"choose from: {', '.join(known)}"
        )
    return list(dict.fromkeys(names)) if names else list(known)
