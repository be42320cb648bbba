"""`devctl data`: empty, seed and dump the services' MongoDB databases, with the tools inside the Mongo
container (``mongosh``, ``mongoimport``, ``mongoexport`` of the official image) through ``kubectl exec``:
nothing of MongoDB needs to be installed on the laptop.

Seed files: ``seed/<service>/<collection>.json``, either one JSON array of documents or one document after
another (one a line, as ``mongoexport`` writes them), in MongoDB Extended JSON (``{"$oid": ...}``,
``{"$date": ...}``). Seeding is idempotent: ``mongoimport --mode upsert`` replaces the document with the same
``_id``. A dump writes each collection back in mongoexport's own form (one compact document a line, sorted
by ``_id``), so seed -> dump gives the seed files back and a dump can be seeded again.

Reset deletes every document of every collection (``deleteMany({})``) but keeps the collections and their
indexes: a running service created those (a unique email, say) and would not create them again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devctl.context import Context
from devctl.errors import CommandError, DevctlError, UsageError
from devctl.pods import running_pod
from devctl.topology import NAMESPACE, Database, Topology, Workload, choose

# mongosh prints what print() prints; JSON keeps the answer unambiguous.
LIST_SCRIPT = (
    'print(JSON.stringify(db.getSiblingDB({db}).getCollectionNames().filter(c => !c.startsWith("system.")).sort()))'
)
RESET_SCRIPT = (
    "const d = db.getSiblingDB({db}); const out = {{}}; "
    'for (const c of d.getCollectionNames()) {{ if (!c.startsWith("system.")) '
    "out[c] = d.getCollection(c).deleteMany({{}}).deletedCount; }} print(JSON.stringify(out))"
)
START_HINT = "the databases run once `devctl up` has applied them; `devctl status` says what they are doing"
EXEC_TIMEOUT = 300.0


@dataclass(frozen=True)
class SeedFile:
    collection: str
    path: Path
    text: str
    array: bool  # one JSON array (mongoimport --jsonArray), else one document after another
    count: int


def read_seed(path: Path) -> SeedFile:
    """A seed file, checked here so a mistake names the file and line (UsageError)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read seed file {path}: {err}") from None
    array = text.lstrip().startswith("[")
    if array:
        try:
            docs = json.loads(text)
        except json.JSONDecodeError as err:
            raise UsageError(f"{path}:{err.lineno}: not JSON ({err.msg})", hint="fix the seed file") from None
        bad = next((i for i, d in enumerate(docs) if not isinstance(d, dict)), None)
        if bad is not None:
            raise UsageError(f"{path}: element {bad + 1} of the array is not a document (a JSON object)")
        return SeedFile(path.stem, path, text, True, len(docs))
    count = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as err:
            raise UsageError(
                f"{path}:{lineno}: not a JSON document ({err.msg})",
                hint="a seed file is one JSON array, or one JSON document a line",
            ) from None
        if not isinstance(doc, dict):
            raise UsageError(f"{path}:{lineno}: not a document (a JSON object)")
        count += 1
    return SeedFile(path.stem, path, text, False, count)


def seed_files(directory: Path, service: str) -> list[SeedFile]:
    folder = directory / service
    return [read_seed(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def choose_databases(topo: Topology, names: Sequence[str]) -> list[Database]:
    known = {d.service: d for d in topo.databases}
    return [known[n] for n in choose(names, list(known), "service with a database")]


def _mongo(ctx: Context, topo: Topology, db: Database) -> tuple[str, Workload]:
    workload = topo.serving(db.host)
    if workload is None:
        raise DevctlError(f"the manifests have no workload {db.host} for {db.service}'s database")
    return running_pod(ctx, workload, start_hint=START_HINT), workload


def _exec(
    ctx: Context,
    pod: str,
    workload: Workload,
    command: list[str],
    what: str,
    *,
    input: str | None = None,
    changes: bool = False,
) -> str:
    try:
        res = ctx.kubectl.exec(
            pod, workload.container, command, namespace=NAMESPACE, input=input, changes=changes, timeout=EXEC_TIMEOUT
        )
    except CommandError as err:
        raise DevctlError(f"{what} failed in pod {pod}") from err
    return res.stdout


def seed(ctx: Context, topo: Topology, db: Database, files: Sequence[SeedFile]) -> list[tuple[str, int]]:
    """Load each file into its collection (same ``_id`` replaces); (collection, documents) per file."""
    if not files:
        return []
    pod, workload = _mongo(ctx, topo, db)
    for f in files:
        command = ["mongoimport", "--db", db.name, "--collection", f.collection, "--mode", "upsert"]
        command += ["--jsonArray"] if f.array else []
        _exec(ctx, pod, workload, command, f"importing {f.path}", input=f.text, changes=True)
    return [(f.collection, f.count) for f in files]


def collections(ctx: Context, pod: str, workload: Workload, db: Database) -> list[str]:
    script = LIST_SCRIPT.format(db=json.dumps(db.name))
    out = _exec(ctx, pod, workload, ["mongosh", "--quiet", "--eval", script], f"listing {db.name}'s collections")
    found = _last_json(out)
    if not isinstance(found, list):
        raise _unexpected(out)
    return [str(n) for n in found]


def dump(ctx: Context, topo: Topology, db: Database, to: Path) -> list[tuple[str, int, Path]]:
    """Each collection to ``<to>/<service>/<collection>.json``; other .json files there are removed, so the
    folder holds exactly the database. An empty database writes nothing (and removes nothing)."""
    pod, workload = _mongo(ctx, topo, db)
    names = collections(ctx, pod, workload, db)
    if not names:
        return []
    texts = {}
    for name in names:
        command = ["mongoexport", "--db", db.name, "--collection", name, "--sort", '{"_id":1}']
        texts[name] = _exec(ctx, pod, workload, command, f"exporting {db.name}.{name}")
    folder = to / db.service
    if ctx.cfg.dry_run:  # the exports only read; the files are what would change
        return [(name, len(text.splitlines()), folder / f"{name}.json") for name, text in texts.items()]
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        if stale.stem not in texts:
            stale.unlink()
    written = []
    for name, text in texts.items():
        lines = [ln for ln in text.splitlines() if ln.strip()]
        path = folder / f"{name}.json"
        path.write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")
        written.append((name, len(lines), path))
    return written


def reset(ctx: Context, topo: Topology, db: Database) -> dict[str, int]:
    """Delete every document of the database's collections; documents deleted per collection."""
    pod, workload = _mongo(ctx, topo, db)
    script = RESET_SCRIPT.format(db=json.dumps(db.name))
    out = _exec(ctx, pod, workload, ["mongosh", "--quiet", "--eval", script], f"emptying {db.name}", changes=True)
    if not out.strip() and ctx.cfg.dry_run:
        return {}
    found = _last_json(out)
    if not isinstance(found, dict):
        raise _unexpected(out)
    return {str(k): int(v) for k, v in found.items()}


def _last_json(out: str) -> object:
    """The last line mongosh printed, parsed (the scripts print one JSON value); None if it is not JSON."""
    lines = [ln for ln in out.splitlines() if ln.strip()]
    try:
        return json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        return None


def _unexpected(out: str) -> DevctlError:
    return DevctlError(f"mongosh printed something else than the JSON devctl asked for: {out.strip()[:200]!r}")
