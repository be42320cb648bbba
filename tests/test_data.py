"""`devctl data reset|seed|dump`: the services' databases emptied, seeded and written out through the tools in
the Mongo containers (`kubectl exec` into the fake cluster, whose mongoimport/mongoexport/mongosh keep the
documents on the pod's volume), and the seed committed in seed/ round-trips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from devctl import data
from devctl.errors import UsageError
from tests.conftest import REPO, FakeWorld, run_cli
from tests.stack_world import create_cluster, run

SEED = REPO / "seed"
WITH_DATA = ("auth", "booking", "payment", "review", "tour")


def apply_infra(manifests: Path = REPO / "k8s" / "infra") -> None:
    run("kubectl", "--context", "kind-tour", "apply", "-f", str(manifests))


@pytest.fixture
def world(fake_tools: FakeWorld, repo_cwd: Path) -> FakeWorld:
    """A cluster with the stack's databases applied (what `devctl up` leaves), nothing in them yet."""
    create_cluster()
    apply_infra()
    return fake_tools


def docs(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- seed files (pure) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "array", "count"),
    [
        ('[{"_id": 1}, {"_id": 2}]', True, 2),
        ('  \n[\n  {"a": 1}\n]\n', True, 1),
        ('{"_id": 1}\n{"_id": 2}\n\n{"_id": 3}\n', False, 3),
        ("", False, 0),
    ],
)
def test_a_seed_file_is_one_array_or_one_document_a_line(tmp_path: Path, text: str, array: bool, count: int) -> None:
    path = tmp_path / "users.json"
    path.write_text(text)
    f = data.read_seed(path)
    assert (f.collection, f.array, f.count, f.text) == ("users", array, count, text)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"_id": 1}\n{"_id": 2,\n', "users.json:2: not a JSON document"),
        ('[{"_id": 1},\n 2]', "element 2 of the array is not a document"),
        ("[1, \n", "users.json:2: not JSON"),
        ('"just a string"\n', "users.json:1: not a document"),
    ],
)
def test_a_broken_seed_file_is_named_with_its_line(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "users.json"
    path.write_text(text)
    with pytest.raises(UsageError, match=where.replace(".", r"\.")):
        data.read_seed(path)


def test_the_committed_seed_has_one_folder_per_service_with_a_database() -> None:
    assert sorted(p.name for p in SEED.iterdir()) == sorted(WITH_DATA)
    for service in WITH_DATA:
        files = data.seed_files(SEED, service)
        assert files and all(f.count > 0 and not f.array for f in files), service


# --- through the CLI, against the fake cluster ----------------------------------------------------------


def test_seed_then_dump_gives_the_seed_back_byte_for_byte(world: FakeWorld, tmp_path: Path) -> None:
    res = run_cli("data", "seed")
    assert res.exit_code == 0, res.output
    assert "auth: users 3 document(s) into auth" in res.stdout
    res = run_cli("data", "dump", "--to", str(tmp_path))
    assert res.exit_code == 0, res.output
    for service in WITH_DATA:
        for f in (SEED / service).glob("*.json"):
            assert (tmp_path / service / f.name).read_text() == f.read_text(), f
    # mongoimport and mongoexport ran inside the Mongo containers, never on this machine.
    execs = [a for a in world.argvs("kubectl") if "exec" in a]
    assert {a[a.index("--") + 1] for a in execs} == {"mongoimport", "mongosh", "mongoexport"}
    assert all(a[a.index("-c") + 1] == "mongo" for a in execs)
    assert world.assert_pinned() > 0


def test_seeding_twice_replaces_documents_with_the_same_id(world: FakeWorld, tmp_path: Path) -> None:
    changed = tmp_path / "mine" / "auth"
    changed.mkdir(parents=True)
    users = docs(SEED / "auth" / "users.json")
    users[0]["name"] = "Ada Renamed"
    # The same documents as one JSON array, one of them changed.
    (changed / "users.json").write_text(json.dumps(users, indent=2))
    assert run_cli("data", "seed", "auth").exit_code == 0
    assert run_cli("data", "seed", "auth", "--from", str(tmp_path / "mine")).exit_code == 0
    assert run_cli("data", "dump", "auth", "--to", str(tmp_path / "out")).exit_code == 0
    assert docs(tmp_path / "out" / "auth" / "users.json") == users  # three, not six


def test_reset_empties_only_the_chosen_databases_and_keeps_their_collections(world: FakeWorld, tmp_path: Path) -> None:
    assert run_cli("data", "seed").exit_code == 0
    res = run_cli("data", "reset", "auth", "tour", "--yes")
    assert res.exit_code == 0, res.output
    assert "auth: emptied auth: users (3 deleted)" in res.stdout
    assert run_cli("data", "dump", "--to", str(tmp_path)).exit_code == 0
    assert (tmp_path / "auth" / "users.json").read_text() == ""
    assert (tmp_path / "tour" / "tours.json").read_text() == ""
    assert (tmp_path / "booking" / "bookings.json").read_text() == (SEED / "booking" / "bookings.json").read_text()


def test_reset_asks_first_and_a_no_deletes_nothing(world: FakeWorld, tmp_path: Path) -> None:
    assert run_cli("data", "seed", "auth").exit_code == 0
    res = run_cli("data", "reset", "auth", input="n\n")
    assert res.exit_code == 1 and res.stderr.strip().splitlines()[-1].startswith("ERROR: data reset not confirmed")
    assert "Delete every document in the databases of auth?" in res.output
    res = run_cli("data", "reset", "auth")  # no answer at all (stdin at its end): a usage error
    assert res.exit_code == 2
    assert res.stderr.splitlines()[-1] == (
        "ERROR: data reset deletes documents and needs a yes — answer on a terminal, or pass --yes"
    )
    assert run_cli("data", "dump", "auth", "--to", str(tmp_path)).exit_code == 0
    assert docs(tmp_path / "auth" / "users.json") == docs(SEED / "auth" / "users.json")
    assert run_cli("data", "reset", "auth", input="y\n").exit_code == 0


def test_a_broken_seed_file_stops_before_anything_is_imported(world: FakeWorld, tmp_path: Path) -> None:
    for service in ("auth", "tour"):
        shutil.copytree(SEED / service, tmp_path / "seed" / service)
    (tmp_path / "seed" / "tour" / "tours.json").write_text('{"_id": 1}\nnot json\n')
    res = run_cli("data", "seed", "--from", str(tmp_path / "seed"))
    assert res.exit_code == 2
    assert "tours.json:2: not a JSON document" in res.stderr and "Traceback" not in res.output
    assert not [a for a in world.argvs("kubectl") if "mongoimport" in a]  # auth was not seeded either


@pytest.mark.parametrize(("names", "text"), [(["nope"], "unknown service with a database 'nope'"),
                                             (["client"], "unknown service with a database 'client'")])
def test_a_service_without_a_database_is_a_usage_error(world: FakeWorld, names: list[str], text: str) -> None:
    res = run_cli("data", "seed", *names)
    assert res.exit_code == 2
    (line,) = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]
    assert text in line and "choose from: auth, booking, payment, review, tour" in line


def test_no_running_mongo_says_why_in_one_line(world: FakeWorld) -> None:
    world.set_knob("pod_failures", {"auth-mongo": "CrashLoopBackOff"})
    res = run_cli("data", "seed", "auth")
    assert res.exit_code == 1
    (line,) = [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR:")]
    assert line.startswith("ERROR: no running pod of auth-mongo: CrashLoopBackOff: exit code 1 (Error) — ")
    assert not [a for a in world.argvs("kubectl") if "exec" in a]


def test_the_data_outlives_its_pod_on_the_claim(world: FakeWorld, tmp_path: Path) -> None:
    assert run_cli("data", "seed", "auth").exit_code == 0
    world.set_knob("pod_generations", {"auth-mongo": 1})  # the pod is replaced (a restart, a new image)
    assert run_cli("data", "dump", "auth", "--to", str(tmp_path)).exit_code == 0
    assert docs(tmp_path / "auth" / "users.json") == docs(SEED / "auth" / "users.json")
    claim = world.objects("kind-tour")["PersistentVolumeClaim/default/auth-mongo-data"]
    assert claim["status"]["phase"] == "Bound"


def test_in_an_empty_dir_the_data_went_with_the_pod(world: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    # What the stack's manifests did before: the fake keeps an emptyDir per pod, as Kubernetes does.
    manifests = tmp_path / "k8s"
    shutil.copytree(REPO / "k8s", manifests)
    mongo = manifests / "infra" / "mongo.yaml"
    objs = [d for d in yaml.safe_load_all(mongo.read_text()) if d]
    for d in objs:
        if d["kind"] == "Deployment":
            d["spec"]["template"]["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
    mongo.write_text(yaml.safe_dump_all(objs))
    apply_infra(manifests / "infra")
    monkeypatch.setenv("DEVCTL_MANIFESTS_DIR", str(manifests))
    assert run_cli("data", "seed", "auth").exit_code == 0
    assert "users 3 document(s)" in run_cli("data", "dump", "auth", "--to", str(tmp_path / "out")).stdout
    world.set_knob("pod_generations", {"auth-mongo": 1})
    res = run_cli("data", "dump", "auth", "--to", str(tmp_path / "out"))
    assert res.exit_code == 0 and "auth: auth has no collections; nothing written" in res.stdout


def test_deleting_the_cluster_deletes_the_data(world: FakeWorld, tmp_path: Path) -> None:
    assert run_cli("data", "seed", "auth").exit_code == 0
    run("kind", "delete", "cluster", "--name", "tour")
    create_cluster()
    apply_infra()
    res = run_cli("data", "dump", "auth", "--to", str(tmp_path))
    assert res.exit_code == 0 and "auth: auth has no collections; nothing written" in res.stdout


def test_dry_run_imports_nothing_and_writes_nothing(world: FakeWorld, tmp_path: Path) -> None:
    res = run_cli("--dry-run", "data", "seed", "auth")
    assert res.exit_code == 0, res.output
    assert "would run: kubectl --context kind-tour exec -i" in res.stderr
    assert not [a for a in world.argvs("kubectl") if "mongoimport" in a]
