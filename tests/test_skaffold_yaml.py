"""skaffold.yaml: valid for its apiVersion, stand-ins by default, the tour sources in `services`.

The JSON schemas are test data from the shared folder (<repo>/../shared/schemas/, or DEVCTL_SHARED_DIR:
the Skaffold project's published schemas); they are never copied into the repo. Without that folder the
schema tests skip, and the test summary says why.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from devctl import stack
from tests import stack_facts
from tests.conftest import REPO, SHARED

SCHEMAS = SHARED / "schemas"
CONFIG: dict[str, Any] = yaml.safe_load((REPO / "skaffold.yaml").read_text())
STANDIN = REPO / "services" / "standin"


def _schema(api_version: str) -> dict[str, Any]:
    if not SCHEMAS.is_dir():
        pytest.skip(f"no Skaffold schemas at {SCHEMAS}: the shared folder is absent (set DEVCTL_SHARED_DIR)")
    path = SCHEMAS / f"skaffold-{api_version.removeprefix('skaffold/')}.json"
    if not path.is_file():
        pytest.skip(f"no schema for {api_version} in {SCHEMAS}")
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def _profile(name: str) -> dict[str, Any]:
    (profile,) = [p for p in CONFIG["profiles"] if p["name"] == name]
    return profile


def test_api_version_is_the_current_one() -> None:
    assert CONFIG["apiVersion"] == "skaffold/v4beta14"  # skaffold.md §1
    assert CONFIG["kind"] == "Config"


def test_validates_against_the_schema_of_its_api_version() -> None:
    jsonschema.validate(CONFIG, _schema(CONFIG["apiVersion"]))


def test_the_schema_check_rejects_a_misspelled_field() -> None:
    broken = yaml.safe_load(yaml.safe_dump(CONFIG))
    broken["build"]["artifacts"][0]["contxt"] = "auth"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, _schema(CONFIG["apiVersion"]))


def _skaffold_deploys(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects rawYaml names (Python's glob reads `*` as Go's filepath.Glob does: one path segment)."""
    files = sorted({p for pattern in config["manifests"]["rawYaml"] for p in REPO.glob(pattern)})
    return [d for f in files for d in yaml.safe_load_all(f.read_text()) if d]


def test_skaffold_deploys_the_services_and_their_ingress_and_none_of_the_infrastructure() -> None:
    # Skaffold deletes what it deployed on Ctrl-C; the databases (k8s/infra/, applied by `up`) must stay.
    deployed = _skaffold_deploys(CONFIG)
    deployments = sorted(d["metadata"]["name"] for d in deployed if d["kind"] == "Deployment")
    assert deployments == sorted(stack.SERVICES)
    assert [d["metadata"]["name"] for d in deployed if d["kind"] == "Ingress"] == ["tour-ingress"]
    assert not [d for d in deployed if d["kind"] == "PersistentVolumeClaim"]
    infra = {(d["kind"], d["metadata"]["name"]) for f in (REPO / "k8s" / "infra").glob("*.yaml")
             for d in yaml.safe_load_all(f.read_text()) if d}  # fmt: skip
    assert infra and not infra & {(d["kind"], d["metadata"]["name"]) for d in deployed}
    assert all("manifests" not in p for p in CONFIG.get("profiles") or []), "a profile may not deploy more"


def test_default_build_is_the_stand_in_for_all_seven_services() -> None:
    artifacts = CONFIG["build"]["artifacts"]
    assert [a["image"] for a in artifacts] == [stack.image_name(s) for s in stack.SERVICES]
    for a in artifacts:
        assert a["context"] == "services/standin"
        assert (REPO / a["context"] / a["docker"]["dockerfile"]).is_file()
        assert a["sync"] == {"manual": [{"src": "*.py", "dest": "/app"}]}


def test_stand_in_sync_lands_where_the_image_runs_the_server_from() -> None:
    dockerfile = (STANDIN / "Dockerfile").read_text()
    (workdir,) = re.findall(r"^WORKDIR\s+(\S+)", dockerfile, re.M)
    (entrypoint,) = re.findall(r"^ENTRYPOINT\s+(.+)$", dockerfile, re.M)
    assert workdir == "/app"
    assert json.loads(entrypoint) == ["python", "/app/server.py"]
    assert "server.py" in [p.name for p in STANDIN.glob("*.py")]  # what "*.py" syncs


def test_stand_in_image_runs_as_a_numeric_non_root_user_on_a_pinned_base() -> None:
    dockerfile = (STANDIN / "Dockerfile").read_text()
    (base,) = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    (user,) = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    name, _, tag = base.partition(":")
    assert name == "python" and tag and tag != "latest"
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_dockerignore_keeps_only_the_sources_in_the_build_context() -> None:
    rules = [
        line.strip()
        for line in (STANDIN / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules == ["*", "!*.py"]


def test_services_profile_builds_each_service_from_its_tour_folder() -> None:
    profile = _profile(stack.SOURCES_PROFILE)
    artifacts = profile["build"]["artifacts"]
    assert [a["image"] for a in artifacts] == [stack.image_name(s) for s in stack.SERVICES]
    assert [a["context"] for a in artifacts] == list(stack.SERVICES)
    for a in artifacts:
        assert a["docker"] == {"dockerfile": "Dockerfile", "buildArgs": PROXY_BUILD_ARGS}
        assert a["sync"] == {"manual": [{"src": "src/**/*.ts", "dest": "."}]}


# Docker's predefined proxy ARGs, both cases, each from the variable of its name in Skaffold's environment
# (devctl/proxy.py sets them); `default ""` renders an unset one empty instead of "<no value>".
PROXY_BUILD_ARGS = {
    name: f'{{{{default "" .{name}}}}}'
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
}


@pytest.mark.parametrize("where", ["default", stack.SOURCES_PROFILE])
def test_every_build_gets_the_proxy_as_build_args(where: str) -> None:
    build = CONFIG["build"] if where == "default" else _profile(where)["build"]
    for a in build["artifacts"]:
        assert a["docker"]["buildArgs"] == PROXY_BUILD_ARGS, a["image"]


def test_missing_source_dirs_checks_exactly_the_profiles_build_contexts(tmp_path: Path) -> None:
    contexts = [a["context"] for a in _profile(stack.SOURCES_PROFILE)["build"]["artifacts"]]
    assert stack.missing_source_dirs(tmp_path, stack.SOURCES_PROFILE) == contexts


@pytest.mark.parametrize("where", ["default", stack.SOURCES_PROFILE])
def test_tags_are_content_digests_and_push_is_left_to_the_cluster(where: str) -> None:
    build = CONFIG["build"] if where == "default" else _profile(where)["build"]
    assert build["tagPolicy"] == {"inputDigest": {}}  # skaffold.md §7 item 3
    assert "push" not in build.get("local", {})  # KEP-1755 registry or kind load (skaffold.md §6)


def test_only_the_services_profile_tolerates_crash_loops_until_the_deadline() -> None:
    assert "tolerateFailuresUntilDeadline" not in CONFIG["deploy"]
    assert _profile(stack.SOURCES_PROFILE)["deploy"] == {"kubectl": {}, "tolerateFailuresUntilDeadline": True}


def test_artifact_images_agree_with_the_file() -> None:
    assert stack_facts.artifact_images(REPO / "skaffold.yaml") == [a["image"] for a in CONFIG["build"]["artifacts"]]
