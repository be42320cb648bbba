"""`devctl doctor`'s checks of the Docker engine: which one and through which context, its memory and CPUs
against what the stack needs (devctl.resources), and what a rootless engine means for the ingress ports."""

from __future__ import annotations

import math

from devctl import resources
from devctl.check import Check
from devctl.config import Config, env_name
from devctl.engine import products
from devctl.engine.detect import Engine
from devctl.errors import DevctlError

PRIVILEGED_BELOW = 1024  # ports below this need root to bind (net.ipv4.ip_unprivileged_port_start)
ROOTLESS_PORTS = {"http_port": 8080, "https_port": 8443}


def check_engine(engine: Engine, down: DevctlError | None) -> Check:
    """Which engine answers, where; one line for an engine devctl cannot use."""
    if engine.info is None:
        detail = f"{engine.describe()} does not answer" + (f": {down.message}" if down else "")
        hint = (down.hint if down is not None and down.hint else "") or f"{engine.start_fix}, {engine.context_fix}"
        return Check("docker engine", "fail", detail, hint, required=True)
    if not engine.supported:
        return Check(
            "docker engine",
            "fail",
            f"{engine.describe()}: {products.PODMAN_UNSUPPORTED}",
            products.PODMAN_FIX,
            required=True,
        )
    detail = f"{engine.describe()}, server {engine.info.server_version}"
    return Check("docker engine", "ok", detail + (", rootless" if engine.rootless else ""), required=True)


def check_context(engine: Engine, problem: DevctlError | None) -> Check:
    """The context the docker CLI uses and why (DOCKER_HOST, DOCKER_CONTEXT or the current context)."""
    if problem is not None:
        return Check("docker context", "fail", problem.message, problem.hint or "", required=True)
    ep = engine.endpoint
    if ep is None:
        return Check("docker context", "info", "unknown")
    why = {
        products.FROM_DOCKER_HOST: "DOCKER_HOST is set",
        products.FROM_DOCKER_CONTEXT: "DOCKER_CONTEXT is set",
    }.get(ep.source, "the docker CLI's current context")
    return Check("docker context", "info", f"{ep.context} -> {ep.host} ({why})")


def _gib_up(n: int) -> int:
    return max(1, math.ceil(n / 2**30))


def check_memory(engine: Engine, cfg: Config) -> Check:
    """The engine's MemTotal against the stack's requests (fail below) and limits (warn below), each plus the
    kind node and ingress-nginx."""
    info = engine.info
    if info is None:
        return Check("engine memory", "info", "unknown: the engine does not answer")
    whose = f"{engine.name}'s VM" if engine.in_vm else "the engine's host"
    have = f"{resources.gib(info.mem_total)} in {whose} (docker info MemTotal)"
    if cfg.repo_root is None:
        return Check("engine memory", "info", f"{have}; the stack's needs are read from the tour repo's manifests")
    try:
        stack = resources.of_manifests(cfg.path(cfg.manifests_dir))
    except DevctlError as err:
        return Check("engine memory", "warn", f"cannot read the stack's manifests: {err.message}")
    source = resources.WHERE_FROM.format(dir=cfg.manifests_dir)
    figures = (
        f"the stack requests {resources.gib(stack.memory_needed)} and may use {resources.gib(stack.memory_wanted)}"
        f" ({source})"
    )
    if info.mem_total < stack.memory_needed:
        hint = engine.memory_fix(_gib_up(stack.memory_wanted) + 1)
        return Check("engine memory", "fail", f"{have}; {figures}", hint, required=True)
    if info.mem_total < stack.memory_wanted:
        hint = engine.memory_fix(_gib_up(stack.memory_wanted) + 1)
        return Check("engine memory", "warn", f"{have}; {figures}: pods may be killed under load", hint)
    return Check("engine memory", "ok", f"{have}; {figures}")


def check_cpus(engine: Engine, cfg: Config) -> Check:
    info = engine.info
    if info is None:
        return Check("engine CPUs", "info", "unknown: the engine does not answer")
    if cfg.repo_root is None:
        return Check("engine CPUs", "info", f"{info.ncpu} (docker info NCPU); the stack's needs are read from the repo")
    try:
        needed = resources.of_manifests(cfg.path(cfg.manifests_dir)).cpus_needed
    except DevctlError as err:
        return Check("engine CPUs", "warn", f"cannot read the stack's manifests: {err.message}")
    detail = (
        f"{info.ncpu} (docker info NCPU); the stack's CPU requests plus the kind node and ingress-nginx need {needed}"
    )
    if info.ncpu < needed:
        return Check("engine CPUs", "fail", detail, engine.cpu_fix(needed), required=True)
    return Check("engine CPUs", "ok", detail)


def privileged_ports(cfg: Config) -> dict[str, int]:
    return {f: p for f, p in (("http_port", cfg.http_port), ("https_port", cfg.https_port)) if p < PRIVILEGED_BELOW}


def rootless_refusal(cfg: Config) -> DevctlError | None:
    """A rootless engine cannot publish ports below 1024 (docs.docker.com/engine/security/rootless/, "Exposing
    privileged ports"): the node's `docker run` would fail with a bind error after minutes of work."""
    low = privileged_ports(cfg)
    if not low:
        return None
    named = ", ".join(f"{f} {p}" for f, p in low.items())
    settings = " and ".join(f"{env_name(f)}={ROOTLESS_PORTS[f]}" for f in low)
    table = ", ".join(f"{f} = {ROOTLESS_PORTS[f]}" for f in low)
    return DevctlError(
        f"the Docker engine is rootless and cannot publish {named} (ports below {PRIVILEGED_BELOW} need root)",
        hint=f"set {settings} (or {table} in [tool.devctl]); the site is then at http://{cfg.host}:"
        f"{ROOTLESS_PORTS['http_port'] if 'http_port' in low else cfg.http_port}",
    )


def check_rootless(engine: Engine, cfg: Config) -> Check | None:
    if not engine.rootless:
        return None
    refusal = rootless_refusal(cfg)
    if refusal is None:
        return Check("rootless engine", "ok", f"ports {cfg.http_port} and {cfg.https_port} need no root")
    return Check("rootless engine", "fail", refusal.message, refusal.hint or "", required=True)
