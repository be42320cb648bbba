"""devctl.routing: where ingress-nginx sends a request (ingress-nginx.md §5, worked example §7)."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devctl.errors import UsageError
from devctl.routing.lint import lint, sample_path
from devctl.routing.rules import HostRoutes, build_routes, load_ingresses, match, normalize
from tests.conftest import SECTION7_REQUESTS
from tests.stack_facts import TOUR_INGRESS_PATHS

REPO_K8S = Path(__file__).resolve().parents[2] / "k8s"
USE_REGEX = {"nginx.ingress.kubernetes.io/use-regex": "true"}


# ingress-nginx.md §7, "Rendered order" table, copied by hand.
REFERENCE_ORDER = [
    ("/api/v1/tours/?(.*)/bookings", "booking"),
    ("/api/v1/admin/bookings/?(.*)", "booking"),
    ("/api/v1/tours/?(.*)/reviews", "review"),
    ("/api/v1/admin/reviews/?(.*)", "review"),
    ("/api/v1/admin/users/?(.*)", "auth"),
    ("/api/v1/admin/tours/?(.*)", "tour"),
    ("/api/v1/payments/?(.*)", "payment"),
    ("/api/v1/bookings/?(.*)", "booking"),
    ("/api/v1/reviews/?(.*)", "review"),
    ("/api/v1/oauth2/?(.*)", "auth"),
    ("/api/v1/users/?(.*)", "auth"),
    ("/api/v1/tours/?(.*)", "tour"),
    ("/api/v1/auth/?(.*)", "auth"),
    ("/?(.*)", "client"),
]


# --- building manifests ---------------------------------------------------------------------------


def path(p: str, service: str, ptype: str | None = "ImplementationSpecific", port: Any = 3000) -> dict[str, Any]:
    item: dict[str, Any] = {"path": p, "backend": {"service": {"name": service, "port": {"number": port}}}}
    if ptype is not None:
        item["pathType"] = ptype
    return item


def ingress(
    name: str,
    paths: list[dict[str, Any]],
    *,
    host: str | None = "tour.xyz",
    namespace: str | None = None,
    annotations: dict[str, str] | None = None,
    created: str | None = None,
    class_name: str | None = "nginx",
    default_backend: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = annotations
    if created:
        meta["creationTimestamp"] = created
    rule: dict[str, Any] = {"http": {"paths": paths}}
    if host is not None:
        rule["host"] = host
    spec: dict[str, Any] = {"rules": [rule] if paths or host else []}
    if class_name:
        spec["ingressClassName"] = class_name
    if default_backend:
        spec["defaultBackend"] = {"service": {"name": default_backend, "port": {"number": 80}}}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}


def tour_ingress() -> dict[str, Any]:
    return ingress("tour-ingress", [path(p, s) for p, s in TOUR_INGRESS_PATHS], annotations=USE_REGEX)


def write(directory: Path, *docs: dict[str, Any], name: str = "ingress.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return directory


def routes_of(directory: Path, *docs: dict[str, Any]) -> dict[str, HostRoutes]:
    return build_routes(load_ingresses(write(directory, *docs)))


def backend(routes: dict[str, HostRoutes], request: str, host: str = "tour.xyz") -> str | None:
    return match(routes, host, request).service


@pytest.fixture
def tour(tmp_path: Path) -> dict[str, HostRoutes]:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "auth"}, "spec": {"ports": [{"port": 3000}]}}
    return routes_of(tmp_path / "k8s", service, tour_ingress())


# --- the tour Ingress -----------------------------------------------------------------------------


def test_tour_locations_follow_the_reference_order_not_the_yaml_order(tour: dict[str, HostRoutes]) -> None:
    hr = tour["tour.xyz"]
    assert hr.regex_mode
    rules = [(loc.path, loc.service) for loc in hr.locations if not loc.default_root]
    assert rules == REFERENCE_ORDER
    root = hr.locations[-1]
    assert root.default_root and root.path == "/" and root.service is None and root.index == 15
    assert all(loc.port == 3000 for loc in hr.locations[:-1])
    assert hr.locations[0].rendered == '~* "^/api/v1/tours/?(.*)/bookings"'


TOUR_REQUESTS = [
    *SECTION7_REQUESTS,
    # more, each derived by hand from the same rules
    ("/api/v1/auth", "auth"),
    ("/api/v1/auth/signup", "auth"),
    ("/api/v1/authx", "auth"),  # no `$`, no segment boundary
    ("/api/v1/oauth2/callback?code=1", "auth"),
    ("/api/v1/usersettings", "auth"),
    ("/api/v1/admin/users/7", "auth"),
    ("/api/v1/admin/bookings", "booking"),
    ("/api/v1/bookings/3", "booking"),
    ("/api/v1/tours/1/bookingsfoo", "booking"),
    ("/api/v1/admin/tours/1/bookings", "tour"),  # #1 needs /api/v1/tours at the start
    ("/api/v1/payments", "payment"),
    ("/api/v1/payments/intent/9", "payment"),
    ("/api/v1/reviews/5", "review"),
    ("/api/v1/admin/reviews/5", "review"),
    ("/Api/V1/Tours/1/Reviews", "review"),
    ("/api/v1/tourists", "client"),  # "touri" is not "tours"
    ("/api/v1/admin", "client"),
    ("/api/v1/admin/unknown", "client"),
    ("/api/v2/tours", "client"),
    ("/api/v1/tours%2F42%2Freviews", "review"),  # a decoded slash is a slash
    ("/api/v1/%74ours/1", "tour"),
    ("/api/v1/tours/./42/./reviews", "review"),
    ("/api/v1/reviews/../bookings/1", "booking"),
    ("/static/../api/v1/payments/x", "payment"),
    ("/api/v1/tours/42/reviews#top", "review"),
]


@pytest.mark.parametrize(("request_path", "expected"), TOUR_REQUESTS)
def test_tour_request_reaches_the_expected_backend(
    tour: dict[str, HostRoutes], request_path: str, expected: str
) -> None:
    m = match(tour, "tour.xyz", request_path)
    assert m.service == expected
    assert m.port == 3000 and m.redirect is None and m.rule is not None


def test_a_match_names_the_rule_and_the_normalised_path(tour: dict[str, HostRoutes]) -> None:
    m = match(tour, "tour.xyz", "/api/v1//x/../tours/42/reviews?page=2")
    assert m.rule == "/api/v1/tours/?(.*)/reviews"
    assert m.normalized_path == "/api/v1/tours/42/reviews"
    assert m.path == "/api/v1//x/../tours/42/reviews?page=2"
    assert m.location is not None and m.location.index == 3 and m.server == "tour.xyz"


@pytest.mark.parametrize("host", ["tour.xyz", "TOUR.xyz", "tour.xyz:80", "tour.xyz."])
def test_host_header_case_port_and_trailing_dot_do_not_matter(tour: dict[str, HostRoutes], host: str) -> None:
    assert backend(tour, "/api/v1/tours/1", host) == "tour"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "www.tour.xyz", "xyz"])
def test_unknown_host_gets_the_default_backend_404(tour: dict[str, HostRoutes], host: str) -> None:
    m = match(tour, host, "/api/v1/tours/1")
    assert m.service is None and m.port is None and m.rule is None and m.server == "_"


def test_repo_ingress_renders_the_reference_order() -> None:
    found = [i for i in load_ingresses(REPO_K8S) if i.name == "tour-ingress"] if REPO_K8S.is_dir() else []
    if not found:
        pytest.skip("k8s/ has no Ingress named tour-ingress yet (another engineer is writing k8s/ingress.yaml)")
    hr = build_routes(found)["tour.xyz"]
    assert [loc.path for loc in hr.locations if not loc.default_root] == [p for p, _ in REFERENCE_ORDER]
    assert [loc.service for loc in hr.locations if not loc.default_root] == [s for _, s in REFERENCE_ORDER]
    assert backend(build_routes(found), "/api/v1/unknown") == "client"


# --- synthetic Ingress sets -----------------------------------------------------------------------


@pytest.mark.parametrize("declared", [["/x/a.*", "/x/ab*"], ["/x/ab*", "/x/a.*"]])
def test_equal_lengths_are_tried_in_reverse_byte_order(tmp_path: Path, declared: list[str]) -> None:
    names = {"/x/a.*": "dot", "/x/ab*": "star"}
    routes = routes_of(tmp_path, ingress("i", [path(p, names[p]) for p in declared], annotations=USE_REGEX))
    assert [loc.path for loc in routes["tour.xyz"].locations][:2] == ["/x/ab*", "/x/a.*"]  # 'b' > '.'
    assert backend(routes, "/x/abc") == "star"
    assert backend(routes, "/x/a") == "star"  # `ab*` also matches a lone a
    assert backend(routes, "/x/q") is None


def test_prefix_ties_and_expansion_order_in_prefix_mode(tmp_path: Path) -> None:
    routes = routes_of(tmp_path, ingress("i", [path("/aa", "a", "Prefix"), path("/bb", "b", "Prefix")]))
    hr = routes["tour.xyz"]
    assert not hr.regex_mode
    assert [(loc.path, loc.path_type, loc.expanded) for loc in hr.locations] == [
        ("/bb/", "Prefix", False), ("/bb", "Exact", True),
        ("/aa/", "Prefix", False), ("/aa", "Exact", True),
        ("/", "Prefix", False),
    ]


def test_oldest_ingress_wins_a_duplicate_path_whatever_the_file_order(tmp_path: Path) -> None:
    young = ingress("a-young", [path("/shared", "young", "Prefix")], created="2025-02-01T00:00:00Z")
    old = ingress("z-old", [path("/shared", "old", "Prefix")], created="2025-01-01T00:00:00Z")
    for docs in ((young, old), (old, young)):
        routes = routes_of(tmp_path / str(id(docs)), *docs)
        assert backend(routes, "/shared/x") == "old"
        assert routes["tour.xyz"].ingresses == ("default/z-old", "default/a-young")


def test_equal_timestamps_order_by_namespace_and_name_descending(tmp_path: Path) -> None:
    same = "2025-01-01T00:00:00Z"
    docs = [
        ingress("a", [path("/p", "from-a", "Prefix")], created=same),
        ingress("b", [path("/p", "from-b", "Prefix")], created=same),
        ingress("z", [path("/p", "from-dev-z", "Prefix")], namespace="dev", created=same),
    ]
    routes = routes_of(tmp_path, *docs)
    # "default/b" > "default/a" > "dev/z" is false: "dev/z" > "default/b" ('v' > 'f').
    assert backend(routes, "/p") == "from-dev-z"
    assert routes["tour.xyz"].ingresses == ("dev/z", "default/b", "default/a")


def test_manifests_without_timestamps_tie_and_come_after_timestamped_ones(tmp_path: Path) -> None:
    docs = [
        ingress("b", [path("/p", "from-b", "Prefix")]),
        ingress("c", [path("/p", "from-c", "Prefix")]),
        ingress("a", [path("/p", "from-a", "Prefix")], created="2025-01-01T00:00:00Z"),
    ]
    routes = routes_of(tmp_path, *docs)
    assert routes["tour.xyz"].ingresses == ("default/a", "default/c", "default/b")
    assert backend(routes, "/p/q") == "from-a"


def test_same_path_with_another_type_is_kept(tmp_path: Path) -> None:
    routes = routes_of(
        tmp_path,
        ingress("a", [path("/foo", "exact-svc", "Exact")], created="2025-01-01T00:00:00Z"),
        ingress("b", [path("/foo", "prefix-svc", "Prefix")], created="2025-01-02T00:00:00Z"),
    )
    assert backend(routes, "/foo") == "exact-svc"
    assert backend(routes, "/foo/bar") == "prefix-svc"
    # An Exact /foo exists, so expansion adds no copy.
    assert [loc.path for loc in routes["tour.xyz"].locations].count("/foo") == 1


def test_merged_paths_from_several_ingresses_sort_together(tmp_path: Path) -> None:
    routes = routes_of(
        tmp_path,
        ingress("api", [path("/api/v1/tours/?(.*)", "tour")], annotations=USE_REGEX),
        ingress("web", [path("/?(.*)", "client")]),
        ingress("pay", [path("/api/v1/payments/?(.*)", "payment")]),
    )
    hr = routes["tour.xyz"]
    assert hr.regex_mode  # one Ingress's use-regex switches the paths of all three
    # Sorted together; then only the Ingresses without use-regex get prefix expansion (§5 step 5).
    assert [(loc.path, loc.ingress) for loc in hr.locations] == [
        ("/api/v1/payments/?(.*)/", "default/pay"), ("/api/v1/payments/?(.*)", "default/pay"),
        ("/api/v1/tours/?(.*)", "default/api"),
        ("/?(.*)/", "default/web"), ("/?(.*)", "default/web"),
        ("/", None),
    ]
    assert backend(routes, "/API/v1/payments") == "payment"
    assert backend(routes, "/api/v1/tours/1") == "tour"


PREFIX_MODE = [
    # (request, service, redirect)
    ("/foo", "foo", None),
    ("/foo/", "foo", None),
    ("/foo/bar", "foo", None),
    ("/foobar", None, None),  # element-wise: /foo does not cover /foobar
    ("/FOO", None, None),  # case-sensitive without regex mode
    ("/bar", "bar", None),
    ("/bar/", None, None),  # Exact is exact
    ("/bar/x", None, None),
    ("/docs", "docs", "/docs/"),  # auto_redirect: Prefix /docs/ has no Exact /docs
    ("/docs/", "docs", None),
    ("/docs/a", "docs", None),
    ("/slash", "slash", "/slash/"),  # an Exact location ending in / redirects too
    ("/slash/", "slash", None),
    ("/a/b/c", "ab", None),  # longest prefix
    ("/a/bc", "a", None),
    ("/a/b", "ab", None),
    ("/a", "a", None),
    ("/", None, None),
    ("/nothing", None, None),
]


@pytest.mark.parametrize(("request_path", "service", "redirect"), PREFIX_MODE)
def test_exact_and_prefix_follow_nginx_rules_without_regex(
    tmp_path: Path, request_path: str, service: str | None, redirect: str | None
) -> None:
    routes = routes_of(
        tmp_path,
        ingress("i", [
            path("/foo", "foo", "Prefix"), path("/bar", "bar", "Exact"), path("/docs/", "docs", "Prefix"),
            path("/slash/", "slash", "Exact"), path("/a", "a", "Prefix"), path("/a/b", "ab", "Prefix"),
        ]),
    )
    assert not routes["tour.xyz"].regex_mode
    m = match(routes, "tour.xyz", request_path)
    assert (m.service, m.redirect) == (service, redirect)


def test_missing_path_type_and_empty_path_mean_prefix_root(tmp_path: Path) -> None:
    routes = routes_of(tmp_path, ingress("i", [path("", "web", None)]))
    hr = routes["tour.xyz"]
    assert [(loc.path, loc.path_type, loc.default_root) for loc in hr.locations] == [("/", "Prefix", False)]
    assert backend(routes, "/anything/at/all") == "web"
    assert match(routes, "tour.xyz", "/x").rule == "/"


def test_regex_looking_paths_are_literal_without_regex_mode(tmp_path: Path) -> None:
    routes = routes_of(tmp_path, ingress("i", [path(p, s) for p, s in TOUR_INGRESS_PATHS]))  # no use-regex
    assert not routes["tour.xyz"].regex_mode
    assert backend(routes, "/api/v1/tours/1") is None
    assert backend(routes, "/") is None
    assert backend(routes, "/api/v1/tours/%3F(.*)") == "tour"  # only the literal string (? encoded)


def test_rewrite_target_turns_on_regex_mode_for_the_whole_host(tmp_path: Path) -> None:
    # ingress-nginx.md §5 pitfalls, e2e rewrite.go: renders ^/foo.+, ^/foo/, ^/foo.
    routes = routes_of(
        tmp_path,
        ingress("plain", [path("/foo", "plain", "Prefix")]),
        ingress("rw", [path("/foo.+", "regex")], annotations={"nginx.ingress.kubernetes.io/rewrite-target": "/$1"}),
        ingress("other-host", [path("/foo", "plain", "Prefix")], host="other.xyz"),
    )
    hr = routes["tour.xyz"]
    assert hr.regex_mode
    assert [loc.rendered for loc in hr.locations] == ['~* "^/foo.+"', '~* "^/foo/"', '~* "^/foo"', '~* "^/"']
    assert backend(routes, "/foo") == "plain"
    assert backend(routes, "/foo/bar") == "regex"
    assert backend(routes, "/foo/") == "regex"
    assert backend(routes, "/FOOBAR") == "regex"
    assert backend(routes, "/Foo") == "plain"  # case-insensitive now
    # Regex mode is per host: the other host keeps prefix semantics.
    assert not routes["other.xyz"].regex_mode
    assert backend(routes, "/Foo", "other.xyz") is None


def test_rewrite_target_equal_to_the_path_changes_nothing(tmp_path: Path) -> None:
    routes = routes_of(
        tmp_path,
        ingress("i", [path("/", "web", "Prefix")], annotations={"nginx.ingress.kubernetes.io/rewrite-target": "/"}),
    )
    assert not routes["tour.xyz"].regex_mode


def test_regex_mode_takes_exactness_away_from_exact_paths(tmp_path: Path) -> None:
    routes = routes_of(
        tmp_path,
        ingress("a", [path("/HEAD", "head", "Exact")]),
        ingress("b", [path("/u[A-Z]", "upper")], annotations=USE_REGEX),
    )
    assert backend(routes, "/headers") == "head"  # blog: Exact /HEAD renders ~* "^/HEAD"
    assert backend(routes, "/uuid") == "upper"  # blog §1: /u[A-Z] matches /uuid


def test_a_longer_regex_beats_a_more_specific_prefix(tmp_path: Path) -> None:
    routes = routes_of(
        tmp_path,
        ingress("a", [path("/foo/bar/bar", "prefix", "Prefix")]),
        ingress("b", [path("/foo/bar/[A-Z0-9]{3}", "regex")], annotations=USE_REGEX),
    )
    assert backend(routes, "/foo/bar/bar") == "regex"  # docs warning: 20 characters before 12


def test_an_ingress_defining_root_replaces_the_default_root(tmp_path: Path) -> None:
    routes = routes_of(tmp_path, ingress("i", [path("/", "web", "Prefix"), path("/api", "api", "Prefix")]))
    hr = routes["tour.xyz"]
    assert not any(loc.service is None for loc in hr.locations)
    assert backend(routes, "/anything") == "web"
    assert backend(routes, "/api/x") == "api"


def test_wildcard_hosts_match_exactly_one_label(tmp_path: Path) -> None:
    routes = routes_of(
        tmp_path,
        ingress("wild", [path("/", "wild", "Prefix")], host="*.tour.xyz"),
        ingress("exact", [path("/", "exact", "Prefix")], host="api.tour.xyz"),
    )
    assert backend(routes, "/", "web.tour.xyz") == "wild"
    assert backend(routes, "/", "api.tour.xyz") == "exact"
    assert backend(routes, "/", "a.b.tour.xyz") is None
    assert backend(routes, "/", "tour.xyz") is None


def test_hostless_rules_and_default_backends_serve_unknown_hosts(tmp_path: Path) -> None:
    routes = routes_of(tmp_path, ingress("any", [path("/api", "api", "Prefix")], host=None))
    assert backend(routes, "/api/x", "whatever.example") == "api"
    assert backend(routes, "/other", "whatever.example") is None

    routes = routes_of(tmp_path / "b", ingress("fallback", [], host=None, default_backend="fallback"))
    m = match(routes, "whatever.example", "/x")
    assert (m.service, m.rule) == ("fallback", None)


def test_an_ingress_default_backend_answers_unmatched_paths_of_its_hosts(tmp_path: Path) -> None:
    routes = routes_of(tmp_path, ingress("i", [path("/api", "api", "Prefix")], default_backend="spa"))
    m = match(routes, "tour.xyz", "/index.html")
    assert (m.service, m.rule) == ("spa", None)
    assert backend(routes, "/api") == "api"
    assert backend(routes, "/x", "unknown.example") is None  # it has rules, so not the catch-all


@pytest.mark.parametrize(
    ("class_name", "legacy", "served"),
    [("nginx", None, True), ("cloud-provider-kind", None, False), (None, None, True),
     (None, "nginx", True), (None, "traefik", False), ("nginx", "traefik", True)],
)
def test_only_ingresses_for_the_nginx_class_count(
    tmp_path: Path, class_name: str | None, legacy: str | None, served: bool
) -> None:
    doc = ingress("i", [path("/p", "svc", "Prefix")], class_name=class_name,
                  annotations={"kubernetes.io/ingress.class": legacy} if legacy else None)
    assert (backend(routes_of(tmp_path, doc), "/p") == "svc") is served


def test_canary_ingresses_create_no_locations(tmp_path: Path) -> None:
    routes = routes_of(
        tmp_path,
        ingress("main", [path("/p", "main", "Prefix")]),
        ingress("canary", [path("/p", "canary", "Prefix"), path("/only-canary", "canary", "Prefix")],
                annotations={"nginx.ingress.kubernetes.io/canary": "true"}),
    )
    assert backend(routes, "/p") == "main"
    assert backend(routes, "/only-canary") is None


def test_named_ports_are_kept(tmp_path: Path) -> None:
    doc = ingress("i", [{"path": "/p", "pathType": "Prefix",
                         "backend": {"service": {"name": "svc", "port": {"name": "http"}}}}])
    assert match(routes_of(tmp_path, doc), "tour.xyz", "/p").port == "http"


def test_an_invalid_regex_is_a_usage_error_naming_the_ingress(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"default/bad.*not a valid regular expression"):
        routes_of(tmp_path, ingress("bad", [path("/x(", "svc")], annotations=USE_REGEX))


# --- normalisation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("/", "/"), ("//", "/"), ("/a//b", "/a/b"), ("/a/./b", "/a/b"), ("/a/b/../c", "/a/c"),
        ("/a/b/..", "/a/"), ("/a/.", "/a/"), ("/a/", "/a/"), ("/a?x=1&y=/../", "/a"), ("/a#frag", "/a"),
        ("/a%2Fb", "/a/b"), ("/a/%2e%2E/b", "/b"), ("/%7Euser", "/~user"), ("/a%3Fb", "/a?b"),
        ("/a%25b", "/a%b"), ("/a%252e", "/a%2e"), ("/caf%C3%A9", "/café"), ("/ip/abc/../../uuid", "/uuid"),
        ("/...", "/..."), ("/.hidden", "/.hidden"),
    ],
)
def test_request_paths_are_normalised_like_nginx(raw: str, normalised: str) -> None:
    assert normalize(raw) == normalised


@pytest.mark.parametrize("raw", ["/..", "/a/../..", "/%2e%2e/x", "/%zz", "/a%2", "/%00", "no-slash"])
def test_paths_nginx_rejects_are_usage_errors(raw: str) -> None:
    with pytest.raises(UsageError):
        normalize(raw)


# --- manifests ------------------------------------------------------------------------------------


def test_non_ingress_documents_and_lists_are_handled(tmp_path: Path) -> None:
    lst = {"apiVersion": "v1", "kind": "List", "items": [ingress("in-list", [path("/l", "listed", "Prefix")])]}
    write(tmp_path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, lst)
    (tmp_path / "notes.txt").write_text("not: [yaml")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", ingress("nested", [path("/n", "nested", "Prefix")]), name="more.yml")
    names = sorted(i.name for i in load_ingresses(tmp_path))
    assert names == ["in-list", "nested"]


def test_malformed_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text("kind: ConfigMap\n")
    (tmp_path / "broken.yaml").write_text("kind: Ingress\nmetadata:\n  name: [x\n")
    with pytest.raises(UsageError) as err:
        load_ingresses(tmp_path)
    assert "broken.yaml" in err.value.message and re.search(r"line \d+", err.value.message)
    assert "\n" not in err.value.message


def test_unreadable_inputs_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_ingresses(tmp_path / "missing")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nowhere")
    with pytest.raises(UsageError, match=r"cannot read .*dangling\.yaml"):
        load_ingresses(tmp_path)


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (lambda d: d.__setitem__("apiVersion", "extensions/v1beta1"), "apiVersion"),
        (lambda d: d["metadata"].__setitem__("annotations", {"nginx.ingress.kubernetes.io/use-regex": True}),
         "must be a string"),
        (lambda d: d["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].pop("port"), "port"),
        (lambda d: d["spec"]["rules"][0]["http"]["paths"][0].__setitem__("pathType", "Regex"), "pathType"),
        (lambda d: d["metadata"].pop("name"), "metadata.name"),
    ],
)
def test_ingresses_the_api_server_would_refuse_are_usage_errors(tmp_path: Path, mutate: Any, complaint: str) -> None:
    doc = ingress("i", [path("/p", "svc", "Prefix")])
    mutate(doc)
    with pytest.raises(UsageError, match=complaint):
        routes_of(tmp_path, doc)


# --- lint -----------------------------------------------------------------------------------------


def test_lint_reports_the_api_fall_through_of_the_tour_ingress(tour: dict[str, HostRoutes]) -> None:
    warnings = lint(tour)
    assert [w.kind for w in warnings] == ["api-fallthrough"]
    assert "/api/v1/unknown" in warnings[0].message and "client:3000" in warnings[0].message
    assert warnings[0].rule == "/?(.*)"


def test_lint_is_silent_when_unknown_api_paths_get_a_404(tmp_path: Path) -> None:
    rules = [path(p, s) for p, s in TOUR_INGRESS_PATHS if p != "/?(.*)"]
    assert lint(routes_of(tmp_path, ingress("i", rules, annotations=USE_REGEX))) == []


def test_lint_is_silent_when_an_api_catch_all_exists(tmp_path: Path) -> None:
    rules = [path(p, s) for p, s in TOUR_INGRESS_PATHS] + [path("/api/?(.*)", "api-404")]
    assert lint(routes_of(tmp_path, ingress("i", rules, annotations=USE_REGEX))) == []


def test_an_api_catch_all_one_level_down_still_leaves_api_paths_to_the_client(tmp_path: Path) -> None:
    rules = [path(p, s) for p, s in TOUR_INGRESS_PATHS] + [path("/api/v1/?(.*)", "api-404")]
    routes = routes_of(tmp_path, ingress("i", rules, annotations=USE_REGEX))
    warnings = lint(routes)
    assert [w.kind for w in warnings] == ["api-fallthrough"]
    assert "/api/unknown" in warnings[0].message and "/api/v1/unknown" not in warnings[0].message
    assert backend(routes, "/api/unknown") == "client"


def test_lint_proves_a_rule_shadowed_by_a_longer_literal_prefix(tmp_path: Path) -> None:
    routes = routes_of(
        tmp_path,
        ingress("i", [path("/API/V1/TOURS/?(.*)", "tour"), path("/api/v1/tours/42", "special"),
                      path("/api/v1/tours/?(.*)/reviews", "review")], annotations=USE_REGEX),
    )
    shadowed = [w for w in lint(routes) if w.kind == "shadowed"]
    assert [w.rule for w in shadowed] == ["/api/v1/tours/42"]
    assert backend(routes, "/api/v1/tours/42") == "tour"  # the claim holds
    # /api/v1/tours/?(.*)/reviews is longer, so it is tried first and not shadowed.
    assert backend(routes, "/api/v1/tours/1/reviews") == "review"


def test_lint_does_not_claim_shadowing_it_cannot_prove(tmp_path: Path) -> None:
    routes = routes_of(
        tmp_path,
        ingress("i", [path("/api/v1/tours/[0-9]+", "numeric"), path("/api/v1/tours/x", "x"),
                      path("/api/v1/t", "t"), path("/api/v1/users/?(.*)", "users"), path("/api/v1/users/5|/o", "alt")],
                annotations=USE_REGEX),
    )
    assert [w for w in lint(routes) if w.kind == "shadowed"] == []
    # Each rule is reachable, so a warning would have been false.
    assert backend(routes, "/api/v1/tours/7") == "numeric"
    assert backend(routes, "/api/v1/tours/x") == "x"
    assert backend(routes, "/api/v1/tea") == "t"
    assert backend(routes, "/o") == "alt"  # top-level alternation: no literal prefix to reason with


def test_lint_only_calls_a_rule_dead_when_all_its_locations_are(tmp_path: Path) -> None:
    routes = routes_of(
        tmp_path,
        ingress("a", [path("/foo/(.*)", "wide")], annotations=USE_REGEX),
        ingress("b", [path("/foo", "plain", "Prefix")]),  # renders ^/foo/ (covered) and ^/foo (not)
        ingress("c", [path("/bar", "gone", "Prefix")]),  # renders ^/bar/ and ^/bar, both covered
        ingress("d", [path("/b/?(.*)", "cover")], annotations=USE_REGEX),
    )
    hr = routes["tour.xyz"]
    assert [loc.path for loc in hr.locations] == ["/foo/(.*)", "/b/?(.*)", "/foo/", "/foo", "/bar/", "/bar", "/"]
    assert [(w.rule, w.ingress) for w in lint(routes) if w.kind == "shadowed"] == [("/bar", "default/c")]
    assert backend(routes, "/foo") == "plain" and backend(routes, "/foo/x") == "wide"
    assert {backend(routes, p) for p in ("/bar", "/bar/", "/bar/x", "/BAR")} == {"cover"}


def test_lint_finds_the_fall_through_in_prefix_mode_too(tmp_path: Path) -> None:
    routes = routes_of(tmp_path, ingress("i", [path("/api/v1/tours", "tour", "Prefix"), path("/", "web", "Prefix")]))
    [warning] = lint(routes)
    assert warning.kind == "api-fallthrough" and "/api/v1/unknown" in warning.message and "web:3000" in warning.message


def test_lint_warns_about_paths_admission_would_refuse(tmp_path: Path) -> None:
    routes = routes_of(tmp_path, ingress("i", [path("/ok", "a", "Prefix"), path("/re/[a-z]+", "b", "Prefix"),
                                               path("/none", "c", None)]))
    assert sorted(w.rule for w in lint(routes) if w.kind == "admission") == ["/none", "/re/[a-z]+"]


# --- sample paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "service"), TOUR_INGRESS_PATHS)
def test_every_tour_rule_has_a_sample_that_reaches_it(
    tour: dict[str, HostRoutes], rule: str, service: str
) -> None:
    sample = sample_path(rule, tour["tour.xyz"])
    assert sample is not None
    m = match(tour, "tour.xyz", sample)
    assert (m.rule, m.service) == (rule, service)


@pytest.mark.parametrize(
    ("rule", "sample"),
    [("/?(.*)", "/x"), ("/api/v1/tours/?(.*)/reviews", "/api/v1/tours/x/reviews"), ("/u[A-Z]", "/uA"),
     ("/a/(?:b|c)+", "/a/b"), ("/foo/bar/[A-Z0-9]{3}", "/foo/bar/AAA"), ("/plain", "/plain")],
)
def test_sample_path_of_a_single_rule(rule: str, sample: str) -> None:
    assert sample_path(rule) == sample


def test_sample_path_reports_when_it_cannot_produce_one(tmp_path: Path) -> None:
    assert sample_path("/a(?=b)") is None  # lookahead: not derived
    routes = routes_of(tmp_path, ingress("i", [path("/api/?(.*)", "api"), path("/api/x", "x")], annotations=USE_REGEX))
    assert sample_path("/api/x", routes["tour.xyz"]) is None  # shadowed: nothing reaches it
    assert sample_path("/not-a-rule", routes["tour.xyz"]) is None


def test_sample_paths_in_prefix_mode_avoid_the_exact_copy_and_redirects(tmp_path: Path) -> None:
    routes = routes_of(tmp_path, ingress("i", [path("/docs/", "docs", "Prefix"), path("/e", "e", "Exact")]))
    hr = routes["tour.xyz"]
    prefix = next(loc for loc in hr.locations if loc.path == "/docs/" and loc.path_type == "Prefix")
    sample = sample_path("/docs/", hr)
    assert sample == "/docs/x" and match(routes, "tour.xyz", sample).location is prefix
    assert sample_path("/e", hr) == "/e"


# --- properties -----------------------------------------------------------------------------------

SEGMENTS = ["api", "API", "v1", "V1", "tours", "TOURS", "42", "reviews", "Reviews", "bookings", "admin", "users",
            "auth", "oauth2", "payments", "x", "", ".", "..", "%2F", "%2e%2E", "%74ours", "toursfoo", "a%3Fb"]
request_paths = st.builds(
    lambda segs, tail: "/" + "/".join(segs) + tail,
    st.lists(st.sampled_from(SEGMENTS), max_size=7),
    st.sampled_from(["", "/", "?q=1", "?next=/api/v1/auth", "#x"]),
)


def reference_backend(request: str) -> str | UsageError | None:
    """An independent evaluation: decode, resolve, then walk REFERENCE_ORDER with bytes regexes."""
    raw = request.split("?", 1)[0].split("#", 1)[0]
    uri = urllib.parse.unquote_to_bytes(raw)
    while True:
        uri, merged = re.subn(rb"//+", b"/", uri)
        uri, dots = re.subn(rb"/\.(/|$)", b"/", uri)
        uri, ups = re.subn(rb"/(?!\.\.?(?:/|$))[^/]+/\.\.(/|$)", b"/", uri, count=1)
        if not (merged or dots or ups):
            break
    if re.match(rb"/\.\.(/|$)", uri):
        return UsageError("400")
    for pattern, service in REFERENCE_ORDER:
        if re.match(b"^" + pattern.encode(), uri, re.IGNORECASE):
            return service
    return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=request_paths)
def test_match_agrees_with_an_independent_walk_of_the_sorted_list(
    tour: dict[str, HostRoutes], request: str
) -> None:
    expected = reference_backend(request)
    if isinstance(expected, UsageError):
        with pytest.raises(UsageError):
            match(tour, "tour.xyz", request)
    else:
        assert match(tour, "tour.xyz", request).service == expected


@settings(max_examples=60, deadline=None)
@given(paths=st.lists(st.from_regex(r"/[a-c/.*?()]{0,8}", fullmatch=True), min_size=1, max_size=8, unique=True))
def test_regex_locations_are_ordered_longest_first_then_reverse_bytes(paths: list[str]) -> None:
    from devctl.routing.rules import Backend, Ingress, IngressPath, IngressRule

    usable = [p for p in paths if p != "/" and _compiles(p)]
    ing = Ingress("default", "i", annotations=tuple(USE_REGEX.items()),
                  rules=(IngressRule("h", tuple(IngressPath(p, "ImplementationSpecific", Backend("s", 1))
                                                for p in usable)),))
    got = [loc.path for loc in build_routes([ing])["h"].locations if not loc.default_root]
    assert got == sorted(usable, key=lambda p: (len(p.encode()), p.encode()), reverse=True)


def _compiles(p: str) -> bool:
    try:
        re.compile(p)
    except re.error:
        return False
    return True
