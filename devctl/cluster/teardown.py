"""`devctl down`'s cluster part: delete the kind cluster and, when asked, the registry container.

Idempotent like `kind delete cluster` (kind.md §3): what is already gone is not an error. Only this
cluster's node containers (by their kind label) and the configured registry container are touched;
`kind delete cluster --name N` removes just the kind-N entries from the kubeconfig.
"""

from __future__ import annotations

from devctl.cluster.observe import observe_nodes, observe_registry
from devctl.cluster.spec import ClusterSpec
from devctl.context import Context


def teardown(ctx: Context, *, registry: bool) -> list[str]:
    """Delete what exists; return what was (under --dry-run: would be) removed, empty if nothing."""
    spec = ClusterSpec.from_config(ctx.cfg)
    removed: list[str] = []
    nodes = observe_nodes(ctx, spec)  # the kind.md §4 probe; raises DockerDown before anything changes
    if nodes:
        ctx.kind.delete_cluster(spec.name)
        removed.append(
            f"kind cluster {spec.name} ({len(nodes)} node container(s), kube context {spec.context}), and with it the "
            "stack's data: the databases, Redis and NATS kept their volumes in its node (`devctl up` starts empty)"
        )
    if registry and observe_registry(ctx, spec) is not None:
        ctx.docker.remove(spec.registry_name)
        removed.append(f"registry container {spec.registry_name}")
    return removed
