"""`devctl tools install|list|lock|prune`: the pinned kind, kubectl and Skaffold in devctl's store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from devctl.cli._context import make_context
from devctl.cli._edge import command_app, console, json_option, print_json, print_line

if TYPE_CHECKING:
    from devctl.context import Context
    from devctl.toolchain.resolve import Toolchain

app = command_app(
    help=(
        "The kind, kubectl and Skaffold versions pinned in [tool.devctl.tools], verified against "
        "devctl-tools.lock.json and kept in devctl's store ($XDG_DATA_HOME/devctl/tools). Downloads go "
        "through DEVCTL_TOOLS_MIRROR when it is set, and through HTTPS_PROXY/NO_PROXY."
    ),
    no_args_is_help=True,
)


def _toolchain(c: Context) -> Toolchain:
    """The repo's pins and lock: the tools commands need the repo (NotInRepo outside it)."""
    c.cfg.require_repo()
    tc = c.runner.toolchain
    assert tc is not None  # Context.create gives the runner one inside the repo
    return tc


@app.command("install")
def install(
    ctx: typer.Context,
    trust_published: bool = typer.Option(
        False,
        "--trust-published",
        help="Where the lock has no checksum for this platform, check the download against the checksum file "
        "upstream publishes next to it (fetched from upstream, never from the mirror) instead of refusing.",
    ),
) -> None:
    """Download the pinned tools missing from the store, each verified against the lock before it is used."""
    from devctl.toolchain import installer
    from devctl.toolchain.fetch import Fetcher, with_mirror
    from devctl.toolchain.progress import downloads_for

    c = make_context(ctx)
    tc = _toolchain(c)
    try:
        if c.cfg.dry_run:
            for wanted in installer.missing(tc):
                check = f"sha256 {wanted.sha256}" if wanted.sha256 else f"no checksum ({wanted.missing})"
                print_line(
                    f"would download {wanted.tool} {wanted.version} from "
                    f"{with_mirror(wanted.url, c.cfg.tools_mirror)} ({check}) into {tc.store.root}"
                )
            return
        installer.install(
            tc,
            Fetcher(c.cfg.tools_mirror),
            downloads_for(c.reporter),
            c.reporter.info,
            c.reporter.warn,
            trust_published=trust_published,
        )
    finally:
        c.reporter.close()


@app.command("list")
def list_tools(
    ctx: typer.Context,
    as_json: bool = json_option("Print as JSON."),
) -> None:
    """Per tool: the pinned version, the version and path in use, and where it came from (store or PATH)."""
    from devctl.toolchain.listing import lock_state, tool_states

    c = make_context(ctx)
    tc = _toolchain(c)
    states = tool_states(tc, c.runner.resolve)
    lock = lock_state(tc)
    if as_json:
        print_json(
            {
                "platform": tc.platform,
                "store": str(tc.store.root),
                "lock": lock.to_json(),
                "tools": [s.to_json() for s in states],
            }
        )
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"devctl tools ({tc.platform or 'unsupported platform'}; store {tc.store.root})")
    for col in ("tool", "pinned", "in use", "from", "path"):
        table.add_column(col)
    for s in states:
        in_use = s.version or "[red]none[/]"
        path = s.path if s.ok else f"{s.problem} — {s.fix}"
        table.add_row(s.tool, s.pinned or "-", in_use, s.source or "-", escape(path))
    out = console()
    out.print(table)
    if lock.problem:
        out.print(escape(lock.problem), markup=False, highlight=False)
    elif not lock.exists:
        out.print(f"no lock: {lock.path}", markup=False, highlight=False)
    elif lock.missing:
        out.print(
            f"lock incomplete: no checksum for {', '.join(lock.missing)} (complete it with `devctl tools lock`)",
            markup=False,
            highlight=False,
        )


@app.command("lock")
def lock(ctx: typer.Context) -> None:
    """Rewrite devctl-tools.lock.json from the checksum files upstream publishes, for every platform."""
    from devctl.errors import UsageError
    from devctl.toolchain import locking
    from devctl.toolchain.fetch import MIRROR_VAR, Fetcher
    from devctl.toolchain.lockfile import write_lock

    c = make_context(ctx)
    tc = _toolchain(c)
    pins = tc.pins.pinned()
    try:
        if not pins:
            raise UsageError(
                f"no tools are pinned in {c.cfg.require_repo() / 'pyproject.toml'}",
                hint='add [tool.devctl.tools] with kind = "v0.31.0" and so on',
            )
        if c.cfg.tools_mirror:
            c.reporter.warn(
                f"reading the checksum files through {MIRROR_VAR}={c.cfg.tools_mirror}: compare the new lock with "
                "upstream's before committing it"
            )
        new = locking.generate(pins, Fetcher(c.cfg.tools_mirror), c.reporter.info)
        if c.cfg.dry_run:
            print_json(new.to_json())
            return
        write_lock(tc.lock_path, new)
    finally:
        c.reporter.close()
    print_line(f"wrote {tc.lock_path}: review the diff and commit it")


@app.command("prune")
def prune(ctx: typer.Context) -> None:
    """Delete the store entries no lock references (this clone's, or another clone's that installed there)."""
    from devctl.toolchain.prune import prune as run_prune

    c = make_context(ctx)
    try:
        run_prune(_toolchain(c), print_line, c.reporter.warn, dry_run=c.cfg.dry_run)
    finally:
        c.reporter.close()
