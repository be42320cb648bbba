"""What a workflow step gets: config, runner, one adapter per tool, a reporter, a cache of lookups."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from devctl.config import Config
from devctl.report import Reporter, SilentReporter
from devctl.runner import Runner
from devctl.tools.docker import Docker
from devctl.tools.kubectl import Kubectl

if TYPE_CHECKING:
    from devctl.tools.kind import Kind
    from devctl.tools.skaffold import Skaffold


class Context:
    """A plain class, not a dataclass: every command makes one, and creating a dataclass costs ~1 ms at
    import (issue 7's status target). The adapters of kind and Skaffold are made, and their modules
    imported, on first use: `devctl status` and `logs` never need them. docker's and kubectl's are made
    here, on the thread that makes the context, rather than on a reading thread that would wait for the
    GIL to import them."""

    def __init__(self, cfg: Config, runner: Runner, reporter: Reporter) -> None:
        self.cfg = cfg
        self.runner = runner
        self.reporter = reporter
        # The kube context is pinned here, once, for every kubectl and skaffold call (the adapters add it).
        self.kubectl = Kubectl(runner, cfg.context)
        self.docker = Docker(runner)
        self.cache: dict[str, Any] = {}  # lookups steps share within one run
        self.lock = threading.Lock()  # guards cache across the threads of parallel steps

    @classmethod
    def create(cls, cfg: Config, *, reporter: Reporter | None = None, runner: Runner | None = None) -> Context:
        from devctl.toolchain.resolve import Toolchain

        rep = reporter or SilentReporter()
        run = runner or Runner(
            verbose=cfg.verbose,
            dry_run=cfg.dry_run,
            echo=rep.info,
            pause=rep.pause,
            toolchain=Toolchain.for_config(cfg),
        )
        return cls(cfg, run, rep)

    @cached_property
    def skaffold(self) -> Skaffold:
        from devctl.tools.skaffold import Skaffold

        return Skaffold(self.runner, self.cfg.context)

    @cached_property
    def kind(self) -> Kind:
        from devctl.tools.kind import Kind

        return Kind(self.runner)
