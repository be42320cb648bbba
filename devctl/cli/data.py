"""`devctl data reset|seed|dump [SERVICE...]`: parse, call devctl.data, say what happened."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from devctl import data, topology
from devctl.cli._context import make_context
from devctl.cli._edge import command_app, print_line
from devctl.context import Context
from devctl.errors import DevctlError, UsageError
from devctl.stack import SEED_DIR
from devctl.topology import Database, Topology

app = command_app(
    help=(
        "Empty, seed or dump the services' MongoDB databases (auth, booking, payment, review, tour), with the "
        "tools inside the Mongo containers. The data lives in the cluster and survives Ctrl-C and `devctl up`; "
        "`devctl down` deletes it with the cluster."
    ),
    no_args_is_help=True,
)

SERVICES = Annotated[
    list[str] | None, typer.Argument(metavar="[SERVICE]...", help="Services whose database to use (default: all).")
]


def _chosen(ctx: typer.Context, services: list[str] | None) -> tuple[Context, Topology, list[Database]]:
    """The command's Context, the stack's topology and the databases the user named (all by default)."""
    c = make_context(ctx)
    topo = topology.load(c.cfg)
    return c, topo, data.choose_databases(topo, services or [])


def _seed_dir(value: str | None, c: Context) -> Path:
    """The folder given as a flag, or the repo's seed/."""
    if value is None:
        return c.cfg.require_repo() / SEED_DIR
    return Path(value).expanduser().absolute()


@app.command()
def reset(
    ctx: typer.Context,
    services: SERVICES = None,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete every document of the chosen databases (collections and indexes stay)."""
    c, topo, chosen = _chosen(ctx, services)
    names = ", ".join(d.service for d in chosen)
    if not yes and not c.cfg.dry_run:
        try:
            agreed = typer.confirm(f"Delete every document in the databases of {names}?", default=False)
        except typer.Abort:
            raise UsageError(
                "data reset deletes documents and needs a yes", hint="answer on a terminal, or pass --yes"
            ) from None
        if not agreed:
            raise DevctlError("data reset not confirmed: nothing was deleted", hint="pass --yes to skip the question")
    for db in chosen:
        deleted = data.reset(c, topo, db)
        what = ", ".join(f"{name} ({n} deleted)" for name, n in deleted.items()) or "no collections"
        print_line(f"{db.service}: emptied {db.name}: {what}")


@app.command()
def seed(
    ctx: typer.Context,
    services: SERVICES = None,
    source: str = typer.Option(
        None, "--from", metavar="DIR", help="Read <DIR>/<service>/<collection>.json [default: seed/ of the repo]."
    ),
) -> None:
    """Load seed/<service>/*.json into each chosen database; a document with the same _id is replaced."""
    c, topo, chosen = _chosen(ctx, services)
    folder = _seed_dir(source, c)
    plans = [(db, data.seed_files(folder, db.service)) for db in chosen]  # every file checked before any import
    for db, files in plans:
        if not files:
            print_line(f"{db.service}: nothing to seed (no {folder / db.service}/*.json)")
            continue
        loaded = data.seed(c, topo, db, files)
        print_line(f"{db.service}: " + ", ".join(f"{name} {n} document(s)" for name, n in loaded) + f" into {db.name}")


@app.command()
def dump(
    ctx: typer.Context,
    services: SERVICES = None,
    to: str = typer.Option(
        None, "--to", metavar="DIR", help="Write <DIR>/<service>/<collection>.json [default: seed/ of the repo]."
    ),
) -> None:
    """Write each chosen database out as seed files (one document a line, sorted by _id)."""
    c, topo, chosen = _chosen(ctx, services)
    folder = _seed_dir(to, c)
    for db in chosen:
        written = data.dump(c, topo, db, folder)
        if not written:
            print_line(f"{db.service}: {db.name} has no collections; nothing written")
            continue
        print_line(f"{db.service}: " + ", ".join(f"{name} {n} document(s) -> {path}" for name, n, path in written))
