"""`devctl up`: preflight -> hosts entry -> registry + cluster -> ingress admitting -> the databases, Redis and
NATS -> secrets -> dev loop.

Two phases. The first (preflight, hosts) runs alone so a sudo password prompt comes at the start,
not after minutes of work. The second runs the cluster-side steps, concurrently where ``needs`` allows:
the registry and the cluster together; then the image build (``skaffold build`` into the local Docker
cache) alongside the ingress wait and the secrets, so the first ``skaffold dev`` finds its images cached.
The infrastructure (``k8s/infra/``) is applied here, not by Skaffold, so the loop's cleanup never deletes
a database (``devctl.infra``); it needs only the cluster, so its images are pulled during the ingress wait.
Every step is idempotent: re-running ``up`` after a failure or Ctrl-C continues from where things are.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devctl import infra, secrets
from devctl.cluster.run import ClusterRun
from devctl.cluster.steps import cluster_steps
from devctl.config import Config
from devctl.context import Context
from devctl.devloop.argv import dev_argv
from devctl.errors import UsageError, command_line
from devctl.hosts import entry
from devctl.ingress.steps import ingress_steps
from devctl.toolchain.steps import ToolsStep
from devctl.tools.skaffold import write_global_config
from devctl.workflows.preflight import PreflightStep
from devctl.workflows.steps import FuncStep, PlanResult, Step, describe_steps, run_steps

ONLY_CHOICES = ("hosts", "cluster", "ingress", "infra", "secrets", "build")


@dataclass(frozen=True)
class UpOptions:
    no_dev: bool = False
    keep: bool = False
    recreate: bool = False
    only: str | None = None
    no_sudo: bool = False
    skip_build: bool = False
    install_tools: bool = True  # put missing pinned tools in devctl's store first (--no-install: not)


def hosts_step(no_sudo: bool) -> Step:
    def apply(ctx: Context) -> str:
        change = entry.ensure_entry(ctx.cfg, ctx.runner, no_sudo=no_sudo, notify=ctx.reporter.info)
        for note in change.notes:  # e.g. WSL: Windows browsers read the Windows hosts file
            ctx.reporter.warn(note)
        if not change.changed:
            return f"{ctx.cfg.host} -> {ctx.cfg.host_ip}: {change.reason}"
        return f"{ctx.cfg.host} -> {ctx.cfg.host_ip} ({change.action}) in {change.path}"

    def describe(ctx: Context) -> list[str]:
        return [f"ensure {ctx.cfg.hosts_file} maps {ctx.cfg.host} to {ctx.cfg.host_ip} (devctl's marked block)"]

    return FuncStep("hosts", "Hosts entry", apply, describe_fn=describe, needs=("preflight",))


def build_args(cfg: Config) -> list[str]:
    """`skaffold build` arguments: local Docker only (--push=false); the dev loop pushes what it finds cached."""
    args = ["-f", str(cfg.path(cfg.skaffold_file)), "--interactive=false", "--update-check=false", "--push=false"]
    if cfg.skaffold_profile:
        args += ["-p", cfg.skaffold_profile]
    return args


def build_step(cluster: ClusterRun, *, always: bool = False) -> Step:
    """Build every image into the local Docker cache while the ingress comes up.

    It waits for the cluster (not the ingress): `skaffold build` is pinned with --kube-context like every
    Skaffold call, and that context exists only once kind has created the cluster. The pre-build only pays
    off while a new cluster starts (it overlaps the ingress wait); on a cluster that already existed there is
    nothing to overlap, and `skaffold dev` finds unchanged images in its own cache, so the step is skipped
    (``always``: `--only build` asked for it).
    """

    def check(ctx: Context) -> str | None:
        if always:
            return None
        if cluster.first_plan.cluster.create:
            return None
        return "the cluster already existed: `skaffold dev` builds what changed"

    def apply(ctx: Context) -> str:
        with tempfile.TemporaryDirectory(prefix="devctl-skaffold-") as d:
            private = write_global_config(Path(d))  # the same isolation as the dev loop's `-c`
            ctx.skaffold.with_global_config(str(private)).change("build", *build_args(ctx.cfg))
        return "images built into the local Docker cache"

    def describe(ctx: Context) -> list[str]:
        return [" ".join(ctx.skaffold.argv("build", *build_args(ctx.cfg))) + " -c <private config>"]

    return FuncStep("build", "Build images", apply, check, describe, needs=("cluster",))


def plan(opts: UpOptions, cfg: Config) -> tuple[list[Step], list[Step]]:
    """The two phases of steps for these options."""
    return first_phase(opts, cfg), second_phase(opts)


def first_phase(opts: UpOptions, cfg: Config) -> list[Step]:
    """Preflight and the hosts entry (only preflight with --only, only the hosts entry with --only hosts).
    Checks --only first, so a bad value stops ``up`` before anything runs."""
    if opts.only is not None and opts.only not in ONLY_CHOICES:
        raise UsageError(f"unknown --only value {opts.only!r}", hint="choose one of: " + ", ".join(ONLY_CHOICES))
    if opts.only == "hosts":
        return [hosts_step(opts.no_sudo)]
    if opts.only in (None, "infra", "build"):
        cfg.require_repo()  # skaffold.yaml and k8s/ live there: stop before anything changes
    tools: list[Step] = [ToolsStep()] if opts.install_tools else []
    preflight = PreflightStep(needs=("tools",) if tools else ())
    if opts.only is not None:
        return [*tools, preflight]
    return [*tools, preflight, hosts_step(opts.no_sudo)]


def second_phase(opts: UpOptions) -> list[Step]:
    """The cluster-side steps; with --only, the chosen one plus what it needs."""
    if opts.only == "hosts":
        return []
    run = ClusterRun(opts.recreate)
    cluster = cluster_steps(run)
    second: list[Step] = [*cluster]
    if not opts.skip_build:
        second.append(build_step(run, always=opts.only == "build"))
    second += [*ingress_steps(), infra.InfraStep(), secrets.SecretsStep()]
    if opts.only is None:
        return second
    wanted = {
        "cluster": {s.name for s in cluster},
        "ingress": {"ingress"},
        "infra": {"infra"},
        "secrets": {"secrets"},
        "build": {"build"},
    }[opts.only]
    # The chosen step plus what it needs, transitively: `--only ingress` still makes sure the cluster exists.
    keep = set(wanted)
    for step in reversed(second):
        if step.name in keep:
            keep.update(step.needs)
    if "cluster" in keep:  # a cluster made without its stamp would count as half-made next time
        keep.add("cluster-stamp")
    return [s for s in second if s.name in keep]


def describe(ctx: Context, opts: UpOptions) -> list[str]:
    first, second = plan(opts, ctx.cfg)
    lines = describe_steps([*first, *second], ctx)
    if not opts.no_dev and opts.only is None:
        argv = dev_argv(ctx.cfg, 0, "<private config>", opts.keep, ctx.cfg.skaffold_profile or None)
        lines.append(f"{len(first) + len(second) + 1}. Dev loop (until Ctrl-C)")
        lines.append("     " + command_line(argv).replace("--rpc-http-port 0", "--rpc-http-port <free port>"))
    return lines


def run(ctx: Context, opts: UpOptions) -> Sequence[PlanResult]:
    """Run both phases; raises StepFailed on the first failure (re-running continues from there)."""
    first, second = plan(opts, ctx.cfg)
    results = [run_steps(first, ctx)]
    if second:
        results.append(run_steps(second, ctx))
    return results
