"""`devctl hosts add|remove|status`: parse options, call devctl.hosts.entry, render the result."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import typer

from devctl.cli._context import load_config
from devctl.cli._edge import command_app, console, err_console, json_option, print_json
from devctl.errors import Verdict

if TYPE_CHECKING:
    from devctl.config import Config
    from devctl.hosts.entry import Change, HostsStatus
    from devctl.runner import Runner

app = command_app(
    help=(
        "Add, remove or check the hosts-file entry that maps the project's host (default tour.xyz) "
        "to the ingress address (default 127.0.0.1).\n\n"
        "devctl owns one marked block in the file (BEGIN/END lines naming devctl and the cluster) and "
        "never changes a byte outside it: `add` then `remove` gives back the original file. When the "
        "file is not writable, only the write runs through sudo (the password prompt stays visible); "
        "--no-sudo prints that command instead. The first change leaves a backup next to the file "
        "(<file>.devctl-backup).\n\n"
        "\b\nOptions (see `devctl hosts COMMAND --help`):\n"
        "  --host HOST        host name [env DEVCTL_HOST; default tour.xyz]\n"
        "  --ip IP            address [env DEVCTL_HOST_IP; default 127.0.0.1]\n"
        "  --hosts-file PATH  file to manage [env DEVCTL_HOSTS_FILE; default the OS's]\n"
        "  --windows          WSL: manage the Windows hosts file instead\n"
        "  --no-sudo          add/remove: print the sudo command instead of running it\n"
        "  --json             status: print JSON\n"
        "  devctl --dry-run hosts add|remove shows the diff and writes nothing."
    ),
    no_args_is_help=True,
)

HOST = typer.Option(None, "--host", metavar="HOST", help="Host name to map [env DEVCTL_HOST; default: tour.xyz].")
IP = typer.Option(None, "--ip", metavar="IP", help="Address to map it to [env DEVCTL_HOST_IP; default: 127.0.0.1].")
HOSTS_FILE = typer.Option(
    None,
    "--hosts-file",
    metavar="PATH",
    help="Hosts file to manage [env DEVCTL_HOSTS_FILE; default: the OS's, /etc/hosts or "
    r"C:\Windows\System32\drivers\etc\hosts].",
)
NO_SUDO = typer.Option(
    False,
    "--no-sudo",
    help="If the file is not writable, print the exact sudo command that would write it and exit 1 "
    "instead of running it.",
)
WINDOWS = typer.Option(
    False,
    "--windows",
    help="WSL only: manage the Windows hosts file (/mnt/c/Windows/System32/drivers/etc/hosts), which "
    "Windows browsers read. Writing it needs a WSL shell started as Administrator; otherwise devctl "
    "prints the lines to add there.",
)


def _config(ctx: typer.Context, host: str | None, ip: str | None, hosts_file: str | None) -> Config:
    return load_config(ctx, host=host, host_ip=ip, hosts_file=hosts_file)


def _runner(cfg: Config) -> Runner:
    from devctl.runner import Runner

    return Runner(verbose=cfg.verbose, dry_run=cfg.dry_run)


def _notify(message: str) -> None:
    err_console().print(message, markup=False, highlight=False)


def _render_change(change: Change) -> None:
    out = console()
    for note in change.notes:
        err_console().print("note: " + note, markup=False, highlight=False)
    if not change.changed:
        out.print(f"✓ {change.path}: {change.reason}; nothing to do", markup=False, highlight=False)
        return
    if change.dry_run:
        typer.echo(change.diff)  # raw: rich would expand the tabs of the lines it shows
        out.print(f"dry run: would {change.reason} in {change.path}; nothing written", markup=False)
        return
    how = " (through sudo)" if change.elevated else ""
    out.print(f"✓ {change.path} written{how}: {change.reason}", markup=False, highlight=False)
    if change.backup:
        err_console().print(
            f"the file as it was before devctl's first change is in {change.backup}", markup=False, highlight=False
        )


@app.command("add")
def add(
    ctx: typer.Context,
    host: str | None = HOST,
    ip: str | None = IP,
    hosts_file: str | None = HOSTS_FILE,
    no_sudo: bool = NO_SUDO,
    windows: bool = WINDOWS,
) -> None:
    """Map HOST to IP in devctl's block (idempotent). Exit 1 if a line devctl did not write maps HOST
    elsewhere (devctl then changes nothing)."""
    from devctl.hosts import entry

    cfg = _config(ctx, host, ip, hosts_file)
    change = entry.ensure_entry(cfg, _runner(cfg), no_sudo=no_sudo, windows=windows, notify=_notify)
    _render_change(change)


@app.command("remove")
def remove(
    ctx: typer.Context,
    host: str | None = HOST,
    ip: str | None = IP,
    hosts_file: str | None = HOSTS_FILE,
    no_sudo: bool = NO_SUDO,
    windows: bool = WINDOWS,
) -> None:
    """Remove devctl's block for this cluster, restoring the file byte for byte. Lines devctl did not
    write stay."""
    from devctl.hosts import entry

    cfg = _config(ctx, host, ip, hosts_file)
    change = entry.remove_entry(cfg, _runner(cfg), no_sudo=no_sudo, windows=windows, notify=_notify)
    _render_change(change)


def status_dict(st: HostsStatus) -> dict[str, Any]:
    data = asdict(st)
    data["ok"] = st.ok
    return data


def _render_status(st: HostsStatus) -> None:
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    mark = "✓ ok" if st.ok else ("✗ missing" if st.state == "missing" else "✗ maps elsewhere")
    table.add_row("hosts file", st.path)
    table.add_row("wanted", f"{st.host} -> {st.ip}")
    table.add_row("state", f"{mark}: {st.detail}")
    table.add_row("devctl block", "present" if st.block else "absent")
    for e in st.entries:
        table.add_row(f"line {e.lineno}", e.text + ("  (devctl)" if e.in_block else ""))
    if st.system_file:
        got = ", ".join(st.resolver) if st.resolver else f"nothing ({st.resolver_error})"
        table.add_row("resolver", got)
    console().print(table, markup=False, highlight=False)
    for w in st.warnings:
        err_console().print("WARNING: " + w, markup=False, highlight=False)


@app.command("status")
def status(
    ctx: typer.Context,
    host: str | None = HOST,
    ip: str | None = IP,
    hosts_file: str | None = HOSTS_FILE,
    windows: bool = WINDOWS,
    as_json: bool = json_option("Print the result as JSON on stdout."),
) -> None:
    """Judge the file: exit 0 if it maps HOST to IP (devctl's block or a line of yours), 1 if the entry
    is missing or maps elsewhere. For the system's hosts file, also show what the resolver
    (getaddrinfo) returns and warn when it differs."""
    from devctl.hosts import entry

    cfg = _config(ctx, host, ip, hosts_file)
    st = entry.status(cfg, windows=windows)
    if as_json:
        print_json(status_dict(st))
    else:
        _render_status(st)
    if not st.ok:
        raise Verdict(
            st.detail, hint=f"run `devctl hosts add` to map {cfg.host} to {cfg.host_ip} (`devctl up` does it too)"
        )


@app.command("_write", hidden=True)
def write(
    ctx: typer.Context,
    action: str = typer.Option(..., "--action", help="add or remove"),
    host: str | None = HOST,
    ip: str | None = IP,
    hosts_file: str | None = HOSTS_FILE,
) -> None:
    """Internal: the elevated write step (run by devctl through sudo). Locks, re-reads, re-plans, writes."""
    from devctl.errors import UsageError
    from devctl.hosts import entry

    if action not in ("add", "remove"):
        raise UsageError(f"--action must be add or remove, not {action!r}")
    cfg = _config(ctx, host, ip, hosts_file)
    entry.write_step(cfg, action, cfg.hosts_file)
