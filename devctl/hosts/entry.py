"""The hosts-file entry for the cluster's host: add, remove, judge. The only code that changes the file
(``devctl status`` reads it with the same ``safe_write.read_hosts`` and ``block.judge``).

Built the pipx ``ensure_path`` way (style.md Take 9): read the bytes, a pure plan in
``devctl.hosts.block`` gives the new bytes, "unchanged" means no write, ``--dry-run`` shows a diff,
and only then ``devctl.hosts.safe_write`` writes (lock, backup, atomic replace or in-place fallback).
When the file is not writable, only that write step runs elevated: devctl re-runs its hidden
``hosts _write`` command through ``sudo`` (the prompt stays visible), which re-reads and re-plans
under the lock. Nothing here prints; callers render the returned records.
"""

from __future__ import annotations

import configparser
import difflib
import os
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from devctl.config import Config, default_hosts_file
from devctl.errors import DevctlError, ToolNotFound, UsageError, command_line
from devctl.host_checks import is_wsl
from devctl.hosts import block, safe_write
from devctl.hosts.block import Action, BlockPlan, Entry
from devctl.runner import Runner

WINDOWS_HOSTS = r"C:\Windows\System32\drivers\etc\hosts"
WSL_WINDOWS_HOSTS = Path("/mnt/c/Windows/System32/drivers/etc/hosts")  # hosts-file.md §2
WSL_CONF = Path("/etc/wsl.conf")
RESOLVE_TIMEOUT = 5.0

Notify = Callable[[str], None]
Resolve = Callable[[str], list[str]]


class NeedsElevation(DevctlError):
    """The file is not writable and sudo was not to be used; ``argv`` is the command that would do it."""

    def __init__(self, message: str, argv: list[str], *, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.argv = argv


@dataclass(frozen=True)
class Target:
    path: Path
    windows: bool  # the Windows hosts file reached from WSL through /mnt/c
    system: bool  # the file this machine's resolver reads


@dataclass(frozen=True)
class Change:
    """What add/remove did (or, under --dry-run, would do)."""

    path: str
    action: Action  # add | update | remove | none
    reason: str
    written: bool
    dry_run: bool = False
    elevated: bool = False
    method: str | None = None  # replace | in-place
    backup: str | None = None
    diff: str = ""
    entries: tuple[Entry, ...] = ()  # lines naming the host before the change
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.action != "none"


@dataclass(frozen=True)
class HostsStatus:
    path: str
    host: str
    ip: str
    state: str  # ok | missing | elsewhere
    detail: str
    block: bool  # devctl's block for this cluster is present
    system_file: bool
    entries: tuple[Entry, ...] = ()
    resolver: tuple[str, ...] | None = None  # addresses getaddrinfo returned; None = not checked
    resolver_error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state == "ok"


# --- platform ---------------------------------------------------------------------------------------


def wsl_generates_hosts(wsl_conf: Path | None = None) -> bool:
    """Whether WSL rewrites /etc/hosts at distro start (on unless ``[network] generateHosts = false``)."""

    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string((wsl_conf or WSL_CONF).read_text(encoding="utf-8", errors="replace"))
        return parser.getboolean("network", "generateHosts", fallback=True)
    except (OSError, configparser.Error, ValueError):
        return True


def _same_path(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def target_for(cfg: Config, *, windows: bool = False) -> Target:
    if windows:
        if not is_wsl():
            raise UsageError(
                "--windows manages the Windows hosts file from inside WSL, and this is not WSL",
                hint="on Windows itself devctl already uses its hosts file; elsewhere, drop --windows",
            )
        return Target(WSL_WINDOWS_HOSTS, windows=True, system=False)
    return Target(cfg.hosts_file, windows=False, system=_same_path(cfg.hosts_file, default_hosts_file()))


def wsl_notes(
    cfg: Config, target: Target, *, proc_version: Path | None = None, wsl_conf: Path | None = None
) -> list[str]:
    if target.windows or not is_wsl(proc_version):
        return []
    notes = [
        f"WSL: browsers on Windows read {WINDOWS_HOSTS}, not this file. Add '{cfg.host_ip} {cfg.host}' there "
        "(as Administrator), or run devctl hosts add --windows from a WSL shell started as Administrator."
    ]
    if target.system and wsl_generates_hosts(wsl_conf):
        notes.append(
            "WSL rewrites /etc/hosts from the Windows hosts file when the distro starts; to keep devctl's "
            "entry, set [network] generateHosts = false in /etc/wsl.conf (or add the entry on Windows)."
        )
    return notes


# --- elevation --------------------------------------------------------------------------------------


def elevated_argv(action: str, cfg: Config, path: Path) -> list[str]:
    """The one command that performs only the write, as root (also what --no-sudo prints)."""
    return [
        "sudo", sys.executable, "-m", "devctl", "--cluster", cfg.cluster,
        "hosts", "_write", "--action", action,
        "--hosts-file", os.path.abspath(path), "--host", cfg.host, "--ip", cfg.host_ip,
    ]  # fmt: skip


def planner(action: str, host: str, ip: str, cluster: str, target: Target) -> Callable[[bytes], BlockPlan]:
    hint = str(target.path)
    newline = b"\r\n" if target.windows else b"\n"  # the Windows file uses CRLF (hosts-file.md §1)
    if action == "add":
        return lambda data: block.plan_add(data, host, ip, cluster, default_newline=newline, path_hint=hint)
    if action == "remove":
        return lambda data: block.plan_remove(data, host, cluster, path_hint=hint)
    raise ValueError(f"unknown hosts action {action!r}")


def write_step(cfg: Config, action: str, path: Path) -> safe_write.Applied:
    """The elevated child's whole job: lock, re-read, re-plan, write (devctl hosts _write)."""
    windows = _same_path(path, WSL_WINDOWS_HOSTS)
    return safe_write.apply(path, planner(action, cfg.host, cfg.host_ip, cfg.cluster, Target(path, windows, False)))


# --- add / remove -----------------------------------------------------------------------------------


def _diff(path: Path, old: bytes, new: bytes) -> str:
    def lines(data: bytes) -> list[str]:
        return [block._show(line.rstrip(b"\r\n")) for line in block.split_lines(data)]

    return "\n".join(difflib.unified_diff(lines(old), lines(new), str(path), f"{path} (new)", lineterm=""))


def _change(
    cfg: Config, runner: Runner, action: str, target: Target, *, no_sudo: bool, notify: Notify | None
) -> Change:
    path = target.path
    plan_for = planner(action, cfg.host, cfg.host_ip, cfg.cluster, target)
    notes = wsl_notes(cfg, target)
    if action == "remove" and not os.path.lexists(path):
        return Change(str(path), "none", f"{path} does not exist; nothing to remove", written=False)
    old = safe_write.read_hosts(path)
    plan = plan_for(old)
    if action == "remove":
        notes += [
            f"line {e.lineno} still maps {cfg.host} to {e.address}: devctl did not write it and leaves it"
            for e in plan.entries
            if not e.in_block
        ]
    base = Change(str(path), plan.action, plan.reason, written=False, entries=plan.entries, notes=tuple(notes))
    if not plan.changed:
        return base
    diff = _diff(path, old, plan.new)
    if cfg.dry_run:
        return replace(base, dry_run=True, diff=diff)
    if safe_write.can_write(path):
        applied = safe_write.apply(path, plan_for)
        return replace(
            base,
            action=applied.plan.action,
            reason=applied.plan.reason,
            written=applied.method is not None,
            method=applied.method,
            backup=str(applied.backup) if applied.backup else None,
            diff=diff if applied.method else "",
        )
    _elevate(cfg, runner, action, target, no_sudo=no_sudo, notify=notify)
    after = plan_for(safe_write.read_hosts(path))
    if after.changed:
        raise DevctlError(f"the elevated write finished but {path} still needs: {after.reason}")
    bak = safe_write.backup_path(path)
    backup = str(bak) if os.path.lexists(bak) else None
    return replace(base, written=True, elevated=True, diff=diff, backup=backup)


def _elevate(cfg: Config, runner: Runner, action: str, target: Target, *, no_sudo: bool, notify: Notify | None) -> None:
    path = target.path
    if target.windows:
        lines = block.render_block(cfg.host, cfg.host_ip, cfg.cluster, b"\n").decode().rstrip("\n")
        what = "add these lines to it" if action == "add" else "delete devctl's block from it"
        raise DevctlError(
            f"cannot write {path}: Windows lets only an elevated process change its hosts file",
            hint=f"run devctl from a WSL shell started as Administrator, or open {WINDOWS_HOSTS} "
            f"in an editor run as Administrator and {what}:\n{lines}",
        )
    argv = elevated_argv(action, cfg, path)
    if no_sudo:
        raise NeedsElevation(
            f"{path} is not writable by this user and --no-sudo was given; nothing was changed",
            argv,
            hint=f"to make the change, run: {command_line(argv)}",
        )
    if notify is not None:
        notify(f"{path} is not writable by you; running just the write step with sudo: {command_line(argv)}")
    try:
        code = runner.interactive(argv)
    except ToolNotFound:
        raise DevctlError(
            f"{path} is not writable and sudo is not installed",
            hint=f"run as an administrator: {command_line(argv[1:])}",
        ) from None
    if code != 0:
        raise DevctlError(
            f"the elevated write of {path} failed (exit code {code}); see its message above",
            hint=f"or run it yourself: {command_line(argv)}",
        )


def ensure_entry(
    cfg: Config, runner: Runner, *, no_sudo: bool = False, windows: bool = False, notify: Notify | None = None
) -> Change:
    """Make the hosts file map cfg.host to cfg.host_ip (``devctl up`` calls this first)."""
    return _change(cfg, runner, "add", target_for(cfg, windows=windows), no_sudo=no_sudo, notify=notify)


def remove_entry(
    cfg: Config, runner: Runner, *, no_sudo: bool = False, windows: bool = False, notify: Notify | None = None
) -> Change:
    """Take devctl's block out again, restoring the file byte for byte (``devctl down --hosts``)."""
    return _change(cfg, runner, "remove", target_for(cfg, windows=windows), no_sudo=no_sudo, notify=notify)


# --- status -----------------------------------------------------------------------------------------


def resolve(host: str, timeout: float = RESOLVE_TIMEOUT) -> list[str]:
    """What the system resolver returns for host (getaddrinfo, so nsswitch, caches and DNS all count).

    Runs in a daemon thread: a missing entry sends the query to DNS, which may hang without a network.
    """

    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["ok"] = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError as err:
            box["err"] = err

    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(timeout)
    if "err" in box:
        raise OSError(str(box["err"]))
    if "ok" not in box:
        raise OSError(f"no answer within {timeout:g} s")
    seen: list[str] = []
    for info in box["ok"]:  # type: ignore[attr-defined]
        addr = str(info[4][0])
        if addr not in seen:
            seen.append(addr)
    return seen


def _cache_hint() -> str:
    if sys.platform == "darwin":
        return "; flush the cache: sudo dscacheutil -flushcache; sudo killall -HUP mDNSResponder"
    if sys.platform.startswith("win"):
        return "; flush the cache: ipconfig /flushdns"
    return ""


def status(cfg: Config, *, windows: bool = False, resolver: Resolve | None = resolve) -> HostsStatus:
    """How the file maps cfg.host and, for the system's file, what ``resolver`` answers (None: not asked)."""
    target = target_for(cfg, windows=windows)
    data = safe_write.read_hosts(target.path)
    state, detail, doc = block.judge(data, cfg.host, cfg.host_ip, cfg.cluster, path_hint=str(target.path))
    warnings = wsl_notes(cfg, target)
    addrs: tuple[str, ...] | None = None
    err_text: str | None = None
    if target.system and resolver is not None:
        try:
            addrs = tuple(resolver(cfg.host))
        except OSError as err:
            err_text = str(err)
        if err_text is not None:
            warnings.append(f"the system resolver finds no address for {cfg.host} ({err_text})")
        elif addrs is not None and not (addrs and all(block.same_address(a, cfg.host_ip) for a in addrs)):
            warnings.append(
                f"the system resolver returns {', '.join(addrs) or 'nothing'} for {cfg.host}, "
                f"not only {cfg.host_ip}: a stale entry, another resolver (systemd-resolved, a VPN) "
                f"or a DNS cache overrides the file{_cache_hint()}"
            )
    return HostsStatus(
        path=str(target.path),
        host=cfg.host,
        ip=cfg.host_ip,
        state=state,
        detail=detail,
        block=doc.block is not None,
        system_file=target.system,
        entries=doc.entries,
        resolver=addrs,
        resolver_error=err_text,
        warnings=tuple(warnings),
    )
