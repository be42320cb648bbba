"""The host ports the cluster and the registry are about to publish must be free (kind.md §8: a busy
80/443 makes `kind create` fail after minutes of work), checked before anything is created."""

from __future__ import annotations

from dataclasses import dataclass

from devctl.cluster.observe import Observed, published_ports
from devctl.cluster.plan import ClusterPlan, RegistryPlan
from devctl.cluster.spec import REGISTRY_LISTEN_ADDRESS, ClusterSpec, knob
from devctl.context import Context
from devctl.errors import DevctlError
from devctl.ports import PortState, probe


@dataclass(frozen=True)
class _Port:
    label: str
    port: int
    address: str
    field: str


def ports_to_bind(spec: ClusterSpec, cluster: ClusterPlan, registry: RegistryPlan) -> list[_Port]:
    out = []
    if cluster.create or cluster.start_nodes:
        out.append(_Port("HTTP", spec.http_port, spec.listen_address, "http_port"))
        out.append(_Port("HTTPS", spec.https_port, spec.listen_address, "https_port"))
    if registry.actions:
        out.append(_Port("registry", spec.registry_port, REGISTRY_LISTEN_ADDRESS, "registry_port"))
    return out


def check_ports(
    ctx: Context, spec: ClusterSpec, obs: Observed, cluster: ClusterPlan, registry: RegistryPlan | None = None
) -> None:
    """Raise one line naming every busy port, its owner and its knob. Ports our own running node or
    registry publish are fine (a recreate frees them first)."""
    wanted = ports_to_bind(spec, cluster, registry or RegistryPlan())
    busy: list[tuple[_Port, PortState]] = []
    for want in wanted:
        st = probe(want.port, want.address)
        if st.free is False:  # None: cannot tell (a privileged port without root); Docker may still bind it
            busy.append((want, st))
    if not busy:
        return
    running = [n.name for n in obs.nodes if n.running]
    if obs.registry is not None and obs.registry.running:
        running.append(obs.registry.name)
    ours = published_ports(ctx, running) if running else set()
    busy = [(w, st) for w, st in busy if w.port not in ours]
    if not busy:
        return
    what = "; ".join(
        f"host port {w.port} ({w.label}) on {w.address} is in use by {st.owner or 'another process'}" for w, st in busy
    )
    knobs = ", ".join(f"{knob(w.field)}=<port>" for w, _ in busy)
    raise DevctlError(what, hint=f"stop that process, or pick another port with {knobs}")
