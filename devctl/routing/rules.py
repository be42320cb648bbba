"""Which backend ingress-nginx sends a request to, computed the way the controller does.

Pure logic, no printing. Everything here follows ingress-nginx.md §5 (checked against
controller-v1.15.1's `controller.go` getBackendServers/createServers, `location.go`
updateServerLocations and `template.go` buildLocation/enforceRegexModifier): YAML order means
nothing, the merged location list sorted by path length does. Loading manifests lives in
`devctl.routing.ingresses`, lint and sample paths in `devctl.routing.lint`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from typing import Any

from devctl.errors import UsageError
from devctl.routing.ingresses import Backend, Ingress, IngressPath, IngressRule, load_ingresses

__all__ = [  # the loading model is re-exported so callers need one import
    "Backend",
    "HostRoutes",
    "Ingress",
    "IngressPath",
    "IngressRule",
    "Location",
    "Match",
    "build_routes",
    "load_ingresses",
    "match",
    "normalize",
]

PREFIX, EXACT = "Prefix", "Exact"
CATCH_ALL = "_"  # the server block for unknown hosts and host-less rules (ingress-nginx.md §5)


@dataclass(frozen=True)
class Location:
    """One rendered NGINX location of a server block, in evaluation order."""

    index: int  # 1-based position in the rendered list
    path: str  # the location's path after prefix expansion
    path_type: str  # effective type: Prefix or Exact (ImplementationSpecific is Prefix)
    service: str | None  # None: the default backend (404)
    port: int | str | None
    ingress: str | None  # "namespace/name"; None for the built-in default root
    regex: bool  # rendered as `~* "^path"` (host-wide regex mode)
    ingress_path: str  # the path as the Ingress wrote it
    declared_type: str | None  # pathType as the Ingress wrote it
    default_root: bool = False  # the root location every server starts with
    expanded: bool = False  # the Exact copy that prefix expansion added

    @property
    def rendered(self) -> str:
        if self.regex:
            return f'~* "^{self.path}"'
        return f"= {self.path}" if self.path_type == EXACT else self.path

    @property
    def backend(self) -> str:
        return "404 (default backend)" if self.service is None else f"{self.service}:{self.port}"


@dataclass(frozen=True)
class HostRoutes:
    host: str
    regex_mode: bool
    locations: tuple[Location, ...]
    ingresses: tuple[str, ...]  # contributing Ingresses, oldest first


@dataclass(frozen=True)
class Match:
    host: str
    path: str
    normalized_path: str
    service: str | None  # None: the default backend answers 404
    port: int | str | None
    rule: str | None  # the matched location's path; None when the default root answered
    redirect: str | None  # NGINX answers 301 to this URI itself (auto_redirect)
    server: str  # the server block that answered: a host or "_"
    location: Location | None


# --- building the location list (ingress-nginx.md §5 "Building the location list") ---------------


@dataclass
class _Loc:
    path: str
    path_type: str
    backend: Backend | None
    ingress: Ingress | None
    replaceable: bool  # IsDefBackend: an Ingress defining the same path and type takes it over
    ingress_path: str
    declared_type: str | None
    default_root: bool = False
    expanded: bool = False

    @property
    def use_regex(self) -> bool:
        return self.ingress is not None and self.ingress.use_regex

    @property
    def needs_rewrite(self) -> bool:
        target = self.ingress.rewrite_target if self.ingress is not None else ""
        return bool(target) and target != self.path


def effective_type(declared: str | None) -> str:
    """§5 step 1: missing and ImplementationSpecific both become Prefix."""
    return EXACT if declared == EXACT else PREFIX


def order_ingresses(ingresses: list[Ingress]) -> list[Ingress]:
    """§5 step 2: creationTimestamp ascending, ties by "namespace/name" descending (sortIngressSlice).

    An Ingress without a timestamp would be created when applied, so after those that have one.
    """
    by_key = sorted(ingresses, key=lambda i: i.key, reverse=True)
    return sorted(by_key, key=lambda i: (i.created is None, i.created.timestamp() if i.created else 0.0))


def _root(ing: Ingress | None, backend: Backend | None, replaceable: bool = True) -> _Loc:
    return _Loc("/", PREFIX, backend, ing, replaceable, "/", None, default_root=True)


def _create_servers(ings: list[Ingress]) -> dict[str, list[_Loc]]:
    servers: dict[str, list[_Loc]] = {CATCH_ALL: [_root(None, None)]}
    for ing in ings:
        catch_all = servers[CATCH_ALL][0]
        if ing.default_backend is not None and catch_all.replaceable and not ing.rules:
            # An Ingress with a backend and no rule configures the catch-all server; its rewrite
            # annotations are deliberately not applied there (createServers).
            bare = replace(ing, annotations=())
            servers[CATCH_ALL][0] = _Loc("/", PREFIX, ing.default_backend, bare, False, "/", None, True)
        for rule in ing.rules:
            host = rule.host or CATCH_ALL
            if host not in servers:  # the oldest Ingress of a host creates its server and root
                servers[host] = [_root(ing, ing.default_backend)]
    return servers


def _merge_paths(ings: list[Ingress], servers: dict[str, list[_Loc]]) -> dict[str, list[str]]:
    """§5 step 3: merge every path; the oldest Ingress wins a duplicate path of the same type."""
    contributors: dict[str, list[str]] = {host: [] for host in servers}
    for ing in ings:
        for rule in ing.rules:
            host = rule.host or CATCH_ALL
            locs = servers[host]
            if ing.key not in contributors[host]:
                contributors[host].append(ing.key)
            for p in rule.paths:
                if p.backend is None:
                    continue
                path, ptype = p.path or "/", effective_type(p.path_type)
                add = True
                for loc in locs:
                    if loc.path != path:
                        continue
                    # Same path, other type: kept. The loop stops at the first same-path
                    # location either way (getBackendServers).
                    if loc.path_type == ptype:
                        add = False
                        if loc.replaceable:
                            loc.backend, loc.ingress, loc.replaceable = p.backend, ing, False
                            loc.default_root, loc.declared_type = False, p.path_type
                    break
                if add:
                    locs.append(_Loc(path, ptype, p.backend, ing, False, path, p.path_type))
    return contributors


def _sort(locs: list[_Loc]) -> list[_Loc]:
    """§5 step 4: stable sort by path descending, then by byte length descending."""
    by_path = sorted(locs, key=lambda loc: loc.path.encode(), reverse=True)
    return sorted(by_path, key=lambda loc: len(loc.path.encode()), reverse=True)


def _expand_prefixes(locs: list[_Loc]) -> list[_Loc]:
    """§5 step 5 (updateServerLocations): `/p` -> `/p/` plus an Exact `/p` right after it."""
    exact_paths = {loc.path for loc in locs if loc.path_type == EXACT}
    out: list[_Loc] = []
    for loc in locs:
        out.append(loc)
        if loc.path == "/" or loc.path_type != PREFIX or loc.needs_rewrite or loc.use_regex:
            continue
        original = loc.path
        loc.path = original if original.endswith("/") else original + "/"
        if original not in exact_paths:
            out.append(replace(loc, path=original, path_type=EXACT, expanded=True))
    return out


def build_routes(ingresses: list[Ingress]) -> dict[str, HostRoutes]:
    """The rendered location list of every server block, keyed by host ("_" = catch-all)."""
    ings = order_ingresses([i for i in ingresses if i.served_by_nginx and not i.canary])
    servers = _create_servers(ings)
    contributors = _merge_paths(ings, servers)
    routes: dict[str, HostRoutes] = {}
    for host in sorted(servers):
        locs = _expand_prefixes(_sort(servers[host]))
        # §5 step 6: one location with use-regex or an effective rewrite switches the whole host.
        regex_mode = any(loc.use_regex or loc.needs_rewrite for loc in locs)
        frozen = tuple(
            Location(
                index=n,
                path=loc.path,
                path_type=loc.path_type,
                service=loc.backend.service if loc.backend else None,
                port=loc.backend.port if loc.backend else None,
                ingress=loc.ingress.key if loc.ingress is not None and loc.backend is not None else None,
                regex=regex_mode,
                ingress_path=loc.ingress_path,
                declared_type=loc.declared_type,
                default_root=loc.default_root,
                expanded=loc.expanded,
            )
            for n, loc in enumerate(locs, start=1)
        )
        routes[host] = HostRoutes(host, regex_mode, frozen, tuple(contributors[host]))
    _check_regexes(routes)
    return routes


def _latin1(text: str) -> str:
    """NGINX compares bytes; a latin-1 str holds one byte per character, so `re` does the same."""
    return text.encode("utf-8").decode("latin-1")


@functools.lru_cache(maxsize=1024)
def compile_rule(path: str) -> re.Pattern[str]:
    """A location as NGINX renders it in regex mode: `~* "^path"`, case-insensitive, start-anchored.

    PCRE without UTF mode folds ASCII letters only, hence re.ASCII. PCRE's `(?<name>` is Python's
    `(?P<name>`. Raises re.error for a pattern Python cannot evaluate.
    """
    source = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", _latin1(path))
    return re.compile("^" + source, re.IGNORECASE | re.ASCII)


def _check_regexes(routes: dict[str, HostRoutes]) -> None:
    """Fail early on a pattern that cannot be evaluated (NGINX would not reload, ingress-nginx.md §3)."""
    for hr in routes.values():
        for loc in hr.locations if hr.regex_mode else ():
            try:
                compile_rule(loc.path)
            except re.error as err:
                raise UsageError(
                    f"path {loc.ingress_path!r} of Ingress {loc.ingress} on host {hr.host} is not a "
                    f"valid regular expression ({err}); NGINX would refuse to reload"
                ) from None


# --- matching a request (ingress-nginx.md §5 "Matching a request") ----------------------------------

_HEX = frozenset(b"0123456789abcdefABCDEF")


def _bad_request(path: str, why: str) -> UsageError:
    return UsageError(f"request path {path!r} {why}; NGINX answers 400 Bad Request before any routing")


def nginx_uri(path: str) -> str:
    """The URI NGINX matches locations against, one latin-1 character per byte.

    Query (and fragment) dropped; %XX decoded (a decoded `/` or `.` takes part in what follows, as in
    ngx_http_parse_complex_uri); repeated slashes merged (merge_slashes on); `.` and `..` resolved.
    """
    if not path.startswith("/"):
        raise UsageError(f"request path {path!r} must start with '/'")
    raw = re.split(rb"[?#]", path.encode("utf-8"), maxsplit=1)[0]
    decoded = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] != 0x25:  # '%'
            decoded.append(raw[i])
            i += 1
            continue
        pair = raw[i + 1 : i + 3]
        if len(pair) < 2 or not all(c in _HEX for c in pair):
            raise _bad_request(path, "has an invalid %-escape")
        if int(pair, 16) == 0:
            raise _bad_request(path, "contains %00")
        decoded.append(int(pair, 16))
        i += 3
    segments = bytes(decoded).split(b"/")[1:]
    kept: list[bytes] = []
    for seg in segments:
        if seg in (b"", b"."):
            continue
        if seg == b"..":
            if not kept:
                raise _bad_request(path, "climbs above the root with '..'")
            kept.pop()
            continue
        kept.append(seg)
    uri = b"/" + b"/".join(kept)
    if kept and segments[-1] in (b"", b".", b".."):
        uri += b"/"
    return uri.decode("latin-1")


def _display(uri: str) -> str:
    return uri.encode("latin-1").decode("utf-8", errors="backslashreplace")


def normalize(path: str) -> str:
    """The request path as NGINX sees it when choosing a location (raises UsageError on a 400)."""
    return _display(nginx_uri(path))


def select_server(routes: dict[str, HostRoutes], host: str) -> str | None:
    """The server block NGINX picks for a Host header: exact name, else wildcard, else `_` (§5).

    ingress-nginx renders `*.example.com` as `~^(?<subdomain>[\\w-]+)\\.example\\.com$`
    (template.go buildServerName): exactly one label in place of the `*`.
    """
    name = host.strip().lower()
    if name.startswith("["):
        name = name.split("]", 1)[0] + "]"
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    name = name.rstrip(".")
    if name in routes and name != CATCH_ALL:
        return name
    label, _, rest = name.partition(".")
    if rest and re.fullmatch(r"[A-Za-z0-9_-]+", label) and f"*.{rest}" in routes:
        return f"*.{rest}"
    return CATCH_ALL if CATCH_ALL in routes else None


def find_location(hr: HostRoutes, uri: str) -> tuple[Location | None, str | None]:
    """(location, redirect) for a normalised URI (latin-1 form) within one server block."""
    if hr.regex_mode:
        # Every location is a regex: the first in rendered order that matches wins.
        return next((loc for loc in hr.locations if compile_rule(loc.path).match(uri)), None), None
    locs = [(loc, _latin1(loc.path)) for loc in hr.locations]
    exact = [loc for loc, p in locs if loc.path_type == EXACT and p == uri]
    if exact:
        return exact[0], None
    prefixes = [(loc, p) for loc, p in locs if loc.path_type == PREFIX]
    same = [loc for loc, p in prefixes if p == uri]
    if same:
        return same[0], None
    # NGINX auto_redirect: a location named URI + "/" (proxied) answers 301 to URI + "/".
    named = [loc for loc, p in locs if p == uri + "/"]
    if named:
        return next((loc for loc in named if loc.path_type == EXACT), named[0]), _display(uri + "/")
    best: tuple[Location, str] | None = None
    for loc, p in prefixes:
        if uri.startswith(p) and (best is None or len(p) > len(best[1])):
            best = (loc, p)
    return (best[0] if best else None), None


def match(routes: dict[str, HostRoutes], host: str, path: str) -> Match:
    """Where ingress-nginx sends `path` on `host`; service None means the 404 default backend."""
    uri = nginx_uri(path)
    server = select_server(routes, host)
    loc, redirect = find_location(routes[server], uri) if server is not None else (None, None)
    return Match(
        host=host,
        path=path,
        normalized_path=_display(uri),
        service=loc.service if loc else None,
        port=loc.port if loc else None,
        rule=None if loc is None or loc.default_root else loc.path,
        redirect=redirect,
        server=server or CATCH_ALL,
        location=loc,
    )


def match_as_dict(m: Match) -> dict[str, Any]:
    """The `routes check --json` shape: the issue's keys plus `redirect`.

    With `redirect` set, NGINX answers 301 itself and no backend is contacted; service, port and
    rule then name the location whose auto_redirect fired.
    """
    return {
        "host": m.host,
        "path": m.path,
        "service": m.service,
        "port": m.port,
        "rule": m.rule,
        "redirect": m.redirect,
    }
