"""`devctl verify`: probe every Ingress rule and every service's health on the running stack."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from devctl.cli._context import make_context
from devctl.cli._edge import command_app, console, json_option, print_json
from devctl.errors import Verdict

if TYPE_CHECKING:
    from rich.table import Table

    from devctl.config import Config
    from devctl.verify import VerifyReport

HELP = (
    "Prove every Ingress route end to end against the running stack.\n\n"
    "For each rule of the configured host, a request path that reaches it is sent to the ingress "
    "(http://HOST_IP:HTTP_PORT with Host: HOST), and the X-Served-By header of the answer must name "
    "the service `devctl routes check` predicts. Then each service's /healthz is read through the "
    "Kubernetes API server (the ingress would route it to the client) and its dependencies reported.\n\n"
    "Exit 1 when a route is served by another service than predicted or does not answer, or when a "
    "service is unreachable or reports a dependency down. Identifying backends needs the stand-in "
    "images (the real services send no X-Served-By header and have no /healthz)."
)

app = command_app()

MANIFESTS_HELP = "Directory (or file) of Kubernetes manifests [default: manifests_dir of the config, k8s/]."
TIMEOUT_HELP = "Seconds to wait for each answer (a kubectl call gets 10 s more to start and reach the API)."


def _base_url(cfg: Config) -> str:
    ip = f"[{cfg.host_ip}]" if ":" in cfg.host_ip else cfg.host_ip
    return f"http://{ip}:{cfg.http_port}"


def _routes_table(report: VerifyReport) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"routes of {report.host} via {report.url}", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("#", "rule", "sample path", "expected", "served by", "status", "result"):
        table.add_column(col, overflow="fold", justify="right" if col == "#" else "left")
    style = {"ok": "green", "skipped": "yellow", "mismatch": "red", "error": "red"}
    for r in report.routes:
        p = r.probe
        expected = p.expected or "404 (default backend)"
        if p.expected_redirect is not None:
            expected = f"301 -> {p.expected_redirect}"
        outcome = r.outcome
        result = Text("ok" if outcome == "ok" else f"{outcome.upper()}: {r.note}", style=style[outcome])
        table.add_row(
            str(p.order),
            Text(p.rule),
            Text(p.path or "-"),
            Text(expected),
            Text(r.served_by or "-"),
            "-" if r.status is None else str(r.status),
            result,
        )
    return table


def _health_table(report: VerifyReport) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title="service health (/healthz via the API server)", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("service", "dependency", "address", "state"):
        table.add_column(col, overflow="fold")
    for h in report.health:
        name = f"{h.target.service}:{h.target.port}"
        if h.error is not None:
            table.add_row(Text(name), "-", "-", Text(f"UNHEALTHY: {h.error}", style="red"))
        if not h.dependencies and h.error is None:
            table.add_row(Text(name), "(none)", "-", Text("ok", style="green"))
        for d in h.dependencies:
            address = f"{d.host}:{d.port}" if d.port is not None else d.host
            state = Text("reachable", style="green") if d.ok else Text(f"DOWN: {d.detail}", style="red")
            table.add_row(Text(name), Text(d.name), Text(address), state)
    return table


def _summary(report: VerifyReport) -> str:
    routes = report.routes
    failed, unhealthy = report.failed_routes, report.unhealthy
    skipped = sum(1 for r in routes if r.outcome == "skipped")
    parts = [
        f"{len(routes) - len(failed) - skipped} of {len(routes)} routes reach the predicted service",
        f"{len(report.health) - len(unhealthy)} of {len(report.health)} services healthy",
    ]
    if skipped:
        parts.append(f"{skipped} rule(s) skipped")
    verdict = "verify passed" if report.ok else "verify FAILED"
    return f"{verdict}: " + "; ".join(parts) + "."


@app.command(help=HELP)
def verify(
    ctx: typer.Context,
    as_json: bool = json_option("Print routes and health as JSON."),
    manifests: Annotated[Path | None, typer.Option("--manifests", metavar="DIR", help=MANIFESTS_HELP)] = None,
    timeout: Annotated[float, typer.Option("--timeout", metavar="SECONDS", min=0.1, help=TIMEOUT_HELP)] = 3.0,
) -> None:
    """Prove every Ingress route and every service's health on the running stack."""
    from devctl.routing.rules import build_routes, load_ingresses
    from devctl.verify import verify as run_verify

    c = make_context(ctx)
    cfg = c.cfg
    root = Path(manifests).expanduser().absolute() if manifests is not None else cfg.path(cfg.manifests_dir)
    routes = build_routes(load_ingresses(root))
    report = run_verify(routes, c.kubectl, host=cfg.host, base_url=_base_url(cfg), timeout=timeout)
    if as_json:
        print_json(report.to_json())
    else:
        out = console()
        out.print(_routes_table(report))
        out.print(_health_table(report))
        out.print(_summary(report), markup=False, highlight=False)
    if not report.ok:
        raise Verdict(
            f"{len(report.failed_routes)} route(s) and {len(report.unhealthy)} service(s) failed the check",
            hint="each failure and its reason are listed above; `devctl status` shows what is not ready",
        )
