"""Which engine the docker CLI talks to, and what it offers: one ``Engine`` record from the environment
(DOCKER_HOST, DOCKER_CONTEXT), ``docker context inspect``, ``docker info`` and the platform.

``detect`` is pure; ``read`` makes the two docker calls (the context never contacts the daemon, so it is
known even when the engine is down).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devctl.engine import products
from devctl.errors import DevctlError
from devctl.host_checks import is_wsl
from devctl.tools.docker import Docker, DockerInfo


@dataclass(frozen=True)
class Endpoint:
    """The daemon address the docker CLI uses and how it got there."""

    context: str  # "default" with DOCKER_HOST (the CLI's own word), else the context's name
    host: str  # unix:///…, npipe://…, tcp://…, ssh://…
    source: str  # products.FROM_DOCKER_HOST | FROM_DOCKER_CONTEXT | FROM_CURRENT_CONTEXT

    @classmethod
    def from_inspect(cls, context: Mapping[str, Any], env: Mapping[str, str]) -> Endpoint:
        """From one element of ``docker context inspect``'s list (docker/cli cli/command/context/inspect.go:
        ``Name``, ``Metadata``, ``Endpoints.docker.Host``, ``TLSMaterial``, ``Storage``)."""
        endpoints = context.get("Endpoints") or {}
        host = str((endpoints.get("docker") or {}).get("Host") or "")
        return cls(str(context.get("Name") or "default"), host, products.context_source(env))


@dataclass(frozen=True)
class Engine:
    kind: str  # products.DOCKER_DESKTOP, COLIMA, …
    endpoint: Endpoint | None  # None: the context could not be read
    info: DockerInfo | None  # None: the daemon did not answer
    platform: str
    wsl: bool = False

    @property
    def name(self) -> str:
        return products.NAMES[self.kind]

    @property
    def context(self) -> str:
        if self.endpoint is not None:
            return self.endpoint.context
        return self.info.context if self.info is not None else ""

    @property
    def host(self) -> str:
        return self.endpoint.host if self.endpoint is not None else ""

    @property
    def rootless(self) -> bool:
        return self.info is not None and self.info.rootless

    @property
    def in_vm(self) -> bool:
        """Its memory and CPUs are a VM's, set in the engine's own settings."""
        return self.kind in products.IN_A_VM

    @property
    def supported(self) -> bool:
        return self.kind != products.PODMAN

    @property
    def start_fix(self) -> str:
        return products.start_fix(self.kind, host=self.host, context=self.context, platform=self.platform, wsl=self.wsl)

    @property
    def context_fix(self) -> str:
        source = self.endpoint.source if self.endpoint is not None else products.FROM_CURRENT_CONTEXT
        return products.context_fix(self.context, source, self.host)

    def memory_fix(self, gib: int) -> str:
        return products.memory_fix(self.kind, gib, self.context)

    def cpu_fix(self, cpus: int) -> str:
        return products.cpu_fix(self.kind, cpus, self.context)

    def describe(self) -> str:
        """ "Colima (context colima, unix:///…/docker.sock)"."""
        where = ", ".join(p for p in (f"context {self.context}" if self.context else "", self.host) if p)
        return f"{self.name} ({where})" if where else self.name

    def to_json(self) -> dict[str, Any]:
        info = self.info
        return {
            "kind": self.kind,
            "name": self.name,
            "context": self.context or None,
            "context_source": self.endpoint.source if self.endpoint is not None else None,
            "host": self.host or None,
            "running": info is not None,
            "server_version": info.server_version if info else None,
            "operating_system": info.operating_system if info else None,
            "memory_bytes": info.mem_total if info else None,
            "cpus": info.ncpu if info else None,
            "rootless": info.rootless if info else None,
            "supported": self.supported,
        }


def detect(endpoint: Endpoint | None, info: DockerInfo | None, platform: str, wsl: bool = False) -> Engine:
    host = endpoint.host if endpoint is not None else ""
    context = endpoint.context if endpoint is not None else (info.context if info is not None else "")
    facts = (info.operating_system, info.name, info.product_license) if info is not None else None
    return Engine(products.classify(host, context, platform, facts), endpoint, info, platform, wsl)


def read_endpoint(docker: Docker, env: Mapping[str, str] | None = None) -> Endpoint:
    """The CLI's current context (a missing one raises DockerContextMissing)."""
    return Endpoint.from_inspect(docker.context_inspect(), os.environ if env is None else env)


def read(docker: Docker, info: DockerInfo | None) -> tuple[Engine, DevctlError | None]:
    """The engine, given the ``docker info`` already read (None when it failed); the context's error, if any."""
    try:
        endpoint = read_endpoint(docker)
        problem = None
    except DevctlError as err:
        endpoint, problem = None, err
    wsl = sys.platform.startswith("linux") and is_wsl()
    return detect(endpoint, info, sys.platform, wsl), problem
