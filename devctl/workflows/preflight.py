"""The checks that come before anything changes (ctlptl's EnsureInstalled, kind's provider validation):
the tools a workflow drives are usable and the Docker daemon answers. doctor's required checks that cost
nothing or one call."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from devctl.context import Context
from devctl.engine import products
from devctl.engine.checks import rootless_refusal
from devctl.errors import DevctlError, ToolNotFound
from devctl.stack import SOURCES_PROFILE, missing_source_dirs
from devctl.tools.docker import DockerInfo
from devctl.tools.install import install_hint

ALL_TOOLS = ("docker", "kind", "kubectl", "skaffold")


@dataclass
class PreflightStep:
    tools: tuple[str, ...] = ALL_TOOLS
    needs: tuple[str, ...] = ()
    name: str = "preflight"
    title: str = "Preflight checks"

    def check(self, ctx: Context) -> str | None:
        return None  # always: what it checks can change between two runs

    def apply(self, ctx: Context) -> str:
        # Each lookup of a tool found on PATH asks it for its version, and the daemon is asked what it is:
        # independent reads, so at once. A missing tool is still what is reported first.
        with ThreadPoolExecutor(max_workers=len(self.tools) + 1) as pool:
            lookups = [pool.submit(ctx.runner.require, tool) for tool in self.tools]
            answer = pool.submit(ctx.docker.info)
        missing: list[ToolNotFound] = []
        for lookup in lookups:
            err = lookup.exception()
            if isinstance(err, ToolNotFound):
                missing.append(err)
            elif err is not None:
                raise err
        if missing:
            first = missing[0]
            others = f" (also missing: {', '.join(e.tool for e in missing[1:])})" if missing[1:] else ""
            raise ToolNotFound(first.tool, (first.hint or install_hint(first.tool)) + others, first.message)
        info = answer.result()  # raises DockerDown (or DockerAccessDenied) with one clear line
        check_engine(ctx, info)
        if "skaffold" in self.tools:
            check_sources(ctx)
        return f"tools present, Docker {info.server_version}"

    def describe(self, ctx: Context) -> list[str]:
        return [
            f"check {', '.join(self.tools)} are usable and the Docker daemon answers (docker info), an engine "
            "devctl supports, not rootless with ports below 1024"
        ]


def check_engine(ctx: Context, info: DockerInfo) -> None:
    """Before anything is created: an engine devctl cannot drive, or ports a rootless engine cannot publish,
    would fail only after minutes of work (the node's `docker run`, with a bind error)."""
    if products.from_info(info.operating_system, info.name, info.product_license) == products.PODMAN:
        raise DevctlError(products.PODMAN_UNSUPPORTED, hint=products.PODMAN_FIX)
    if info.rootless:
        refusal = rootless_refusal(ctx.cfg)
        if refusal is not None:
            raise refusal


def check_sources(ctx: Context) -> None:
    """With the `services` profile, every service's source folder must be there (one line if not)."""
    profiles = [p for p in ctx.cfg.skaffold_profile.split(",") if p]
    if SOURCES_PROFILE not in profiles:
        return
    root = ctx.cfg.require_repo()
    missing = missing_source_dirs(root, ctx.cfg.skaffold_profile)
    if missing:
        raise DevctlError(
            f"profile {SOURCES_PROFILE!r} builds the tour sources, but these folders (each with a Dockerfile) are "
            f"missing under {root}: {', '.join(missing)}",
            hint="check out the tour services next to skaffold.yaml, or drop --profile services to use the stand-ins",
        )
