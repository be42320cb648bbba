"""The MongoDB tools of the official `mongo` image, as `kubectl exec` runs them in the fake (pod_exec).

Documents are kept as the JSON (Extended JSON v2) they were imported as, per database and collection, in
insertion order, each as its compact text: MongoDB keeps a document's fields in their order, and the
fake's state file sorts the keys of what it stores as objects. What each tool does here, from the MongoDB
Database Tools' documentation and their output as commonly seen (every log line on stderr behind an ISO
timestamp and a tab):

- `mongoimport --db D --collection C [--mode insert|upsert] [--jsonArray] [--quiet]`, documents on stdin:
  one JSON document after another, or with --jsonArray one array. `--mode upsert` replaces the document
  with the same `_id` ("Replace existing documents in the database with matching documents from the
  import file"), insert adds. Logs `connected to: mongodb://localhost/` and `N document(s) imported successfully.
  M document(s) failed to import.`; a document that is not JSON: `Failed: error processing document #N:
  <reason>`, exit 1. An insert of an existing `_id` fails that document (E11000), exit 0.
- `mongoexport --db D --collection C [--sort JSON] [--quiet]`: one document per line on stdout, compact
  relaxed Extended JSON; logs `connected to: ...` and `exported N records` (`1 record`). A collection
  that does not exist exports 0 records.
- `mongosh --quiet --eval SCRIPT`: the fake runs exactly the two scripts devctl sends, recognised by their
  shape: the list of a database's collections (`getCollectionNames`), and emptying each of them
  (`deleteMany({})`), printing what `print(JSON.stringify(...))` prints. Any other script:
  `MongoshInvalidInputError: [fake mongosh] this script is not simulated`, exit 1.
Unknown options: `error parsing command line options: unknown option "<opt>"`, exit 1.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
import time
from typing import Any

DB_PATH = "/data/db"  # mongod's default dbPath: where the data of the container lives
VALUE_OPTS = {"--db": "db", "-d": "db", "--collection": "collection", "-c": "collection", "--mode": "mode",
              "--sort": "sort", "--eval": "eval", "--jsonFormat": "format", "--host": "host", "--port": "port"}
FLAG_OPTS = {"--jsonArray", "--quiet", "--drop"}
_SIBLING = re.compile(r'getSiblingDB\(("(?:[^"\\]|\\.)*")\)')

Databases = dict[str, dict[str, list[str]]]  # database -> collection -> documents (compact JSON text)


class Usage(Exception):
    pass


def _log(text: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
    sys.stderr.write(f"{stamp}\t{text}\n")


def _parse(args: list[str]) -> tuple[dict[str, str], set[str]]:
    values: dict[str, str] = {}
    flags: set[str] = set()
    i = 0
    while i < len(args):
        name, eq, val = args[i].partition("=")
        if name in VALUE_OPTS:
            if not eq:
                i += 1
                if i >= len(args):
                    raise Usage(f"expected argument for flag `{name}'")
                val = args[i]
            values[VALUE_OPTS[name]] = val
        elif args[i] in FLAG_OPTS:
            flags.add(args[i])
        else:
            raise Usage(f'unknown option "{args[i]}"')
        i += 1
    return values, flags


def run(program: str, args: list[str], stdin: str, databases: Databases) -> int:
    try:
        values, flags = _parse(args)
    except Usage as err:
        _log(f"error parsing command line options: {err}")
        _log(f"try '{program} --help' for more information")
        return 1
    if program == "mongosh":
        return _mongosh(values.get("eval", ""), databases)
    quiet = "--quiet" in flags
    if not quiet:
        _log("connected to: mongodb://localhost/")
    db, name = values.get("db", "test"), values.get("collection", "")
    if program == "mongoimport":
        collection = databases.setdefault(db, {}).setdefault(name, [])
        return _import(stdin, "--jsonArray" in flags, values.get("mode", "insert"), collection, quiet)
    existing = databases.get(db, {}).get(name, [])  # exporting a collection does not create it
    docs = sorted(existing, key=_order) if values.get("sort") else list(existing)
    if values.get("sort", "").replace(" ", "") in ('{"_id":-1}', "{_id:-1}"):
        docs.reverse()
    for doc in docs:
        sys.stdout.write(doc + "\n")
    if not quiet:
        _log(f"exported {len(docs)} record" + ("" if len(docs) == 1 else "s"))
    return 0


def _documents(text: str, array: bool) -> list[Any]:
    if array:
        found = json.loads(text)
        if not isinstance(found, list):
            raise ValueError("JSON array expected")
        return found
    decoder, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        doc, i = decoder.raw_decode(text, i)
        out.append(doc)


def _compact(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _id_of(text: str) -> Any:
    return json.loads(text).get("_id")


def _import(text: str, array: bool, mode: str, collection: list[str], quiet: bool) -> int:
    try:
        docs = _documents(text, array)
    except ValueError as err:
        _log(f"Failed: error processing document #1: {err}")
        _log("0 document(s) imported successfully. 0 document(s) failed to import.")
        return 1
    done = failed = 0
    for doc in docs:
        if not isinstance(doc, dict):
            failed += 1
            continue
        if "_id" not in doc:  # the server adds an ObjectId, first
            doc = {"_id": {"$oid": secrets.token_hex(12)}, **doc}
        at = next((i for i, old in enumerate(collection) if _id_of(old) == doc["_id"]), None)
        if at is not None and mode == "upsert":
            collection[at] = _compact(doc)
        elif at is not None:
            _log(f"continuing through error: E11000 duplicate key error collection: index: _id_ dup key: "
                 f"{{ _id: {json.dumps(doc['_id'])} }}")
            failed += 1
            continue
        else:
            collection.append(_compact(doc))
        done += 1
    if not quiet:
        _log(f"{done} document(s) imported successfully. {failed} document(s) failed to import.")
    return 0


def _order(doc: str) -> tuple[int, Any]:
    """BSON's order of _id types: numbers < strings < objects < ObjectId."""
    value = _id_of(doc)
    if isinstance(value, dict) and "$oid" in value:
        return 7, str(value["$oid"])
    if isinstance(value, bool):
        return 8, value
    if isinstance(value, int | float):
        return 1, value
    if isinstance(value, str):
        return 2, value
    return 3, json.dumps(value, sort_keys=True)


def _mongosh(script: str, databases: Databases) -> int:
    m = _SIBLING.search(script)
    if m is None or "getCollectionNames()" not in script:
        sys.stderr.write("MongoshInvalidInputError: [fake mongosh] this script is not simulated\n")
        return 1
    db = databases.setdefault(json.loads(m.group(1)), {})
    names = sorted(n for n in db if not n.startswith("system."))
    if "deleteMany({})" in script:
        deleted = {n: len(db[n]) for n in names}
        for n in names:
            db[n].clear()
        sys.stdout.write(json.dumps(deleted, separators=(",", ":")) + "\n")
        return 0
    sys.stdout.write(json.dumps(names, separators=(",", ":")) + "\n")
    return 0
