"""The Kubernetes objects under k8s/: valid for Kubernetes 1.35, consistent with each other, with
skaffold.yaml and with the stand-in, and shaped the way the tour services expect.

kubernetes-validate bundles schemas up to 1.37, so 1.35 (the node version devctl pins, config.py)
is validated against its own schema, strictly (unknown fields are errors).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import kubernetes_validate
import pytest
import yaml

from devctl import manifests, resources, stack
from tests import stack_facts
from tests.conftest import SECTION7_REQUESTS, load_standin

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "k8s"
KUBERNETES_VERSION = "1.35"

OBJECTS = [m.obj for m in manifests.load(K8S)]
DEFAULT_IMAGES = stack_facts.artifact_images(REPO / "skaffold.yaml")
SOURCE_IMAGES = stack_facts.artifact_images(REPO / "skaffold.yaml", stack.SOURCES_PROFILE)
BUILT_IMAGES = set(DEFAULT_IMAGES) | set(SOURCE_IMAGES)


def _documents() -> Iterator[Any]:
    for path in sorted(K8S.rglob("*.yaml")):
        for i, doc in enumerate(yaml.safe_load_all(path.read_text()), start=1):
            if doc is not None:
                yield pytest.param(doc, id=f"{path.name}#{i}:{doc['kind']}/{doc['metadata']['name']}")


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in OBJECTS if o["kind"] == kind}


DEPLOYMENTS = _of_kind("Deployment")
SERVICES = _of_kind("Service")
INGRESSES = _of_kind("Ingress")


def _containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, d in DEPLOYMENTS.items():
        for c in d["spec"]["template"]["spec"]["containers"]:
            yield name, c


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _app_container(service: str) -> dict[str, Any]:
    (container,) = DEPLOYMENTS[service]["spec"]["template"]["spec"]["containers"]
    return container


# --- validity -----------------------------------------------------------------------------------------


def test_k8s_holds_only_yaml_files_because_skaffold_and_up_apply_all_of_it() -> None:
    files = [p for p in K8S.rglob("*") if p.is_file()]
    assert files
    assert [p.name for p in files if p.suffix != ".yaml"] == []


@pytest.mark.parametrize("doc", list(_documents()))
def test_every_document_validates_strictly_against_kubernetes_1_35(doc: dict[str, Any]) -> None:
    # SchemaNotFoundError (an unknown kind/apiVersion) fails the test as well.
    assert kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True) == KUBERNETES_VERSION


def test_strict_validation_catches_a_misspelled_field() -> None:
    doc = yaml.safe_load(yaml.safe_dump(DEPLOYMENTS["auth"]))
    doc["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "IfNotPresent"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_no_secret_objects_are_shipped() -> None:
    # devctl creates tour-secrets at `up`; a Secret in k8s/ would put a value in the repo.
    assert [o["metadata"]["name"] for o in OBJECTS if o["kind"] == "Secret"] == []


# --- services and workloads -----------------------------------------------------------------------


@pytest.mark.parametrize("name", stack_facts.WEB_SERVICES)
def test_each_web_service_has_a_deployment_and_a_cluster_ip_service_on_3000(name: str) -> None:
    deployment, service = DEPLOYMENTS[name], SERVICES[name]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["app"] == name
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": name}
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == {"app": name}
    assert [p["port"] for p in service["spec"]["ports"]] == [3000]
    assert [p["containerPort"] for p in _app_container(name)["ports"]] == [3000]


def test_expiration_is_a_worker_without_service_or_port() -> None:
    assert DEPLOYMENTS["expiration"]["spec"]["template"]["metadata"]["labels"]["app"] == "expiration"
    assert "expiration" not in SERVICES
    container = _app_container("expiration")
    assert "ports" not in container
    assert "PORT" not in _env(container)  # the stand-in runs as a worker exactly when PORT is unset


def test_every_service_selector_matches_the_pod_labels_of_a_workload() -> None:
    for name, svc in SERVICES.items():
        selector = svc["spec"]["selector"]
        matches = [
            d for d in DEPLOYMENTS.values()
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matches) == 1, f"Service {name} selects {len(matches)} workloads"


def test_every_service_target_port_is_a_port_of_the_selected_containers() -> None:
    for name, svc in SERVICES.items():
        (workload,) = [
            d for d in DEPLOYMENTS.values()
            if svc["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        ports = [p for c in workload["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])]
        for sp in svc["spec"]["ports"]:
            target = sp.get("targetPort", sp["port"])
            key = "name" if isinstance(target, str) else "containerPort"
            assert any(p.get(key) == target for p in ports), f"Service {name}: targetPort {target} not in pod"


# --- environment -------------------------------------------------------------------------------------


def _literal(container: dict[str, Any], var: str) -> str:
    return str(_env(container)[var]["value"])


@pytest.mark.parametrize("name", stack.SERVICES)
def test_environment_is_what_the_tour_services_expect(name: str) -> None:
    container = _app_container(name)
    env = _env(container)
    assert _literal(container, "NODE_ENV") == "development"
    assert _literal(container, "SERVICE_NAME") == name
    if name in stack_facts.WEB_SERVICES:
        assert _literal(container, "PORT") == "3000"
    has_data = name in ("auth", "booking", "payment", "review", "tour")
    assert ("MONGO_URI" in env) == has_data
    if has_data:
        assert _literal(container, "MONGO_URI") == f"mongodb://{name}-mongo:27017/{name}"
    redis = {"review": "review-redis", "expiration": "expiration-redis"}.get(name)
    if redis:
        assert (_literal(container, "REDIS_HOST"), _literal(container, "REDIS_PORT")) == (redis, "6379")
    else:
        assert "REDIS_HOST" not in env
    if name != "client":
        assert _literal(container, "NATS_URL") == "http://nats:4222"
        assert _literal(container, "NATS_CLUSTER_ID") == "tour"
        assert env["NATS_CLIENT_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}


@pytest.mark.parametrize("name", ["auth", "booking", "payment", "review", "tour"])
def test_jwt_secrets_come_from_the_secret_devctl_creates(name: str) -> None:
    env = _env(_app_container(name))
    for key in stack.SECRET_KEYS:
        assert env[key] == {
            "name": key,
            "valueFrom": {"secretKeyRef": {"name": stack.SECRET_NAME, "key": key}},
        }


_SECRET_LOOKING = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE|CREDENTIAL|^JWT_", re.I)


def test_no_secret_looking_variable_has_a_literal_value() -> None:
    for workload, c in _containers():
        for var in c.get("env", []):
            if _SECRET_LOOKING.search(var["name"]):
                assert "value" not in var, f"{workload}: {var['name']} has a literal value"
                assert "secretKeyRef" in var["valueFrom"], f"{workload}: {var['name']} is not from a Secret"
        for source in c.get("envFrom", []):
            assert "configMapRef" not in source, f"{workload}: envFrom a ConfigMap may carry secrets"


def test_every_secret_reference_names_tour_secrets_and_a_known_key() -> None:
    refs = [
        var["valueFrom"]["secretKeyRef"]
        for _, c in _containers()
        for var in c.get("env", [])
        if "secretKeyRef" in var.get("valueFrom", {})
    ]
    assert refs
    for ref in refs:
        assert ref["name"] == stack.SECRET_NAME
        assert ref["key"] in stack.SECRET_KEYS


def _dependency_endpoints(env: dict[str, dict[str, Any]]) -> Iterator[tuple[str, str, int]]:
    if "MONGO_URI" in env:
        u = urlsplit(env["MONGO_URI"]["value"])
        yield "MONGO_URI", str(u.hostname), u.port or 27017
    if "REDIS_HOST" in env:
        yield "REDIS_HOST", env["REDIS_HOST"]["value"], int(env.get("REDIS_PORT", {}).get("value", 6379))
    if "NATS_URL" in env:
        u = urlsplit(env["NATS_URL"]["value"])
        yield "NATS_URL", str(u.hostname), u.port or 4222


def test_every_dependency_host_is_a_service_in_k8s_on_that_port() -> None:
    seen = 0
    for workload, c in _containers():
        for var, host, port in _dependency_endpoints(_env(c)):
            seen += 1
            assert host in SERVICES, f"{workload}: {var} names {host}, which is not a Service in k8s/"
            assert port in [p["port"] for p in SERVICES[host]["spec"]["ports"]], f"{workload}: {var} port {port}"
    assert seen == 5 + 2 + 6  # MONGO_URI x5, REDIS_HOST x2, NATS_URL x6


# --- images ----------------------------------------------------------------------------------------


def test_every_artifact_image_is_used_by_a_deployment() -> None:
    used = {c["image"] for _, c in _containers()}
    assert set(DEFAULT_IMAGES) <= used
    assert set(SOURCE_IMAGES) <= used
    assert [stack.image_name(s) for s in stack.SERVICES] == DEFAULT_IMAGES


def test_built_images_are_never_pulled_always() -> None:
    # skaffold.md §7 item 6: Always defeats images loaded into the node. An untagged image
    # defaults to Always, so the policy must be explicit.
    for workload, c in _containers():
        if c["image"] in BUILT_IMAGES:
            assert c.get("imagePullPolicy") == "IfNotPresent", workload


PINNED = re.compile(r"(?P<name>[a-z0-9./-]+):(?P<tag>[A-Za-z0-9._-]+)@sha256:[0-9a-f]{64}")


def test_third_party_images_are_pinned_by_tag_and_digest() -> None:
    # A tag moves; the digest is what a re-created cluster pulls again (each file says where it is from).
    third_party = [(w, c["image"]) for w, c in _containers() if c["image"] not in BUILT_IMAGES]
    assert len(third_party) == 8  # 5 MongoDB, 2 Redis, 1 NATS
    for workload, image in third_party:
        m = PINNED.fullmatch(image)
        assert m and m["tag"] != "latest", f"{workload}: {image} is not pinned by tag@sha256 digest"


# --- infrastructure -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["auth", "booking", "payment", "review", "tour"])
def test_each_service_with_data_has_its_own_mongodb(name: str) -> None:
    (mongo,) = DEPLOYMENTS[f"{name}-mongo"]["spec"]["template"]["spec"]["containers"]
    assert mongo["image"].startswith("mongo:")
    assert [p["port"] for p in SERVICES[f"{name}-mongo"]["spec"]["ports"]] == [27017]


@pytest.mark.parametrize("name", ["review-redis", "expiration-redis"])
def test_redis_runs_for_review_and_expiration(name: str) -> None:
    (redis,) = DEPLOYMENTS[name]["spec"]["template"]["spec"]["containers"]
    assert redis["image"].startswith("redis:")
    assert [p["port"] for p in SERVICES[name]["spec"]["ports"]] == [6379]


def test_nats_streaming_serves_cluster_tour_on_4222() -> None:
    (nats,) = DEPLOYMENTS["nats"]["spec"]["template"]["spec"]["containers"]
    args = nats["args"]
    assert nats["image"].startswith("nats-streaming:")
    assert args[args.index("-cid") + 1] == "tour"
    assert args[args.index("-p") + 1] == "4222"
    monitor = args[args.index("-m") + 1]
    assert {p["name"]: p["containerPort"] for p in nats["ports"]}["monitor"] == int(monitor)
    assert 4222 in [p["port"] for p in SERVICES["nats"]["spec"]["ports"]]


INFRA = K8S / "infra"
CLAIMS = _of_kind("PersistentVolumeClaim")


def _claims_of(deployment: dict[str, Any]) -> list[str]:
    volumes = deployment["spec"]["template"]["spec"].get("volumes", [])
    return [v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v]


def test_the_infrastructure_lives_in_k8s_infra_and_the_services_outside_it() -> None:
    infra = {m.obj["metadata"]["name"] for m in manifests.load(INFRA) if m.kind == "Deployment"}
    assert infra == {f"{s}-mongo" for s in ("auth", "booking", "payment", "review", "tour")} | {
        "review-redis", "expiration-redis", "nats"}  # fmt: skip
    assert set(DEPLOYMENTS) - infra == set(stack.SERVICES)


@pytest.mark.parametrize("name", sorted(n for n in DEPLOYMENTS if n not in stack.SERVICES))
def test_every_store_keeps_its_data_on_its_own_claim_of_kinds_standard_class(name: str) -> None:
    deployment = DEPLOYMENTS[name]
    (claim,) = _claims_of(deployment)
    assert claim == f"{name}-data" and claim in CLAIMS
    spec = CLAIMS[claim]["spec"]
    assert spec["storageClassName"] == "standard"  # kind's default (local-path), const_storage.go
    assert spec["accessModes"] == ["ReadWriteOnce"]
    # One server per data directory: a rolling update would start the new pod while the old one holds it.
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"data": {"mongo": "/data/db", "redis": "/data", "nats": "/data"}[container["name"]]}
    assert not [v for v in deployment["spec"]["template"]["spec"]["volumes"] if "emptyDir" in v]


def test_every_claim_is_used_by_exactly_one_deployment() -> None:
    users = [c for d in DEPLOYMENTS.values() for c in _claims_of(d)]
    assert sorted(users) == sorted(CLAIMS)


def test_redis_and_nats_write_to_their_volumes() -> None:
    for name in ("review-redis", "expiration-redis"):
        (redis,) = DEPLOYMENTS[name]["spec"]["template"]["spec"]["containers"]
        args = redis["args"]
        assert args[args.index("--appendonly") + 1] == "yes" and args[args.index("--dir") + 1] == "/data"
    (nats,) = DEPLOYMENTS["nats"]["spec"]["template"]["spec"]["containers"]
    args = nats["args"]
    assert args[args.index("-st") + 1] == "FILE" and args[args.index("-dir") + 1].startswith("/data/")


def test_every_container_has_cpu_and_memory_requests_within_limits() -> None:
    for workload, c in _containers():
        res = c["resources"]
        for what in ("cpu", "memory"):
            assert what in res["requests"] and what in res["limits"], f"{workload}: {what}"
        assert resources.memory_bytes(res["requests"]["memory"]) <= resources.memory_bytes(res["limits"]["memory"])


def test_every_container_with_a_port_has_readiness_and_liveness_probes() -> None:
    with_ports = [(w, c) for w, c in _containers() if c.get("ports")]
    assert len(with_ports) == len(DEPLOYMENTS) - 1  # all but the expiration worker
    for workload, c in with_ports:
        assert "readinessProbe" in c and "livenessProbe" in c, workload


def test_the_whole_stack_fits_the_memory_budget() -> None:
    limits = stack_facts.memory_limits(OBJECTS)
    assert set(limits) == {f"Deployment/{n}" for n in DEPLOYMENTS}
    # The README states this total; change both together.
    assert sum(limits.values()) == 3648 * 2**20
    assert sum(limits.values()) <= stack_facts.MEMORY_BUDGET_BYTES


# --- ingress ---------------------------------------------------------------------------------------


def _ingress_paths() -> list[dict[str, Any]]:
    (rule,) = INGRESSES["tour-ingress"]["spec"]["rules"]
    paths: list[dict[str, Any]] = rule["http"]["paths"]
    return paths


def test_the_ingress_is_the_tour_projects() -> None:
    assert list(INGRESSES) == ["tour-ingress"]
    ingress = INGRESSES["tour-ingress"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["metadata"]["annotations"] == {"nginx.ingress.kubernetes.io/use-regex": "true"}
    assert [r["host"] for r in ingress["spec"]["rules"]] == ["tour.xyz"]
    paths = _ingress_paths()
    assert [(p["path"], p["backend"]["service"]["name"]) for p in paths] == stack_facts.TOUR_INGRESS_PATHS
    assert {p["pathType"] for p in paths} == {"ImplementationSpecific"}  # ingress-nginx.md §4
    assert {p["backend"]["service"]["port"]["number"] for p in paths} == {3000}


def test_every_ingress_backend_is_an_existing_service_and_port() -> None:
    for p in _ingress_paths():
        backend = p["backend"]["service"]
        assert backend["name"] in SERVICES, backend
        assert backend["port"]["number"] in [sp["port"] for sp in SERVICES[backend["name"]]["spec"]["ports"]]


def _route(uri: str) -> str:
    """Which backend ingress-nginx picks for ``uri`` (ingress-nginx.md §5, regex mode): locations by
    raw path length descending, ties in reverse byte order; first case-insensitive regex anchored
    at the start wins; the URI is normalised first (query dropped, slashes merged, dots resolved)."""
    path = re.sub(r"/+", "/", unquote(uri.split("?", 1)[0]))
    path = posixpath.normpath(path) + ("/" if path.endswith("/") and path != "/" else "")
    ordered = sorted(_ingress_paths(), key=lambda p: (len(p["path"]), p["path"]), reverse=True)
    for p in ordered:
        if re.match(p["path"], path, re.IGNORECASE):
            return str(p["backend"]["service"]["name"])
    return "default-backend-404"


@pytest.mark.parametrize(
    ("uri", "backend"),
    SECTION7_REQUESTS,
)
def test_requests_reach_the_backend_ingress_nginx_would_choose(uri: str, backend: str) -> None:
    assert _route(uri) == backend


def _standin_example_routes() -> tuple[tuple[str, str], ...]:
    module = load_standin("standin_server_routes")
    routes: tuple[tuple[str, str], ...] = module.EXAMPLE_ROUTES
    return routes


def test_the_client_pages_example_routes_reach_the_service_it_names() -> None:
    routes = _standin_example_routes()
    assert {service for _, service in routes} == set(stack_facts.WEB_SERVICES)
    for uri, service in routes:
        assert _route(uri) == service, uri
