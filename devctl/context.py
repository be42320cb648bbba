"""What a workflow step gets: config, runner, one adapter per tool, a reporter."""

from __future__ import annotations

import os

from devctl import proxy
from devctl.config import Config
from devctl.report import Reporter, SilentReporter
from devctl.runner import Runner
from devctl.tools.docker import Docker
from devctl.tools.kind import Kind
from devctl.tools.kubectl import Kubectl
from devctl.tools.skaffold import Skaffold


class Context:
    def __init__(self, cfg: Config, runner: Runner, reporter: Reporter) -> None:
        self.cfg = cfg
        self.runner = runner
        self.reporter = reporter
        # Behind a proxy, kind and Skaffold's builds get it with the NO_PROXY the cluster needs (devctl.proxy).
        self.proxy = proxy.settings(os.environ, cfg)
        # The kube context is pinned here, once, for every kubectl and skaffold call (the adapters add it).
        self.kubectl = Kubectl(runner, cfg.context)
        self.skaffold = Skaffold(runner, cfg.context, extra_env=self.proxy.env())
        self.docker = Docker(runner)
        self.kind = Kind(runner, env=self.proxy.child_env(os.environ))

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
