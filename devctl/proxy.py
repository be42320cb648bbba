"""An HTTP proxy between the laptop and the internet: what kind and Skaffold's builds get from devctl.

kind passes the proxy variables of its own process into the node containers (``-e HTTP_PROXY=…``; kind
pkg/cluster/internal/providers/common/proxy.go ``GetProxyEnvs``: upper case first, else lower case, both set
in the node) and adds the cluster's subnets, the node names and ``.svc`` to ``NO_PROXY`` itself
(pkg/cluster/internal/providers/docker/provision.go ``getProxyEnv``). Behind a proxy the API server's calls
to the ingress admission webhook (``ingress-nginx-controller-admission.ingress-nginx.svc``) and containerd's
pulls from the local registry must not go to the proxy (kind.md §8, kind#1650). devctl makes sure the
``NO_PROXY`` it gives kind and Skaffold names them whatever kind's version adds: localhost, 127.0.0.1, the
registry's container name (containerd in the node pulls from ``http://<registry>:5000``), ``.svc``,
``.cluster.local`` and kind's default pod and service subnets.

Image builds do not see the laptop's environment: skaffold.yaml passes ``HTTP_PROXY``, ``HTTPS_PROXY`` and
``NO_PROXY`` (both cases) as ``docker.buildArgs`` templated from Skaffold's environment (skaffold.dev
"Templated Fields"; Docker's predefined proxy ARGs need no ARG line), which devctl sets here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devctl.check import Check
from devctl.cluster.spec import EXTRA_CA_PATH
from devctl.config import Config

# kind pkg/apis/config/v1alpha4/default.go: the pod and service subnets of an IPv4 cluster.
KIND_POD_SUBNET = "10.244.0.0/16"
KIND_SERVICE_SUBNET = "10.96.0.0/16"
NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


def _get(env: Mapping[str, str], name: str) -> str:
    """kind's rule (common/proxy.go): the upper-case variable, else the lower-case one."""
    return env.get(name) or env.get(name.lower()) or ""


def split(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


def required_no_proxy(cfg: Config) -> list[str]:
    """What must bypass the proxy for the cluster to work, in the order devctl appends it."""
    return ["localhost", "127.0.0.1", cfg.registry_name, ".svc", ".cluster.local", KIND_POD_SUBNET, KIND_SERVICE_SUBNET]


@dataclass(frozen=True)
class ProxySettings:
    http: str
    https: str
    no_proxy: tuple[str, ...]  # the user's entries first, then devctl's, each once
    added: tuple[str, ...]  # devctl's entries the user's NO_PROXY lacked

    @property
    def active(self) -> bool:
        return bool(self.http or self.https)

    def env(self) -> dict[str, str]:
        """The variables devctl sets for kind and Skaffold (both cases, as kind sets them in the node); none
        without a proxy."""
        if not self.active:
            return {}
        out: dict[str, str] = {}
        for name, value in (
            ("HTTP_PROXY", self.http),
            ("HTTPS_PROXY", self.https),
            ("NO_PROXY", ",".join(self.no_proxy)),
        ):
            if value:
                out[name] = out[name.lower()] = value
        return out

    def child_env(self, base: Mapping[str, str]) -> dict[str, str] | None:
        """``base`` with the proxy variables devctl sets; None (inherit as is) without a proxy."""
        if not self.active:
            return None
        return {**base, **self.env()}

    def to_json(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "http_proxy": self.http or None,
            "https_proxy": self.https or None,
            "no_proxy": list(self.no_proxy) if self.active else None,
            "added_to_no_proxy": list(self.added) if self.active else None,
        }


def settings(env: Mapping[str, str], cfg: Config) -> ProxySettings:
    http, https = _get(env, "HTTP_PROXY"), _get(env, "HTTPS_PROXY")
    mine = split(_get(env, "NO_PROXY"))
    added = [e for e in required_no_proxy(cfg) if e not in mine]
    return ProxySettings(http, https, tuple(dict.fromkeys([*mine, *added])), tuple(added))


def checks(proxy: ProxySettings, cfg: Config, engine_proxy: str | None) -> list[Check]:
    """What devctl will use, shown by `devctl doctor`; ``engine_proxy`` is the daemon's own (None: unknown)."""
    if not proxy.active:
        detail = "no HTTP_PROXY or HTTPS_PROXY set: kind and the image builds connect directly"
        return [Check("proxy", "ok", detail), *_ca_checks(cfg, proxy)]
    used = ", ".join(f"{n}={v}" for n, v in (("HTTP_PROXY", proxy.http), ("HTTPS_PROXY", proxy.https)) if v)
    detail = f"{used}; kind's nodes and Skaffold's builds get NO_PROXY={','.join(proxy.no_proxy)}"
    if proxy.added:
        detail += f" (devctl added {', '.join(proxy.added)})"
    out = [Check("proxy", "info", detail)]
    if engine_proxy == "":
        out.append(
            Check(
                "engine proxy",
                "warn",
                "the Docker engine itself has no proxy (docker info HttpProxy/HttpsProxy): it pulls the node "
                "image and the base images, and those pulls may fail",
                "give the engine the proxy: Docker Desktop Settings > Resources > Proxies; Docker Engine: "
                "docs.docker.com/engine/daemon/proxy/ (Colima, OrbStack, Rancher Desktop take it from their settings)",
            )
        )
    return [*out, *_ca_checks(cfg, proxy)]


def _ca_checks(cfg: Config, proxy: ProxySettings) -> list[Check]:
    if cfg.extra_ca is None:
        if proxy.active:
            hint = "if the proxy re-signs TLS (pulls fail with x509 errors), set DEVCTL_EXTRA_CA to its CA's PEM file"
            return [Check("company CA", "info", "none (DEVCTL_EXTRA_CA is not set)", hint)]
        return []
    return [
        Check(
            "company CA",
            "ok",
            f"{cfg.extra_ca} is mounted into the kind node at {EXTRA_CA_PATH}, which containerd trusts "
            "(a change needs `devctl up --recreate`)",
        )
    ]
