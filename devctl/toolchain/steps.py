"""The step of `devctl up` that puts the pinned kind, kubectl and skaffold into devctl's store."""

from __future__ import annotations

from dataclasses import dataclass

from devctl.context import Context
from devctl.toolchain.fetch import Fetcher, with_mirror
from devctl.toolchain.installer import MissingChecksum, install_one, missing
from devctl.toolchain.progress import downloads_for
from devctl.toolchain.resolve import Toolchain


@dataclass
class ToolsStep:
    """The pinned kind, kubectl and skaffold into devctl's store, when missing (so a laptop with Docker and
    Python needs nothing else). Where the lock has no checksum for this platform and a usable tool is on
    PATH, that one is used, with a warning; without one, the step fails with the fix."""

    name: str = "tools"
    title: str = "Tools"
    needs: tuple[str, ...] = ()

    def check(self, ctx: Context) -> str | None:
        tc = ctx.runner.toolchain
        if tc is None or tc.platform is None or not tc.pins.pinned():
            return "no pinned tools to install on this platform: they come from PATH"
        todo = missing(tc)
        if not todo:
            return f"{', '.join(tc.pins.pinned())} are in devctl's tool store"
        # Nothing installable (the lock has no checksum here) and a usable tool on PATH for each: use those.
        if all(w.sha256 is None and ctx.runner.which(w.tool) for w in todo):
            names = ", ".join(w.tool for w in todo)
            return f"{names} from PATH: {tc.lock_path.name} has no checksum for {tc.platform} yet (see `devctl doctor`)"
        return None

    def apply(self, ctx: Context) -> str:
        tc = _toolchain(ctx)
        fetcher, progress = Fetcher(ctx.cfg.tools_mirror), downloads_for(ctx.reporter)
        installed, from_path = [], []
        for wanted in missing(tc):
            try:
                done = install_one(tc, wanted, fetcher, progress, ctx.reporter.info, ctx.reporter.warn)
            except MissingChecksum as err:
                found = ctx.runner.which(wanted.tool)  # the PATH tool at devctl's minimum version, if any
                if found is None:
                    raise
                ctx.reporter.warn(f"{err.message}: using {found} from PATH")
                from_path.append(wanted.tool)
                continue
            if done.downloaded:
                installed.append(wanted.tool)
        if installed:
            tc.store.remember_lock(tc.lock_path)
        notes = [f"installed {', '.join(installed)}"] if installed else []
        notes += [f"{', '.join(from_path)} from PATH (the lock has no checksum here)"] if from_path else []
        return "; ".join(notes) or "nothing to install"

    def describe(self, ctx: Context) -> list[str]:
        tc = ctx.runner.toolchain
        if tc is None or tc.platform is None:
            return ["tools come from PATH on this platform"]
        return [
            f"download {w.tool} {w.version} from {with_mirror(w.url, ctx.cfg.tools_mirror)} into {tc.store.root}"
            + (f", verified against sha256 {w.sha256}" if w.sha256 else f" ({w.missing}: the PATH one if usable)")
            for w in missing(tc)
        ] or [f"{', '.join(tc.pins.pinned())} are in devctl's tool store"]


def _toolchain(ctx: Context) -> Toolchain:
    tc = ctx.runner.toolchain
    if tc is None:
        raise RuntimeError("the tools step runs only with a toolchain (check says so otherwise)")
    return tc
