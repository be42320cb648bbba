"""`devctl verify`: prove the running stack routes the way the manifests say, and that services are healthy.

Routes: for every Ingress rule of the configured host, a sample path that reaches that rule
(`routing_lint.sample_path`) is sent to the ingress on `host_ip:http_port` with `Host: <host>`
(ingress-nginx.md §5: the Host header selects the server block), and the `X-Served-By` header the
stand-ins set (services/README.md) must name the service `routing.match` predicts — the same
function `devctl routes check` uses, so verify and `routes check` cannot disagree.

Health: each Ingress backend's `/healthz`, reached through the kube API server's service proxy
(the ingress would route `/healthz` to the client like any other path, ingress-nginx.md §7 #14).

Logic only: results are dataclasses; devctl/cli/verify.py renders them.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from devctl.errors import CommandError, CommandTimeout, DevctlError, UsageError
from devctl.routing.lint import route_samples
from devctl.routing.rules import HostRoutes, match, select_server
from devctl.tools.kubectl import Kubectl, is_backend_unavailable

SERVED_BY = "X-Served-By"  # set by every stand-in (services/standin/server.py)
HEALTH_PATH = "/healthz"
# A health check is a kubectl process: its deadline is the answer's timeout plus kubectl's own start
# and the API server round trip, so a slow machine is not mistaken for a slow service.
KUBECTL_OVERHEAD = 10.0
MAX_PARALLEL = 8  # local requests; enough to hide a slow answer without flooding a 2-core machine

_T = TypeVar("_T")
_R = TypeVar("_R")


# --- routes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One Ingress rule, a request path that reaches it, and where `routes check` says it goes."""

    order: int  # the rule's position in the location list NGINX evaluates
    rule: str  # the location path
    ingress: str | None  # "namespace/name"
    path: str | None  # the sample request path; None when none can be derived (e.g. a shadowed rule)
    expected: str | None  # predicted service; None = ingress-nginx's default backend (404)
    expected_redirect: str | None = None  # NGINX itself answers 301 to this URI (§5 auto_redirect)


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    status: int | None = None
    served_by: str | None = None
    error: str | None = None  # no usable answer (timeout, reset, not HTTP)

    @property
    def outcome(self) -> str:
        """One of ok, mismatch, error, or skipped (no sample path, nothing was sent)."""
        if self.probe.path is None:
            return "skipped"
        if self.error is not None:
            return "error"
        p = self.probe
        if p.expected_redirect is not None:
            good = self.status == 301 and self.served_by is None
        elif p.expected is None:
            good = self.status == 404 and self.served_by is None
        else:
            good = self.served_by == p.expected
        return "ok" if good else "mismatch"

    @property
    def ok(self) -> bool:
        return self.outcome in ("ok", "skipped")

    @property
    def note(self) -> str:
        """Why a probe did not pass, in words; empty when it passed."""
        outcome = self.outcome
        if outcome == "skipped":
            return "no request path reaches this rule (see `devctl routes --lint`)"
        if outcome == "error":
            return self.error or ""
        if outcome == "ok":
            return ""
        if self.served_by is not None:
            return f"expected {_name(self.probe.expected)}, served by {self.served_by}"
        if self.status in (502, 503, 504):
            return (
                f"ingress-nginx answered {self.status} itself: {_name(self.probe.expected)} has no ready pod"
                " (see `devctl status`)"
            )
        if self.status == 404:
            return "404 without X-Served-By: no rule matched (is the Ingress applied?)"
        return (
            f"answer {self.status} without an {SERVED_BY} header: not a stand-in (the real services do not"
            " send it; verify identifies backends by the stand-in's header)"
        )

    def to_json(self) -> dict[str, Any]:
        p = self.probe
        return {
            "order": p.order,
            "rule": p.rule,
            "ingress": p.ingress,
            "path": p.path,
            "expected": p.expected,
            "expected_redirect": p.expected_redirect,
            "served_by": self.served_by,
            "status": self.status,
            "result": self.outcome,
            "ok": self.ok,
            "error": self.note or None,
        }


def _name(service: str | None) -> str:
    return "the default backend (404)" if service is None else service


def _server(routes: dict[str, HostRoutes], host: str) -> HostRoutes | None:
    server = select_server(routes, host)
    return None if server is None else routes[server]


def plan_probes(routes: dict[str, HostRoutes], host: str) -> list[Probe]:
    """One probe per rule an Ingress wrote for `host` (not the default root, not expansion copies)."""
    hr = _server(routes, host)
    if hr is None:
        return []
    probes: list[Probe] = []
    for loc, sample in route_samples(hr):
        if sample is None:
            probes.append(Probe(loc.index, loc.path, loc.ingress, None, loc.service))
            continue
        m = match(routes, host, sample)
        probes.append(Probe(loc.index, loc.path, loc.ingress, sample, m.service, m.redirect))
    return probes


def request_target(path: str) -> str:
    """The path as sent: printable ASCII as is (NGINX decodes %XX itself), the rest percent-encoded."""
    return quote(path, safe="".join(chr(c) for c in range(0x21, 0x7F)))


def _address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"base_url must be http://HOST[:PORT], got {base_url!r}")
    return parts.hostname, parts.port or 80


class _Refused(Exception):
    pass


def _probe_once(probe: Probe, address: tuple[str, int], host: str, timeout: float) -> ProbeResult:
    if probe.path is None:
        return ProbeResult(probe)
    conn = http.client.HTTPConnection(*address, timeout=timeout)
    try:
        # An explicit Host header replaces the one http.client would derive from the address.
        conn.request("GET", request_target(probe.path), headers={"Host": host, "Connection": "close"})
        resp = conn.getresponse()  # http.client never follows redirects: a 301 stays a 301
        resp.read()
        return ProbeResult(probe, status=resp.status, served_by=resp.getheader(SERVED_BY))
    except ConnectionRefusedError:
        raise _Refused from None
    except TimeoutError:  # socket.timeout is TimeoutError since Python 3.10
        return ProbeResult(probe, error=f"no answer within {timeout:g} s")
    except http.client.HTTPException as err:
        return ProbeResult(probe, error=f"not an HTTP answer ({type(err).__name__}: {err})")
    except OSError as err:
        return ProbeResult(probe, error=err.strerror or str(err))
    finally:
        conn.close()


def _parallel(fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    if len(items) <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(items))) as pool:
        return list(pool.map(fn, items))


def run_probes(probes: Sequence[Probe], base_url: str, host: str, timeout: float) -> list[ProbeResult]:
    """Send every probe to the ingress at `base_url` with `Host: host`, in parallel, results in order.

    A refused connection means nothing listens on the ingress port: one DevctlError, not one
    line per rule.
    """
    address = _address(base_url)
    try:
        return _parallel(lambda p: _probe_once(p, address, host, timeout), probes)
    except _Refused:
        raise DevctlError(
            f"nothing answers on {base_url} (connection refused): the stack is not running",
            hint="start it with `devctl up`",
        ) from None


# --- health -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthTarget:
    namespace: str
    service: str
    port: int | str


@dataclass(frozen=True)
class DependencyHealth:
    name: str
    host: str
    port: int | None
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "host": self.host, "port": self.port, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class HealthResult:
    target: HealthTarget
    dependencies: tuple[DependencyHealth, ...] = ()
    error: str | None = None  # the check failed, or the service is unhealthy without saying why

    @property
    def ok(self) -> bool:
        return self.error is None and all(d.ok for d in self.dependencies)

    def to_json(self) -> dict[str, Any]:
        t = self.target
        return {
            "service": t.service,
            "namespace": t.namespace,
            "port": t.port,
            "ok": self.ok,
            "dependencies": [d.to_json() for d in self.dependencies],
            "error": self.error,
        }


def health_targets(routes: dict[str, HostRoutes], host: str) -> list[HealthTarget]:
    """Every Service the host's Ingress rules send traffic to, once, sorted by name."""
    hr = _server(routes, host)
    found: dict[tuple[str, str], HealthTarget] = {}
    for loc in hr.locations if hr is not None else ():
        if loc.service is None or loc.port is None:
            continue
        namespace = (loc.ingress or "default/").split("/", 1)[0]  # a backend lives in its Ingress's namespace
        found.setdefault((namespace, loc.service), HealthTarget(namespace, loc.service, loc.port))
    return [found[k] for k in sorted(found, key=lambda k: (k[1], k[0]))]


def parse_health(target: HealthTarget, body: str) -> HealthResult:
    """The stand-in's `/healthz` JSON (services/README.md): `ok` and `dependencies`."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        return HealthResult(target, error=f"{HEALTH_PATH} did not answer with the stand-in's JSON health report")
    deps: list[DependencyHealth] = []
    for d in data["dependencies"]:
        if not isinstance(d, dict):
            continue
        port = d.get("port")
        deps.append(
            DependencyHealth(
                name=str(d.get("name", "?")),
                host=str(d.get("host", "")),
                port=port if isinstance(port, int) else None,
                ok=d.get("ok") is True,
                detail=str(d.get("detail", "")),
            )
        )
    error = None
    answered_by = data.get("service")
    if isinstance(answered_by, str) and answered_by != target.service:
        error = f"Service {target.service} reaches the pods of {answered_by} (check its selector)"
    elif data.get("ok") is False and all(d.ok for d in deps):
        error = f"{HEALTH_PATH} reports not ok"
    return HealthResult(target, tuple(deps), error)


def _check_one(kubectl: Kubectl, target: HealthTarget, timeout: float) -> HealthResult:
    deadline = timeout + KUBECTL_OVERHEAD
    try:
        body = kubectl.service_proxy_get(target.namespace, target.service, target.port, HEALTH_PATH, timeout=deadline)
    except CommandTimeout:
        return HealthResult(target, error=f"no answer through the API server within {deadline:g} s")
    except CommandError as err:
        if is_backend_unavailable(err):
            # kubectl turns a non-2xx answer into a generic message and drops its body, so the
            # stand-in's list of dependencies is lost: say what is known.
            return HealthResult(
                target,
                error=f"{HEALTH_PATH} answered 503: a dependency is down (kubectl drops the answer's body,"
                " so not which one; `devctl status` shows the mongo, redis and nats pods)",
            )
        lines = err.output_tail().splitlines()
        return HealthResult(target, error=lines[-1] if lines else str(err))
    return parse_health(target, body)


def check_health(kubectl: Kubectl, targets: Sequence[HealthTarget], timeout: float) -> list[HealthResult]:
    """`/healthz` of every target through the API server's service proxy, one kubectl call each."""
    return _parallel(lambda t: _check_one(kubectl, t, timeout), targets)


# --- the report -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyReport:
    routes: list[ProbeResult]
    health: list[HealthResult]
    host: str = ""
    url: str = ""

    @property
    def failed_routes(self) -> list[ProbeResult]:
        """Mismatches and probes without a usable answer."""
        return [r for r in self.routes if not r.ok]

    @property
    def unhealthy(self) -> list[HealthResult]:
        return [h for h in self.health if not h.ok]

    @property
    def ok(self) -> bool:
        return not self.failed_routes and not self.unhealthy

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "host": self.host,
            "url": self.url,
            "routes": [r.to_json() for r in self.routes],
            "health": [h.to_json() for h in self.health],
        }


def verify(
    routes: dict[str, HostRoutes], kubectl: Kubectl, *, host: str, base_url: str, timeout: float
) -> VerifyReport:
    """Probe every route, then (if the ingress answered at all) every backend's health."""
    probes = plan_probes(routes, host)
    if not probes:
        raise UsageError(
            f"no Ingress rule serves host {host}: nothing to verify",
            hint="check --manifests and the host setting ([tool.devctl] host, DEVCTL_HOST)",
        )
    results = run_probes(probes, base_url, host, timeout)
    health = check_health(kubectl, health_targets(routes, host), timeout)
    return VerifyReport(results, health, host=host, url=base_url)
