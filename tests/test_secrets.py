"""Dev secrets: generated once, kept across runs, never on a command line."""

from __future__ import annotations

import base64
import json

from devctl import config, secrets
from devctl.context import Context
from devctl.stack import SECRET_KEYS, SECRET_NAME
from tests.conftest import FakeWorld, run_cli


def cluster(world: FakeWorld) -> Context:
    ctx = Context.create(config.load({}))
    ctx.kind.create_cluster("tour", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n")
    world.clear_calls()
    return ctx


def stored(world: FakeWorld) -> dict[str, str]:
    obj = world.objects("kind-tour")[f"Secret/default/{SECRET_NAME}"]
    return {k: base64.b64decode(v).decode() for k, v in obj["data"].items()}


def test_first_run_creates_both_keys_with_strong_random_values(fake_tools: FakeWorld) -> None:
    ctx = cluster(fake_tools)
    note = secrets.ensure(ctx)
    values = stored(fake_tools)
    assert note == f"created secret {SECRET_NAME}"
    assert set(values) == set(SECRET_KEYS)
    assert all(len(v) >= 60 for v in values.values())
    assert values["JWT_ACCESS_SECRET"] != values["JWT_REFRESH_SECRET"]


def test_second_run_keeps_the_values_and_costs_one_call(fake_tools: FakeWorld) -> None:
    ctx = cluster(fake_tools)
    secrets.ensure(ctx)
    before = stored(fake_tools)
    fake_tools.clear_calls()
    assert secrets.ensure(ctx) == "already present"
    assert stored(fake_tools) == before
    assert len(fake_tools.calls()) == 1


def test_a_missing_key_is_added_and_the_other_kept(fake_tools: FakeWorld) -> None:
    ctx = cluster(fake_tools)
    ctx.kubectl.create(json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET_NAME},
                                   "stringData": {"JWT_ACCESS_SECRET": "keep-me"}}))
    note = secrets.ensure(ctx)
    values = stored(fake_tools)
    assert values["JWT_ACCESS_SECRET"] == "keep-me"
    assert values["JWT_REFRESH_SECRET"]
    assert "JWT_REFRESH_SECRET" in note


def test_values_never_appear_in_argv_or_annotations(fake_tools: FakeWorld) -> None:
    ctx = cluster(fake_tools)
    secrets.ensure(ctx)
    values = stored(fake_tools)
    everything = json.dumps(fake_tools.calls()) + json.dumps(
        fake_tools.objects("kind-tour")[f"Secret/default/{SECRET_NAME}"]["metadata"])
    for v in values.values():
        assert v not in everything
    assert fake_tools.assert_pinned() > 0


def test_show_prints_names_and_reveals_values_only_when_asked(fake_tools: FakeWorld) -> None:
    ctx = cluster(fake_tools)
    secrets.ensure(ctx)
    values = stored(fake_tools)
    res = run_cli("secrets", "show")
    assert res.exit_code == 0
    assert all(k in res.stdout for k in SECRET_KEYS)
    assert not any(v in res.stdout for v in values.values())
    res = run_cli("secrets", "show", "--reveal", "--json")
    assert json.loads(res.stdout)["keys"] == values


def test_show_without_a_secret_says_to_run_up(fake_tools: FakeWorld) -> None:
    cluster(fake_tools)
    res = run_cli("secrets", "show")
    assert res.exit_code == 1
    assert "run `devctl up`" in res.stderr
