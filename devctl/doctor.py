"""`devctl doctor`: checks of this machine, as data (rendered as a table or JSON by the CLI).

Each check says ok / warn / fail / info, what it saw and, when not ok, what to do. ``required``
checks gate `devctl up` (ctlptl's EnsureInstalled, kind's provider validation: check before changing
anything).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devctl import netcheck, proxy
from devctl.check import Check
from devctl.cluster.observe import published_ports
from devctl.context import Context
from devctl.engine import checks as engine_checks
from devctl.engine.detect import Engine, detect
from devctl.engine.detect import read as read_with_context
from devctl.errors import DevctlError, ToolNotFound
from devctl.host_checks import check_inotify, is_wsl, read_inotify
from devctl.hosts import entry
from devctl.ports import probe
from devctl.routing.ingresses import load_ingresses
from devctl.routing.lint import lint
from devctl.routing.rules import CATCH_ALL, build_routes, select_server
from devctl.toolchain.catalog import TOOLS
from devctl.toolchain.listing import lock_state
from devctl.toolchain.resolve import STORE
from devctl.tools.docker import DockerInfo
from devctl.tools.install import install_hint
from devctl.tools.netstat import Netstat


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
    """kind, kubectl, skaffold: resolved as every command resolves them (devctl.toolchain.resolve); outside
    the repo (no pins), the one on PATH at devctl's minimum version."""
    if ctx.runner.toolchain is None:
        spec = TOOLS[tool]
        return _tool_check(ctx, tool, lambda: ctx.runner.output([tool, *spec.version_args]).stdout, spec.minimum)
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


# kind.md §4: the Docker network kind puts its nodes on; /proc/net/route: the kernel's IPv4 routing table.
KIND_NETWORK = "kind"
PROC_NET_ROUTE = Path("/proc/net/route")


@dataclass(frozen=True)
class EngineReading:
    """``docker info`` once for every check that needs it, and the engine it shows."""

    info: DockerInfo | None
    error: DevctlError | None  # why there is no info
    engine: Engine
    context_error: DevctlError | None


def read_engine(ctx: Context) -> EngineReading:
    if ctx.runner.which("docker") is None:
        missing = DevctlError("docker CLI missing", hint=install_hint("docker"))
        return EngineReading(None, missing, detect(None, None, sys.platform), None)
    info: DockerInfo | None = None
    error: DevctlError | None = None
    try:
        info = ctx.docker.info()
    except DevctlError as err:
        error = err
    engine, context_error = read_with_context(ctx.docker, info)
    return EngineReading(info, error, engine, context_error)


def check_docker_daemon(reading: EngineReading) -> Check:
    if reading.info is None:
        err = reading.error or DevctlError("the Docker daemon did not answer")
        return Check("docker daemon", "fail", err.message, err.hint or "", required=True)
    return Check("docker daemon", "ok", f"running (server {reading.info.server_version})", required=True)


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


@dataclass(frozen=True)
class Report:
    checks: list[Check]
    facts: dict[str, Any]  # the engine, the proxy settings and the network check, for --json


def run(ctx: Context) -> Report:
    reading = read_engine(ctx)
    engine = reading.engine
    checks = [
        _tool_check(ctx, "docker", ctx.docker.client_version, (20, 10, 0)),
        check_docker_daemon(reading),
        engine_checks.check_engine(engine, reading.error),
        engine_checks.check_context(engine, reading.context_error),
        *(check_pinned_tool(ctx, tool) for tool in ("kind", "kubectl", "skaffold")),
        check_tool_lock(ctx),
    ]
    in_repo = ctx.cfg.repo_root is not None
    sk = check_skaffold_config(ctx) if in_repo else None
    if sk:
        checks.append(sk)
    checks.extend(check_ports(ctx) if reading.info is not None else _ports_without_docker(ctx))
    checks.append(check_hosts(ctx))
    wsl = check_wsl()
    if wsl:
        checks.append(wsl)
    checks += [engine_checks.check_memory(engine, ctx.cfg), engine_checks.check_cpus(engine, ctx.cfg)]
    rootless = engine_checks.check_rootless(engine, ctx.cfg)
    if rootless:
        checks.append(rootless)
    info = reading.info
    engine_proxy = None if info is None else (info.http_proxy or info.https_proxy)
    checks += proxy.checks(ctx.proxy, ctx.cfg, engine_proxy)
    network, network_facts = netcheck.check(_kind_subnets(ctx, info), _routes(ctx))
    checks.append(network)
    inotify = check_inotify(read_inotify(), engine_local=not engine.in_vm)
    if inotify:
        checks.append(inotify)
    checks.append(check_ingress_retired(ctx))
    checks.extend(check_routes(ctx) if in_repo else [_not_in_repo()])
    proxy_facts = {**ctx.proxy.to_json(), "extra_ca": str(ctx.cfg.extra_ca) if ctx.cfg.extra_ca else None}
    return Report(checks, {"engine": engine.to_json(), "proxy": proxy_facts, "network": network_facts})


def _kind_subnets(ctx: Context, info: DockerInfo | None) -> list[str] | None:
    if info is None:
        return None
    try:
        return ctx.docker.network_subnets(KIND_NETWORK)
    except DevctlError:
        return None


def _routes(ctx: Context) -> list[netcheck.Route] | None:
    """This machine's IPv4 routes (netcheck's module docstring says where from), None where unknown."""
    try:
        if sys.platform.startswith("linux"):
            return netcheck.linux_routes(PROC_NET_ROUTE.read_text())
        if sys.platform == "darwin":
            return netcheck.mac_routes(Netstat(ctx.runner).routes())
    except (OSError, DevctlError):
        return None
    return None


def _not_in_repo() -> Check:
    return Check(
        "tour repo",
        "warn",
        "not inside the tour repo: skaffold.yaml and the Ingress rules under k8s/ were not checked",
        "cd into your clone of the tour repo and run `devctl doctor` there",
    )


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
