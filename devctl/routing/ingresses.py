"""Ingress objects as devctl's routing model reads them from the manifests (``devctl.manifests``).

Only what decides routing is kept (ingress-nginx.md §5): hosts, paths, path types, backends,
the routing annotations, the class and the creation time. A file devctl cannot read or parse,
or an Ingress the API server would refuse in that shape, is a UsageError naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from devctl import manifests
from devctl.errors import UsageError

ANNOTATION = "nginx.ingress.kubernetes.io/"
API_VERSION = "networking.k8s.io/v1"
PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")


@dataclass(frozen=True)
class Backend:
    service: str
    port: int | str  # service.port.number or service.port.name


@dataclass(frozen=True)
class IngressPath:
    path: str  # as written; "" is served as "/"
    path_type: str | None  # as written; None when missing
    backend: Backend | None  # None: a resource backend, which ingress-nginx skips


@dataclass(frozen=True)
class IngressRule:
    host: str  # "" = no host (the catch-all server)
    paths: tuple[IngressPath, ...]


@dataclass(frozen=True)
class Ingress:
    namespace: str
    name: str
    annotations: tuple[tuple[str, str], ...] = ()
    rules: tuple[IngressRule, ...] = ()
    default_backend: Backend | None = None
    class_name: str | None = None
    created: datetime | None = None  # manifests usually have none
    source: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def annotation(self, name: str) -> str | None:
        return dict(self.annotations).get(ANNOTATION + name)

    @property
    def use_regex(self) -> bool:
        # ingress-nginx parses boolean annotations with Go's strconv.ParseBool.
        return (self.annotation("use-regex") or "") in ("1", "t", "T", "true", "TRUE", "True")

    @property
    def rewrite_target(self) -> str:
        return self.annotation("rewrite-target") or ""

    @property
    def served_by_nginx(self) -> bool:
        """The kind manifest's controller: class `nginx`, class-less Ingresses watched too (§2).

        spec.ingressClassName decides first, then the legacy annotation (store.GetIngressClass).
        """
        if self.class_name is not None:
            return self.class_name == "nginx"
        legacy = dict(self.annotations).get("kubernetes.io/ingress.class")
        return legacy is None or legacy == "nginx"

    @property
    def canary(self) -> bool:
        # Canary Ingresses only add weighted alternatives to existing locations; they create none.
        return (self.annotation("canary") or "").lower() == "true"


def load_ingresses(root: Path) -> list[Ingress]:
    """Every Ingress in the manifests under root (a directory or a file); other kinds are ignored."""
    return [_Parser(m.path, m.obj).ingress() for m in manifests.load(root) if m.kind == "Ingress"]


class _Parser:
    """Reads one Ingress object; every complaint names the file and the Ingress."""

    def __init__(self, path: Path, obj: dict[str, Any]) -> None:
        self.path, self.obj = path, obj
        meta = obj.get("metadata")
        self.meta = meta if isinstance(meta, dict) else {}
        self.label = f"Ingress {self.meta.get('name', '<unnamed>')}"

    def fail(self, what: str) -> UsageError:
        return UsageError(f"{self.path}: {self.label}: {what}")

    def text(self, value: Any, what: str, *, required: bool = True) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value):
            raise self.fail(f"{what} must be a non-empty string")
        return value

    def mapping(self, value: Any, what: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{what} must be a mapping")
        return value

    def ingress(self) -> Ingress:
        if self.obj.get("apiVersion") != API_VERSION:
            raise self.fail(
                f"apiVersion {self.obj.get('apiVersion')!r} is not served by current Kubernetes; use {API_VERSION}"
            )
        name = self.text(self.meta.get("name"), "metadata.name")
        annotations = self.mapping(self.meta.get("annotations"), "metadata.annotations")
        for key, value in annotations.items():
            if not isinstance(value, str):
                raise self.fail(f'annotation {key} must be a string (quote it: {key}: "{value}")')
        spec = self.mapping(self.obj.get("spec"), "spec")
        rules = spec.get("rules") or []
        if not isinstance(rules, list):
            raise self.fail("spec.rules must be a list")
        default = spec.get("defaultBackend")
        class_name = spec.get("ingressClassName")
        return Ingress(
            namespace=self.text(self.meta.get("namespace"), "metadata.namespace", required=False) or "default",
            name=name,
            annotations=tuple(sorted((str(k), v) for k, v in annotations.items())),
            rules=tuple(self.rule(r, n) for n, r in enumerate(rules)),
            default_backend=self.backend(default, "spec.defaultBackend") if default is not None else None,
            class_name=None if class_name is None else self.text(class_name, "spec.ingressClassName"),
            created=self.created(self.meta.get("creationTimestamp")),
            source=str(self.path),
        )

    def created(self, value: Any) -> datetime | None:
        if value is None:
            return None
        try:
            when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(f"metadata.creationTimestamp {value!r} is not an RFC 3339 time") from None
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)

    def rule(self, raw: Any, n: int) -> IngressRule:
        where = f"spec.rules[{n}]"
        rule = self.mapping(raw, where)
        http = self.mapping(rule.get("http"), f"{where}.http")
        paths = http.get("paths") or []
        if not isinstance(paths, list):
            raise self.fail(f"{where}.http.paths must be a list")
        host = self.text(rule.get("host"), f"{where}.host", required=False)
        return IngressRule(
            host=host,
            paths=tuple(self.ingress_path(p, f"{where}.http.paths[{i}]") for i, p in enumerate(paths)),
        )

    def ingress_path(self, raw: Any, where: str) -> IngressPath:
        item = self.mapping(raw, where)
        path = self.text(item.get("path"), f"{where}.path", required=False)
        path_type = item.get("pathType")
        if path_type is not None and path_type not in PATH_TYPES:
            raise self.fail(f"{where}.pathType {path_type!r} must be one of {', '.join(PATH_TYPES)}")
        backend = self.mapping(item.get("backend"), f"{where}.backend")
        if "resource" in backend and "service" not in backend:
            return IngressPath(path, path_type, None)
        return IngressPath(path, path_type, self.backend(backend, f"{where}.backend"))

    def backend(self, raw: Any, where: str) -> Backend:
        service = self.mapping(self.mapping(raw, where).get("service"), f"{where}.service")
        name = self.text(service.get("name"), f"{where}.service.name")
        port = self.mapping(service.get("port"), f"{where}.service.port")
        number, port_name = port.get("number"), port.get("name")
        if isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= 65535:
            return Backend(name, number)
        if isinstance(port_name, str) and port_name:
            return Backend(name, port_name)
        raise self.fail(f"{where}.service.port needs a number (1-65535) or a name")
