"""devctl.cluster.plan: pure decisions from (wanted spec, what was observed), as tables."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devctl.cluster.observe import NodeState, Observed, RegistryState
from devctl.cluster.plan import ClusterPlan, plan, plan_cluster, plan_link, plan_registry
from devctl.cluster.spec import ClusterSpec
from devctl.tools.kubectl import API_OK as OK
from devctl.tools.kubectl import NO_CONTEXT, UNREACHABLE
from devctl.tools.kubectl import NOT_ASKED as UNKNOWN

IMAGE = "kindest/node:v1.35.0@sha256:" + "a" * 64
W = ClusterSpec("tour", IMAGE, 80, 443, "127.0.0.1", "kind-registry", 5001, "registry:2@sha256:b")
STAMP = W.to_json()
CP = "tour-control-plane"
RUNNING = (NodeState(CP, "running"),)
REG = RegistryState("kind-registry", "running", W.registry_image, ("bridge", "kind"), "127.0.0.1", 5001)
HOSTING = {"host": "localhost:5001", "hostFromClusterNetwork": "kind-registry:5000", "help": "x"}

CLUSTER_DECISIONS = (
    "create",
    "delete",
    "recreate",
    "start_nodes",
    "wait_api",
    "export_kubeconfig",
    "reobserve",
    "stamp",
    "drift",
    "blocked",
)


def decided(p: ClusterPlan, names: tuple[str, ...] = CLUSTER_DECISIONS) -> set[str]:
    return {n for n in names if getattr(p, n)}


def api(stamp: dict[str, Any] | None = STAMP, hosting: dict[str, Any] | None = HOSTING) -> Observed:
    return Observed(RUNNING, REG, OK, "", stamp, hosting)


def nodes(*states: str) -> Observed:
    names = [CP] + [f"tour-worker{i or ''}" for i in range(len(states) - 1)]
    return Observed(tuple(NodeState(n, s) for n, s in zip(names, states, strict=True)), REG)


def access(kind: str) -> Observed:
    return Observed(RUNNING, REG, kind, "The connection to the server 127.0.0.1:1 was refused")


REBUILD = {"delete", "create", "stamp"}

CLUSTER_TABLE: list[tuple[str, Observed, bool, frozenset[str], set[str]]] = [
    ("no cluster: create and stamp", Observed(), False, frozenset(), {"create", "stamp"}),
    ("healthy and stamped as wanted: nothing", api(), False, frozenset(), set()),
    ("stopped node: start, then look again", nodes("exited"), False, frozenset(), {"start_nodes", "reobserve"}),
    ("created-only node: start", nodes("created"), False, frozenset(), {"start_nodes", "reobserve"}),
    ("still stopped after start: ask the user", nodes("exited"), False, frozenset({"start_nodes"}), {"blocked"}),
    (
        "still stopped after start, --recreate: rebuild",
        nodes("exited"),
        True,
        frozenset({"start_nodes"}),
        REBUILD | {"recreate"},
    ),
    ("paused node: ask the user", nodes("paused"), False, frozenset(), {"blocked"}),
    ("dead node, --recreate: rebuild", nodes("dead"), True, frozenset(), REBUILD | {"recreate"}),
    ("context missing: export kubeconfig", access(NO_CONTEXT), False, frozenset(), {"export_kubeconfig", "reobserve"}),
    (
        "context still missing after export: half-created, rebuild",
        access(NO_CONTEXT),
        False,
        frozenset({"export_kubeconfig"}),
        REBUILD,
    ),
    (
        "no stamp after export: interrupted create, rebuild",
        api(stamp=None),
        False,
        frozenset({"export_kubeconfig"}),
        REBUILD,
    ),
    ("API not answering: wait", access(UNREACHABLE), False, frozenset(), {"wait_api", "reobserve"}),
    ("API still silent after the wait: ask the user", access(UNREACHABLE), False, frozenset({"wait_api"}), {"blocked"}),
    (
        "API still silent, --recreate: rebuild",
        access(UNREACHABLE),
        True,
        frozenset({"wait_api"}),
        REBUILD | {"recreate"},
    ),
    ("all nodes run but nobody asked the API: wait", access(UNKNOWN), False, frozenset(), {"wait_api", "reobserve"}),
    ("not made by devctl: report, keep", api(stamp=None), False, frozenset(), {"drift"}),
    ("not made by devctl, --recreate: rebuild", api(stamp=None), True, frozenset(), REBUILD | {"recreate", "drift"}),
    (
        "lost a create race: stamp what the other devctl made",
        api(stamp=None),
        False,
        frozenset({"create_race"}),
        {"stamp"},
    ),
    ("other HTTP port: report, keep", api(stamp=STAMP | {"http_port": 8080}), False, frozenset(), {"drift"}),
    (
        "other HTTP port, --recreate: rebuild",
        api(stamp=STAMP | {"http_port": 8080}),
        True,
        frozenset(),
        REBUILD | {"recreate", "drift"},
    ),
    (
        "other node image: report, keep",
        api(stamp=STAMP | {"node_image": "kindest/node:v1.34.0"}),
        False,
        frozenset(),
        {"drift"},
    ),
    (
        "other registry port: nothing (rewired without a new cluster)",
        api(stamp=STAMP | {"registry_port": 5002}),
        False,
        frozenset(),
        set(),
    ),
    ("older devctl made it: no drift", api(stamp=STAMP | {"devctl_version": "0.0.1"}), False, frozenset(), set()),
    ("--recreate on a healthy cluster: nothing to rebuild", api(), True, frozenset(), set()),
]


@pytest.mark.parametrize(
    ("obs", "recreate", "after", "expected"), [row[1:] for row in CLUSTER_TABLE], ids=[row[0] for row in CLUSTER_TABLE]
)
def test_plan_cluster(obs: Observed, recreate: bool, after: frozenset[str], expected: set[str]) -> None:
    p = plan_cluster(W, obs, recreate=recreate, after=after)
    assert decided(p) == expected
    assert p.reasons or p.blocked, "every decision says why"


def test_only_the_stopped_nodes_are_started() -> None:
    p = plan_cluster(W, nodes("running", "exited"))
    assert p.start_nodes == ("tour-worker",)


def test_drift_names_each_field_with_both_values() -> None:
    p = plan_cluster(W, api(stamp=STAMP | {"http_port": 8080, "https_port": 8443}))
    assert [(d.field, d.current, d.wanted) for d in p.drift] == [
        ("http_port", "8080", "80"),
        ("https_port", "8443", "443"),
    ]
    assert not p.delete and not p.create


def test_a_blocked_cluster_says_exactly_what_to_do() -> None:
    p = plan_cluster(W, access(UNREACHABLE), after=frozenset({"wait_api"}))
    assert "does not answer" in (p.blocked or "") and "127.0.0.1:1" in (p.blocked or "")
    assert "devctl up --recreate" in (p.hint or "")


observations = st.builds(
    Observed,
    nodes=st.lists(
        st.builds(NodeState, st.sampled_from([CP, "tour-worker"]), st.sampled_from(["running", "exited", "dead"])),
        max_size=2,
        unique_by=lambda n: n.name,
    ).map(tuple),
    access=st.sampled_from([OK, NO_CONTEXT, UNREACHABLE, UNKNOWN]),
    stamp=st.one_of(st.none(), st.just(STAMP), st.just(STAMP | {"http_port": 1})),
    registry=st.none(),
    access_detail=st.just(""),
    hosting=st.none(),
)


@given(obs=observations, after=st.frozensets(st.sampled_from(["start_nodes", "wait_api", "create_race"])))
def test_an_existing_stamped_cluster_is_never_deleted_without_recreate(obs: Observed, after: frozenset[str]) -> None:
    # Only a cluster devctl never finished (kind gave no kubeconfig for it) is deleted unasked.
    p = plan_cluster(W, obs, recreate=False, after=after)
    assert not p.delete
    assert not p.recreate


REGISTRY_DECISIONS = ("run_registry", "start_registry", "replace_registry", "drift", "blocked")

REGISTRY_TABLE: list[tuple[str, RegistryState | None, bool, set[str]]] = [
    ("none: run it", None, False, {"run_registry"}),
    ("running as wanted: nothing", REG, False, set()),
    ("stopped: start it, do not run another", replace(REG, state="exited"), False, {"start_registry"}),
    ("other image: report, keep", replace(REG, image="registry:3"), False, {"drift"}),
    ("other image, --recreate: replace", replace(REG, image="registry:3"), True, {"replace_registry", "drift"}),
    ("other port: report, keep", replace(REG, host_port=5002), False, {"drift"}),
    ("published on every address: report", replace(REG, host_ip="0.0.0.0"), False, {"drift"}),
    ("not published at all: report", replace(REG, host_ip=None, host_port=None), False, {"drift"}),
    (
        "stopped with other image: start it as it is, report",
        replace(REG, state="exited", image="r:3"),
        False,
        {"start_registry", "drift"},
    ),
    ("dead: ask the user", replace(REG, state="dead"), False, {"blocked"}),
    ("dead, --recreate: replace", replace(REG, state="dead"), True, {"replace_registry"}),
]


@pytest.mark.parametrize(
    ("reg", "recreate", "expected"), [row[1:] for row in REGISTRY_TABLE], ids=[row[0] for row in REGISTRY_TABLE]
)
def test_plan_registry(reg: RegistryState | None, recreate: bool, expected: set[str]) -> None:
    p = plan_registry(W, reg, recreate=recreate)
    assert decided(p, REGISTRY_DECISIONS) == expected
    assert p.reasons or p.blocked


LINK_DECISIONS = ("connect_registry", "configure_nodes", "publish_configmap")
OFF_KIND = replace(REG, networks=("bridge",))

LINK_TABLE: list[tuple[str, Observed, set[str]]] = [
    (
        "fresh: connect, configure, publish",
        Observed(RUNNING, OFF_KIND, OK, "", STAMP, None),
        {"connect_registry", "configure_nodes", "publish_configmap"},
    ),
    ("wired: nothing", api(), set()),
    ("on kind, but not published: configure and publish", api(hosting=None), {"configure_nodes", "publish_configmap"}),
    (
        "published for another port: configure and publish",
        api(hosting=HOSTING | {"host": "localhost:5002"}),
        {"configure_nodes", "publish_configmap"},
    ),
    (
        "published under another registry name: configure and publish",
        api(hosting=HOSTING | {"hostFromClusterNetwork": "reg:5000"}),
        {"configure_nodes", "publish_configmap"},
    ),
    ("re-connected only", Observed(RUNNING, OFF_KIND, OK, "", STAMP, HOSTING), {"connect_registry"}),
    ("no registry: wait", Observed(RUNNING, None, OK, "", STAMP, None), set()),
    ("cluster not answering: wait", Observed(RUNNING, OFF_KIND, UNREACHABLE), set()),
]


@pytest.mark.parametrize(("obs", "expected"), [row[1:] for row in LINK_TABLE], ids=[row[0] for row in LINK_TABLE])
def test_plan_link(obs: Observed, expected: set[str]) -> None:
    p = plan_link(W, obs)
    assert decided(p, LINK_DECISIONS) == expected
    if "configure_nodes" in expected:
        assert p.configure_nodes == (CP,)
    assert p.reasons


def test_a_registry_kept_on_another_port_is_published_where_it_really_is() -> None:
    obs = Observed(RUNNING, replace(REG, host_port=5002), OK, "", STAMP, HOSTING)
    p = plan_link(W, obs)
    assert p.publish_configmap and "localhost:5002" in " ".join(p.reasons)


def test_a_fresh_machine_gets_everything() -> None:
    p = plan(W, Observed())
    assert p.cluster.create and p.cluster.stamp and p.registry.run_registry
    assert p.link.connect_registry and p.link.configure_nodes == (CP,) and p.link.publish_configmap
    assert not p.noop and not p.drift


def test_a_warm_machine_gets_nothing() -> None:
    p = plan(W, api())
    assert p.noop
    rendered = json.loads(json.dumps(p.to_json()))  # cluster status --json renders it
    assert rendered["noop"] is True and rendered["create"] is False and rendered["run_registry"] is False
    assert rendered["connect_registry"] is False and rendered["drift"] == [] and rendered["reasons"]


def test_stopped_nodes_leave_the_link_for_after_the_restart() -> None:
    p = plan(W, nodes("exited"))
    assert p.cluster.start_nodes == (CP,) and not p.link.actions
    assert any("once the cluster answers" in r for r in p.reasons)


def test_a_replaced_registry_is_reconnected_to_the_kind_network() -> None:
    p = plan(W, replace(api(), registry=replace(REG, image="registry:3")), recreate=True)
    assert p.registry.replace_registry and p.link.connect_registry and not p.cluster.create


def test_both_blocks_are_reported_together() -> None:
    obs = replace(nodes("paused"), registry=replace(REG, state="dead"))
    p = plan(W, obs)
    assert "paused" in (p.blocked or "") and "kind-registry is dead" in (p.blocked or "")
    assert p.hint and "docker rm -f kind-registry" in p.hint
