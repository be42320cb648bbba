"""`devctl doctor`: checks of this machine, as data (rendered as a table or JSON by the CLI).

Each check says ok / warn / fail / info, what it saw and, when not ok, what to do. ``required``
checks gate `devctl up` (ctlptl's EnsureInstalled, kind's provider validation: check before changing
anything).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devctl.check import Check
from devctl.cluster.observe import published_ports
from devctl.context import Context
from devctl.errors import DevctlError, ToolNotFound
from devctl.hosts import entry
from devctl.hosts.entry import is_wsl
from devctl.ports import probe
from devctl.routing.ingresses import load_ingresses
from devctl.routing.lint import lint
from devctl.routing.rules import CATCH_ALL, build_routes, select_server
from devctl.toolchain.listing import lock_state
from devctl.toolchain.resolve import STORE
from devctl.tools.install import install_hint


def parse_version(text: str) -> tuple[int, int, int] | None:
    m = re.search(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def _fmt(v: tuple[int, int, int]) -> str:
    return ".".join(map(str, v))


def _tool_check(ctx: Context, tool: str, get_version: Callable[[], str], minimum: tuple[int, int, int]) -> Check:
    if ctx.runner.which(tool) is None:
        return Check(tool, "fail", "not found on PATH", install_hint(tool), required=True)
    try:
        raw = get_version()
    except ToolNotFound:
        return Check(tool, "fail", "not found on PATH", install_hint(tool), required=True)
    except DevctlError as err:
        return Check(tool, "fail", f"`{tool}` failed to report its version: {err}", install_hint(tool), required=True)
    version = parse_version(raw)
    if version is None:
        return Check(tool, "warn", f"unrecognised version {raw!r}", required=True)
    if version < minimum:
        return Check(
            tool,
            "fail",
            f"{_fmt(version)} is older than {_fmt(minimum)}",
            f"upgrade: {install_hint(tool)}",
            required=True,
        )
    return Check(tool, "ok", _fmt(version), required=True)


def check_pinned_tool(ctx: Context, tool: str) -> Check:
    """kind, kubectl, skaffold: resolved as every command resolves them (devctl.toolchain.resolve)."""

    try:
        r = ctx.runner.resolve(tool)
    except DevctlError as err:
        return Check(tool, "fail", err.message, err.hint or install_hint(tool), required=True)
    where = "devctl's tool store" if r.source == STORE else "PATH"
    return Check(
        tool,
        "ok",
        f"{r.version} from {where}: {r.path}",
        required=True,
        version=r.version,
        path=r.path,
        source=r.source,
    )


def check_tool_lock(ctx: Context) -> Check:
    """The lock must have a checksum for every pinned tool on every platform; until then `devctl tools
    install` refuses those (and `up` falls back to the tools on PATH there)."""

    tc = ctx.runner.toolchain
    if tc is None or not tc.pins.pinned():
        return Check("tool lock", "info", "no tools pinned in [tool.devctl.tools]: they come from PATH")
    state = lock_state(tc)
    fix = "run `devctl tools lock` on a machine that reaches the download sites, review and commit the lock"
    if state.problem:
        return Check("tool lock", "warn", state.problem, fix)
    if not state.exists:
        return Check("tool lock", "warn", f"no {tc.lock_path.name} in {tc.lock_path.parent}", fix)
    if state.missing:
        return Check(
            "tool lock",
            "warn",
            f"incomplete: no checksum yet for {len(state.missing)} entries ({', '.join(state.missing)}); "
            "`devctl tools install` refuses those without --trust-published",
            fix,
        )
    return Check("tool lock", "ok", f"{tc.lock_path.name}: a checksum for every pinned tool on every platform")


def check_docker_daemon(ctx: Context) -> Check:
    if ctx.runner.which("docker") is None:
        return Check("docker daemon", "fail", "docker CLI missing", install_hint("docker"), required=True)
    try:
        version = ctx.docker.server_version()
    except DevctlError as err:
        return Check("docker daemon", "fail", err.message, err.hint or "", required=True)
    return Check("docker daemon", "ok", f"running (server {version})", required=True)


def check_ports(ctx: Context) -> list[Check]:
    """Each host port must be free, or held by this project's own kind node / registry."""
    cfg = ctx.cfg
    ours = _ports_held_by_us(ctx)
    out = []
    for label, port, knob in (
        ("HTTP port", cfg.http_port, "DEVCTL_HTTP_PORT"),
        ("HTTPS port", cfg.https_port, "DEVCTL_HTTPS_PORT"),
        ("registry port", cfg.registry_port, "DEVCTL_REGISTRY_PORT"),
    ):
        name = f"{label} {port}"
        if port in ours:
            out.append(Check(name, "ok", f"held by this project's {ours[port]}", required=True))
            continue
        st = probe(port, cfg.host_ip)
        if st.free:
            out.append(Check(name, "ok", "free", required=True))
        elif st.free is None:
            out.append(Check(name, "warn", st.detail, required=True))
        else:
            who = st.owner or "another process"
            out.append(
                Check(
                    name,
                    "fail",
                    f"in use by {who}",
                    f"stop {who}, or pick another port with {knob}=<port>",
                    required=True,
                )
            )
    return out


def _ports_held_by_us(ctx: Context) -> dict[int, str]:
    """Host ports published by our kind node or registry container (so `doctor` after `up` is green)."""

    held: dict[int, str] = {}
    for name, what in ((ctx.cfg.registry_name, "registry"), (f"{ctx.cfg.cluster}-control-plane", "kind node")):
        try:
            held.update(dict.fromkeys(published_ports(ctx, [name]), what))
        except DevctlError:
            continue
    return held


def check_wsl() -> Check | None:
    if not sys.platform.startswith("linux") or not is_wsl():
        return None
    return Check(
        "WSL",
        "warn",
        "running under WSL: Windows browsers read C:\\Windows\\System32\\drivers\\etc\\hosts,"
        " and WSL may regenerate /etc/hosts",
        "use `devctl hosts add --windows` from an elevated shell",
    )


def mem_available_gib(meminfo: Path = Path("/proc/meminfo")) -> float | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        return None
    return None


NEEDED_GIB = 4.0  # the stack's memory limits add up to under 4 GiB (README "Memory budget")


def check_memory() -> Check:
    avail = mem_available_gib()
    if avail is None:
        return Check("memory", "info", "free memory unknown on this OS (give Docker at least 6 GiB)")
    if avail < NEEDED_GIB:
        return Check(
            "memory",
            "warn",
            f"{avail:.1f} GiB available; the stack needs about {NEEDED_GIB:.0f} GiB",
            "close other programs or give Docker more memory",
        )
    return Check("memory", "ok", f"{avail:.1f} GiB available")


def check_hosts(ctx: Context) -> Check:
    try:
        st = entry.status(ctx.cfg)
    except DevctlError as err:
        return Check("hosts entry", "warn", err.message, err.hint or "")
    if st.ok:
        return Check("hosts entry", "ok", st.detail)
    return Check("hosts entry", "warn", st.detail, "run `devctl hosts add` (or `devctl up`, which adds it)")


def check_ingress_retired(ctx: Context) -> Check:
    # ingress-nginx.md §1: retired March 2026, no further releases or security fixes.
    return Check(
        "ingress-nginx",
        "info",
        f"controller v{ctx.cfg.ingress_version} is the last release: ingress-nginx was retired in March "
        "2026 (no further fixes); fine for local development",
    )


def check_skaffold_config(ctx: Context) -> Check | None:
    """The installed skaffold must accept skaffold.yaml's apiVersion (skaffold.md §1)."""
    path = ctx.cfg.path(ctx.cfg.skaffold_file)
    if ctx.runner.which("skaffold") is None or not path.is_file():
        return None
    m = re.search(r"^apiVersion:\s*(skaffold/v\S+)", path.read_text(encoding="utf-8", errors="replace"), re.M)
    if not m:
        return Check(
            "skaffold.yaml",
            "fail",
            f"{path} has no apiVersion",
            "restore skaffold.yaml from git",
            required=True,
        )
    wanted = m.group(1)
    try:
        newest = ctx.skaffold.config_version()
    except DevctlError as err:
        return Check("skaffold.yaml", "warn", f"cannot ask skaffold for its config version: {err}")
    if _api_key(wanted) > _api_key(newest):
        return Check(
            "skaffold.yaml",
            "fail",
            f"{wanted} is newer than this skaffold accepts ({newest})",
            f"upgrade skaffold: {install_hint('skaffold')}",
            required=True,
        )
    return Check("skaffold.yaml", "ok", f"{wanted} accepted (skaffold knows up to {newest})", required=True)


def check_routes(ctx: Context) -> list[Check]:
    """Does any Ingress serve the configured host? Then: rules that can never match, or API paths that
    fall through to the client (routes --lint)."""

    try:
        routes = build_routes(load_ingresses(ctx.cfg.path(ctx.cfg.manifests_dir)))
    except DevctlError as err:
        return [Check("routes", "warn", err.message, "fix the Ingress manifests under k8s/")]
    checks = [check_host_routed(ctx, routes)]
    warnings = lint(routes)
    if not warnings:
        return [*checks, Check("routes", "ok", "every Ingress rule can match")]
    return [*checks, *(Check(f"routes ({w.kind})", "warn", w.message, "see `devctl routes --lint`") for w in warnings)]


def check_host_routed(ctx: Context, routes: dict[str, Any]) -> Check:
    """The configured host must reach a service: with a host no Ingress names (DEVCTL_HOST=other.test and
    k8s/ still says tour.xyz) every request gets ingress-nginx's default backend, a 404, after a green `up`."""

    host = ctx.cfg.host
    server = select_server(routes, host)
    served = server is not None and (
        server != CATCH_ALL or any(loc.service is not None for loc in routes[CATCH_ALL].locations)
    )
    if served:
        if server == host:
            how = "the Ingress rules"
        elif server == CATCH_ALL:
            how = "the rules without a host"
        else:
            how = f"the rules for {server}"  # a wildcard
        return Check("host routed", "ok", f"{host} is served by {how}", required=True)
    named = sorted(h for h in routes if h != CATCH_ALL)
    return Check(
        "host routed",
        "fail",
        f"no Ingress under {ctx.cfg.manifests_dir}/ serves {host} "
        f"(they serve {', '.join(named) or 'no host'}): every request would get ingress-nginx's 404",
        f"set host to one of those ([tool.devctl] host or DEVCTL_HOST), or add {host} to the Ingress rules",
        required=True,
    )


def _api_key(api: str) -> tuple[int, int, int]:
    """skaffold/v4beta14 -> (4, 1, 14); v2 (GA) sorts after its betas."""
    m = re.search(r"v(\d+)(?:(alpha|beta)(\d+))?", api)
    if not m:
        return (0, 0, 0)
    stage = {"alpha": 0, "beta": 1, None: 2}[m.group(2)]
    return int(m.group(1)), stage, int(m.group(3) or 0)


def run_checks(ctx: Context) -> list[Check]:
    checks = [
        _tool_check(ctx, "docker", ctx.docker.client_version, (20, 10, 0)),
        check_docker_daemon(ctx),
        *(check_pinned_tool(ctx, tool) for tool in ("kind", "kubectl", "skaffold")),
        check_tool_lock(ctx),
    ]
    sk = check_skaffold_config(ctx)
    if sk:
        checks.append(sk)
    daemon_up = checks[1].status == "ok"
    checks.extend(check_ports(ctx) if daemon_up else _ports_without_docker(ctx))
    checks.append(check_hosts(ctx))
    wsl = check_wsl()
    if wsl:
        checks.append(wsl)
    checks.append(check_memory())
    checks.append(check_ingress_retired(ctx))
    checks.extend(check_routes(ctx))
    return checks


def _ports_without_docker(ctx: Context) -> list[Check]:
    # Without a daemon we cannot tell our own containers apart; probe plainly.
    cfg = ctx.cfg
    out = []
    for label, port in (
        ("HTTP port", cfg.http_port),
        ("HTTPS port", cfg.https_port),
        ("registry port", cfg.registry_port),
    ):
        st = probe(port, cfg.host_ip)
        status = "ok" if st.free else "warn" if st.free is None else "fail"
        detail = "free" if st.free else st.detail if st.free is None else f"in use by {st.owner or 'another process'}"
        out.append(Check(f"{label} {port}", status, detail, required=True))
    return out


def failed_required(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.required and c.status == "fail"]
