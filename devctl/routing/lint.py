"""Provable routing mistakes, and concrete request paths that reach a given rule.

Lint only says what it can prove (ingress-nginx.md §5 semantics, as computed by devctl.routing):
- `shadowed`: in regex mode, an earlier location matches everything a later one could match, so
  the later one never wins. Proved with literal prefixes only: the earlier pattern must be
  `LITERAL` followed by nothing but empty-matching tails (`/?(.*)`, `(.*)`, `.*`), and the later
  pattern's guaranteed literal prefix must start with that LITERAL (ASCII case folded). Without
  regex mode NGINX takes the longest prefix, so no prefix location hides another.
- `api-fallthrough`: a concrete witness such as `/api/v1/unknown` matches no `/api/...` rule and
  is served by a catch-all backend instead of a 404.
- `admission`: a path the API server or ingress-nginx's admission webhook refuses (§4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from devctl.errors import UsageError
from devctl.routing.rules import (
    EXACT,
    HostRoutes,
    Location,
    compile_rule,
    find_location,
    nginx_uri,
)

_META = frozenset(".^$*+?()[]{}|\\")
# Tails that can match the empty string, so `LITERAL + tail` matches every string starting with LITERAL.
_EMPTY_TAIL = re.compile(r"(?:[^.^$*+?()\[\]{}|\\]\?)?(?:\(\.\*\)|\.\*)?")
# ingress-nginx >= 1.12 strict-validate-path-type (§4, internal/ingress/inspector/rules.go).
_STRICT_PATH = re.compile(r"^/[A-Za-z0-9._\-/]*$")


@dataclass(frozen=True)
class LintWarning:
    host: str
    kind: str  # "shadowed" | "api-fallthrough" | "admission"
    rule: str
    ingress: str | None
    message: str


def _fold(text: str) -> str:
    """PCRE's caseless matching without UTF mode folds ASCII letters only."""
    return text.encode("utf-8").lower().decode("utf-8")


def _has_top_level_alternation(pattern: str) -> bool:
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
        i += 1
    return False


def guaranteed_prefix(loc: Location) -> str:
    """A literal every URI this location matches starts with (ASCII case-insensitively in regex mode)."""
    if not loc.regex:
        return loc.path
    if _has_top_level_alternation(loc.path):
        return ""
    end = next((i for i, c in enumerate(loc.path) if c in _META), len(loc.path))
    literal = loc.path[:end]
    if end < len(loc.path) and loc.path[end] in "?*{":  # the last literal character may be absent
        literal = literal[:-1]
    return literal


def covering_prefix(loc: Location) -> str | None:
    """LITERAL when this regex location matches every URI starting with LITERAL, else None."""
    if not loc.regex:
        return None
    end = next((i for i, c in enumerate(loc.path) if c in _META), len(loc.path))
    literal, tail = loc.path[:end], loc.path[end:]
    if tail[:1] == "?" and literal:
        literal, tail = literal[:-1], literal[-1] + tail
    return literal if _EMPTY_TAIL.fullmatch(tail) else None


def _shadower(hr: HostRoutes, j: int) -> tuple[Location, str] | None:
    """An earlier location (and its covering literal) that matches everything location j could."""
    target = _fold(guaranteed_prefix(hr.locations[j]))
    for earlier in hr.locations[:j]:
        cover = covering_prefix(earlier)
        if cover is not None and target.startswith(_fold(cover)):
            return earlier, cover
    return None


def _shadowed(hr: HostRoutes) -> list[LintWarning]:
    if not hr.regex_mode:
        return []
    # One Ingress path can render as two locations (prefix expansion): it is dead only if both are.
    groups: dict[tuple[str | None, str], list[int]] = {}
    for j, loc in enumerate(hr.locations):
        if not loc.default_root:
            groups.setdefault((loc.ingress, loc.ingress_path), []).append(j)
    out: list[LintWarning] = []
    for indexes in groups.values():
        proofs = [_shadower(hr, j) for j in indexes]
        first = proofs[0]
        if first is None or any(p is None for p in proofs):
            continue
        later, (earlier, cover) = hr.locations[indexes[0]], first
        out.append(
            LintWarning(
                hr.host,
                "shadowed",
                later.ingress_path,
                later.ingress,
                f"{hr.host}: rule #{later.index} {later.path!r} ({later.backend}, {later.ingress}) can never "
                f"match: #{earlier.index} {earlier.path!r} ({earlier.backend}) is tried first and matches "
                f"every path starting with {cover!r}",
            )
        )
    return out


def _is_api(loc: Location) -> bool:
    prefix = _fold(guaranteed_prefix(loc)) if loc.regex else guaranteed_prefix(loc)
    return not loc.default_root and (prefix == "/api" or prefix.startswith("/api/"))


def _api_fallthrough(hr: HostRoutes) -> list[LintWarning]:
    api = [loc for loc in hr.locations if _is_api(loc)]
    dirs: list[str] = []
    for loc in api:
        prefix = guaranteed_prefix(loc)
        d = prefix[: prefix.rfind("/") + 1]
        if (_fold(d) if loc.regex else d).startswith("/api/") and d not in dirs:
            dirs.append(d)
    by_catch_all: dict[Location, list[str]] = {}
    for d in dirs:
        witness = d + "unknown"
        try:
            hit, redirect = find_location(hr, nginx_uri(witness))
        except UsageError:  # a literal NGINX would reject as a request (e.g. a stray %)
            continue
        if hit is not None and hit.service is not None and hit not in api and redirect is None:
            by_catch_all.setdefault(hit, []).append(witness)
    return [
        LintWarning(
            hr.host,
            "api-fallthrough",
            loc.path,
            loc.ingress,
            f"{hr.host}: API paths that match no API rule fall through to {loc.backend} via catch-all "
            f"#{loc.index} {loc.path!r} instead of a 404, e.g. {', '.join(witnesses)}",
        )
        for loc, witnesses in by_catch_all.items()
    ]


def _admission(hr: HostRoutes) -> list[LintWarning]:
    out: list[LintWarning] = []
    seen: set[tuple[str | None, str]] = set()
    for loc in hr.locations:
        key = (loc.ingress, loc.ingress_path)
        if loc.default_root or loc.expanded or key in seen:
            continue
        seen.add(key)
        if loc.declared_type is None:
            why = "has no pathType; the API server rejects it (pathType must be specified)"
        elif loc.declared_type in ("Exact", "Prefix") and not _STRICT_PATH.match(loc.ingress_path):
            why = (
                f"uses pathType {loc.declared_type} with characters ingress-nginx's admission webhook "
                "rejects (strict-validate-path-type); regex paths need ImplementationSpecific"
            )
        else:
            continue
        out.append(
            LintWarning(
                hr.host,
                "admission",
                loc.ingress_path,
                loc.ingress,
                f"{hr.host}: path {loc.ingress_path!r} of {loc.ingress} {why}",
            )
        )
    return out


def lint(routes: dict[str, HostRoutes]) -> list[LintWarning]:
    """Every provable problem, host by host (doctor and `devctl routes --lint` call this)."""
    out: list[LintWarning] = []
    for host in sorted(routes):
        hr = routes[host]
        out += _admission(hr) + _shadowed(hr) + _api_fallthrough(hr)
    return out


# --- sample request paths ------------------------------------------------------------------------


class _Unsupported(Exception):
    pass


class _Sampler:
    """Builds one string a (simple) regex matches: optional parts in or out, `.` as a filler."""

    def __init__(self, pattern: str, *, optional_in: bool) -> None:
        self.p, self.i, self.optional_in = pattern, 0, optional_in

    def peek(self) -> str:
        return self.p[self.i] if self.i < len(self.p) else ""

    def alternation(self) -> str:
        first = self.sequence()
        while self.peek() == "|":
            self.i += 1
            self.sequence()  # parsed, not used: the first alternative is enough
        return first

    def sequence(self) -> str:
        out = ""
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            out += self.quantified(atom)
        return out

    def quantified(self, atom: str) -> str:
        c = self.peek()
        if c in ("?", "*", "+"):
            self.i += 1
            times = 1 if c == "+" or self.optional_in else 0
        elif c == "{" and (m := re.match(r"\{(\d+)(,(\d*))?\}", self.p[self.i :])):
            self.i += m.end()
            low = int(m.group(1))
            times = low if low or not self.optional_in or m.group(3) == "0" else 1
        else:
            return atom
        if self.peek() in ("?", "+"):  # lazy or possessive: same strings
            self.i += 1
        return atom * times

    def atom(self) -> str:
        c = self.peek()
        self.i += 1
        if c == "\\":
            e = self.peek()
            self.i += 1
            known = {"d": "1", "w": "x", "D": "x", "W": "-", "b": "", "B": ""}
            if e in known:
                return known[e]
            if e.isalnum() or not e:
                raise _Unsupported(f"\\{e}")
            return e
        if c == ".":
            return "x"
        if c in ("^", "$"):
            return ""
        if c == "[":
            return self.char_class()
        if c == "(":
            return self.group()
        if c in ("*", "+", "?", "{", "]", "}"):
            raise _Unsupported(c)
        return c

    def char_class(self) -> str:
        end = self.p.find("]", self.i + 1)
        if end < 0 or self.peek() == "^":
            raise _Unsupported("character class")
        body, self.i = self.p[self.i : end], end + 1
        if body.startswith("\\"):
            return {"d": "1", "w": "x"}.get(body[1:2], body[1:2]) or "x"
        return body[0]

    def group(self) -> str:
        if self.p.startswith("?", self.i):
            m = re.match(r"\?(:|P?<[A-Za-z_]\w*>|[a-zA-Z]+\))", self.p[self.i :])
            if m is None:
                raise _Unsupported("lookaround")
            self.i += m.end()
            if m.group(1).endswith(")") and m.group(1) != ":":  # inline flags such as (?i)
                return ""
        inner = self.alternation()
        if self.peek() != ")":
            raise _Unsupported("unbalanced group")
        self.i += 1
        return inner


def _candidates(rule: str) -> list[str]:
    out: list[str] = []
    for optional_in in (True, False):
        try:
            sampler = _Sampler(rule, optional_in=optional_in)
            text = sampler.alternation()
            if sampler.i == len(rule) and text not in out:
                out.append(text)
        except _Unsupported:
            continue
    return out


def _routes_to(hr: HostRoutes, target: Location, sample: str) -> bool:
    try:
        loc, redirect = find_location(hr, nginx_uri(sample))
    except UsageError:
        return False
    return loc is target and redirect is None


def sample_path(rule: str, routes: HostRoutes | None = None) -> str | None:
    """A request path that `rule` matches, or None when none can be derived.

    Without `routes`, the rule is read as a regex-mode location (`~* "^rule"`). With `routes`, the
    sample must reach the first location of that path through the full location list.
    """
    if routes is None:
        for sample in _candidates(rule):
            try:
                if sample.startswith("/") and compile_rule(rule).match(nginx_uri(sample)):
                    return sample
            except (UsageError, re.error):
                return None
        return None
    target = next((loc for loc in routes.locations if loc.path == rule), None)
    if target is None:
        return None
    options = _candidates(rule) if routes.regex_mode else [rule, rule + ("x" if target.path_type != EXACT else "")]
    return next((s for s in options if s.startswith("/") and _routes_to(routes, target, s)), None)


def route_samples(hr: HostRoutes) -> list[tuple[Location, str | None]]:
    """Each rule an Ingress wrote (not the default root nor expansion copies) with a sample path."""
    return [(loc, sample_path(loc.path, hr)) for loc in hr.locations if not loc.default_root and not loc.expanded]
