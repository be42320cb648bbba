"""`devctl routes`: which service each URL reaches, computed the way ingress-nginx does (no cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from devctl.cli._context import load_config
from devctl.cli._edge import command_app, console, json_option, print_json
from devctl.errors import UsageError

if TYPE_CHECKING:
    from rich.table import Table

    from devctl.config import Config
    from devctl.routing.lint import LintWarning
    from devctl.routing.rules import HostRoutes, Location, Match

app = command_app(
    help="Show which service each URL reaches, computed the way ingress-nginx does.",
)

MANIFESTS_HELP = "Directory (or file) of Kubernetes manifests [default: manifests_dir of the config, k8s/]."
LINT_HELP = "Only print warnings: rules that can never match, API paths that fall through to a catch-all."
HOST_HELP = "Host header [default: the configured host, tour.xyz]."
_MANIFESTS_KEY = "devctl.routes.manifests"  # `routes --manifests DIR check ...` hands DIR down


def _routes(ctx: typer.Context, manifests: Path | None, cfg: Config | None = None) -> dict[str, HostRoutes]:
    from devctl.routing.rules import build_routes, load_ingresses

    chosen = manifests or ctx.meta.get(_MANIFESTS_KEY)
    if chosen is None:
        cfg = cfg or load_config(ctx)
        root = cfg.path(cfg.manifests_dir)
        fix = "set manifests_dir ([tool.devctl] or DEVCTL_MANIFESTS_DIR) to the folder of your manifests"
    else:  # a flag given by the user is relative to where they stand, not to the repo root
        root = Path(chosen).expanduser().absolute()
        fix = "check the path given to --manifests"
    if not root.exists():
        raise UsageError(f"manifests directory {root} does not exist", hint=fix)
    return build_routes(load_ingresses(root))


def _shown(routes: dict[str, HostRoutes]) -> list[HostRoutes]:
    """Every host, and the catch-all server only when an Ingress put something there."""
    from devctl.routing.rules import CATCH_ALL

    return [
        hr
        for host, hr in routes.items()
        if host != CATCH_ALL or len(hr.locations) > 1 or hr.locations[0].service is not None
    ]


def _location_json(loc: Location) -> dict[str, Any]:
    return {
        "order": loc.index,
        "location": loc.rendered,
        "path": loc.path,
        "path_type": loc.path_type,
        "declared_path": loc.ingress_path,
        "declared_type": loc.declared_type,
        "service": loc.service,
        "port": loc.port,
        "ingress": loc.ingress,
        "default_root": loc.default_root,
        "added_exact_copy": loc.expanded,
    }


def _warning_json(w: LintWarning) -> dict[str, Any]:
    return {"host": w.host, "kind": w.kind, "rule": w.rule, "ingress": w.ingress, "message": w.message}


def _table(hr: HostRoutes) -> Table:
    from rich import box
    from rich.table import Table

    mode = (
        "regex mode: every path is a case-insensitive regex anchored at the start; first match wins"
        if hr.regex_mode
        else "prefix mode: an Exact path equal to the URI, else the longest Prefix"
    )
    title = "any other host (_)" if hr.host == "_" else hr.host
    many = len(hr.ingresses) > 1
    source = "" if many or not hr.ingresses else f" (from {hr.ingresses[0]})"
    table = Table(title=f"{title}{source} — {mode}", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("path", overflow="fold")
    table.add_column("type", overflow="fold")
    table.add_column("backend", overflow="fold")
    if many:
        table.add_column("ingress", overflow="fold")
    for loc in hr.locations:
        if loc.default_root:
            kind = "default root"
        elif loc.expanded:
            kind = "Exact (added for Prefix)"
        else:
            kind = loc.declared_type or "(missing)"
        backend = "404 (default)" if loc.service is None else f"{loc.service}:{loc.port}"
        row = [str(loc.index), loc.path, kind, backend]
        table.add_row(*row, *([loc.ingress or "-"] if many else []))
    return table


@app.callback(invoke_without_command=True)
def routes(
    ctx: typer.Context,
    manifests: Annotated[Path | None, typer.Option("--manifests", metavar="DIR", help=MANIFESTS_HELP)] = None,
    as_json: bool = json_option("Print hosts, locations and lint warnings as JSON."),
    lint: Annotated[bool, typer.Option("--lint", help=LINT_HELP)] = False,
) -> None:
    """Print the location list of every host, in the order ingress-nginx evaluates it."""
    if manifests is not None:
        ctx.meta[_MANIFESTS_KEY] = manifests
    if ctx.invoked_subcommand is not None:
        return
    from devctl.routing.lint import lint as find_problems

    routes = _routes(ctx, manifests)
    warnings = find_problems(routes)
    if as_json:
        print_json(
            {
                "hosts": [
                    {
                        "host": hr.host,
                        "regex_mode": hr.regex_mode,
                        "ingresses": list(hr.ingresses),
                        "locations": [_location_json(loc) for loc in hr.locations],
                    }
                    for hr in _shown(routes)
                ],
                "warnings": [_warning_json(w) for w in warnings],
            }
        )
        return
    out = console()
    if lint:
        for w in warnings:
            out.print(f"WARNING: {w.message}", markup=False, highlight=False)
        if not warnings:
            out.print("No routing problems found.", markup=False, highlight=False)
        return
    shown = _shown(routes)
    if not shown:
        out.print("No Ingress served by ingress-nginx found; every request gets the default backend's 404.")
    for hr in shown:
        out.print(_table(hr))
    if warnings:
        out.print(f"Warnings: {len(warnings)} (details: devctl routes --lint)", markup=False, highlight=False)


def _describe(m: Match, routes: dict[str, HostRoutes]) -> list[str]:
    hr = routes.get(m.server)
    mode = "regex mode" if hr is not None and hr.regex_mode else "prefix mode"
    server = "_ (no server for this host)" if m.server == "_" else m.server
    lines = [f"request:   http://{m.host}{m.path}", f"as NGINX:  {m.normalized_path}", f"server:    {server}, {mode}"]
    loc = m.location
    if loc is not None and not loc.default_root:
        lines.append(f"rule:      #{loc.index} {loc.rendered} ({loc.ingress})")
    elif loc is not None:
        lines.append(f"rule:      none matched; #{loc.index} default root {loc.rendered}")
    if m.redirect is not None:
        lines.append(f"answer:    301 redirect to {m.redirect} by NGINX itself (auto_redirect), no backend")
    elif m.service is None:
        lines.append("backend:   default backend, 404 Not Found")
    else:
        lines.append(f"backend:   {m.service}:{m.port}")
    return lines


@app.command("check")
def check(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(metavar="PATH", help="Request path, e.g. /api/v1/tours/42?x=1")],
    host: Annotated[str | None, typer.Option("--host", metavar="HOST", help=HOST_HELP)] = None,
    manifests: Annotated[Path | None, typer.Option("--manifests", metavar="DIR", help=MANIFESTS_HELP)] = None,
    as_json: bool = json_option("Print host, path, service, port, rule, redirect."),
) -> None:
    """Show which backend ingress-nginx sends one request to, and which rule matched."""
    from devctl.routing.rules import match, match_as_dict

    needs_config = not host or not (manifests or ctx.meta.get(_MANIFESTS_KEY))
    cfg = load_config(ctx) if needs_config else None
    routes = _routes(ctx, manifests, cfg)
    m = match(routes, host or (cfg.host if cfg else ""), path)
    if as_json:
        print_json(match_as_dict(m))
        return
    out = console()
    for line in _describe(m, routes):
        out.print(line, markup=False, highlight=False)
