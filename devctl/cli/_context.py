"""A command's configuration and Context: flags merged over the environment, [tool.devctl] and defaults."""

from __future__ import annotations

from typing import Any

import typer

from devctl import config
from devctl.cli._edge import err_console, global_options
from devctl.config import Config
from devctl.context import Context
from devctl.report import Reporter, stderr_reporter

# Options whose name differs from the config field they set (for error messages).
FLAG_NAMES = {"host_ip": "--ip", "skaffold_profile": "--profile", "manifests_dir": "--manifests"}


def load_config(ctx: typer.Context, **flags: Any) -> Config:
    """The resolved Config: defaults < [tool.devctl] < DEVCTL_* < global and command flags."""
    g = global_options(ctx)
    merged: dict[str, Any] = {"cluster": g.cluster, "verbose": g.verbose, "dry_run": g.dry_run}
    merged.update(flags)
    return config.load(merged, flag_names=FLAG_NAMES)


def make_context(ctx: typer.Context, *, reporter: Reporter | None = None, **flags: Any) -> Context:
    """Config plus the runner, tool adapters and reporter a workflow needs."""
    cfg = load_config(ctx, **flags)
    return Context.create(cfg, reporter=reporter or stderr_reporter(err_console))
