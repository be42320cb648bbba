"""devctl's cluster-side parts as the docker tier runs them: its own steps and functions, with the
settings the ``devctl`` fixture put in the environment (private names, free ports, the local images).

kind cannot run here, so `devctl cluster up` cannot either; its registry part can: the cluster-plan step
(which looks and checks the ports first, as in `devctl up`) and the registry step, exactly as `up` runs
them. The link to the cluster's nodes is devctl's own ``registry.link``, given the plan ``plan_link`` makes
from what really exists (busybox containers carrying kind's labels stand in for the nodes).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import replace

from devctl import config
from devctl.cluster import registry as reg_ops
from devctl.cluster.observe import Observed, observe
from devctl.cluster.plan import LinkPlan, plan_link
from devctl.cluster.run import ClusterRun
from devctl.cluster.spec import KIND_CLUSTER_LABEL, ClusterSpec
from devctl.cluster.steps import cluster_steps
from devctl.context import Context
from devctl.report import SilentReporter
from devctl.tools.kubectl import API_OK
from devctl.workflows.steps import run_steps
from tests.conftest import REPO
from tests.docker.engine import KIND_NETWORK, Engine

REGISTRY_WAIT = 30.0  # seconds for a new registry container to answer /v2/


def context() -> Context:
    return Context.create(config.load({}, cwd=REPO), reporter=SilentReporter())


def spec() -> ClusterSpec:
    return ClusterSpec.from_config(config.load({}, cwd=REPO))


def registry_part(*, recreate: bool = False) -> SilentReporter:
    """`devctl up`'s registry part: the cluster-plan and registry steps. Returns what they reported."""
    ctx = context()
    run_steps([s for s in cluster_steps(ClusterRun(recreate)) if s.name in ("cluster-plan", "registry")], ctx)
    assert isinstance(ctx.reporter, SilentReporter)
    return ctx.reporter


def link_plan(ctx: Context) -> tuple[LinkPlan, Observed]:
    """What ``plan_link`` decides from what exists, taking the cluster's API as answering (a busybox node
    has none). The KEP-1755 ConfigMap is written through that API, so it is left out."""
    seen = observe(ctx, spec())
    p = plan_link(spec(), replace(seen, access=API_OK))
    return replace(p, publish_configmap=False), seen


def link() -> str:
    """devctl's ``registry.link`` as the registry-link step runs it, without the ConfigMap."""
    ctx = context()
    p, seen = link_plan(ctx)
    port = (seen.registry.host_port if seen.registry else None) or spec().registry_port
    return reg_ops.link(ctx, spec(), p, port)


def node(engine: Engine, image: str, name: str | None = None, *, running: bool = True) -> str:
    """A container as kind makes a node (kind.md §4): named <cluster>-control-plane, kind's two labels,
    on the `kind` network. It runs busybox's `sleep`, not Kubernetes."""
    s = spec()
    name = name or s.control_plane
    engine.ensure_kind_network()
    engine.container(
        image,
        "sleep",
        "3600",
        name=name,
        options=[
            "--label",
            f"{KIND_CLUSTER_LABEL}={s.name}",
            "--label",
            "io.x-k8s.kind.role=control-plane",
            "--network",
            KIND_NETWORK,
            "--hostname",
            name,
        ],
    )
    if not running:
        engine.ok("stop", "-t", "0", name)
    return name


def wait_for_registry(port: int) -> None:
    """Until the registry on 127.0.0.1:<port> answers its API root (distribution: 200 at /v2/)."""
    deadline = time.monotonic() + REGISTRY_WAIT
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as res:
                if res.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no registry answered on 127.0.0.1:{port} within {REGISTRY_WAIT:.0f} s")
        time.sleep(0.2)


def tags(port: int, repository: str) -> list[str]:
    """The tags the registry holds for ``repository`` (distribution API: GET /v2/<name>/tags/list)."""
    import json

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/{repository}/tags/list", timeout=5) as res:
        return list(json.loads(res.read()).get("tags") or [])
