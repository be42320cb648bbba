"""What a workflow step gets: config, runner, one adapter per tool, a reporter, a cache of lookups."""

from __future__ import annotations

import threading
from typing import Any

from devctl.config import Config
from devctl.report import Reporter, SilentReporter
from devctl.runner import Runner
from devctl.tools.docker import Docker
from devctl.tools.kind import Kind
from devctl.tools.kubectl import Kubectl
from devctl.tools.skaffold import Skaffold


class Context:
    """A plain class, not a dataclass: every command makes one, and creating a dataclass costs ~1 ms at
    import (issue 7's status target)."""

    def __init__(
        self,
        cfg: Config,
        runner: Runner,
        reporter: Reporter,
        kind: Kind,
        docker: Docker,
        kubectl: Kubectl,
        skaffold: Skaffold,
    ) -> None:
        self.cfg = cfg
        self.runner = runner
        self.reporter = reporter
        self.kind = kind
        self.docker = docker
        self.kubectl = kubectl
        self.skaffold = skaffold
        self.cache: dict[str, Any] = {}  # lookups steps share within one run
        self.lock = threading.Lock()  # guards cache across the threads of parallel steps

    @classmethod
    def create(cls, cfg: Config, *, reporter: Reporter | None = None, runner: Runner | None = None) -> Context:
        rep = reporter or SilentReporter()
        run = runner or Runner(verbose=cfg.verbose, dry_run=cfg.dry_run, echo=rep.info, pause=rep.pause)
        return cls(
            cfg=cfg,
            runner=run,
            reporter=rep,
            kind=Kind(run),
            docker=Docker(run),
            kubectl=Kubectl(run, cfg.context),
            skaffold=Skaffold(run, cfg.context),
        )
