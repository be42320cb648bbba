"""The local registry, the pattern kind documents (kind.md §6): a registry container on
127.0.0.1:<port>, connected to the ``kind`` network, a hosts.toml in every node, and the KEP-1755
ConfigMap, so Skaffold pushes to localhost:<port> instead of `kind load`-ing every image.
"""

from __future__ import annotations

import json

from devctl.cluster.plan import LinkPlan, RegistryPlan, wanted_hosting
from devctl.cluster.spec import CERTS_DIR, REGISTRY_CONTAINER_PORT, REGISTRY_LISTEN_ADDRESS, ClusterSpec, knob
from devctl.context import Context
from devctl.errors import CommandError, DevctlError
from devctl.tools.docker import is_already_connected, is_name_in_use, is_port_taken

HOSTING_HELP = "https://kind.sigs.k8s.io/docs/user/local-registry/"


def run_args(spec: ClusterSpec) -> list[str]:
    """Arguments of `docker run -d` for the registry (kind.md §6 step 1)."""
    return [
        "--restart=always",
        "-p",
        f"{REGISTRY_LISTEN_ADDRESS}:{spec.registry_port}:{REGISTRY_CONTAINER_PORT}",
        "--network",
        "bridge",
        "--name",
        spec.registry_name,
        spec.registry_image,
    ]


def certs_dir(port: int) -> str:
    return f"{CERTS_DIR}/localhost:{port}"


def hosts_toml(spec: ClusterSpec) -> str:
    """kind.md §6 step 3: inside a node, localhost is the node, so localhost:<port> must lead to the
    registry container by its name on the kind network."""
    return f'[host."http://{spec.registry_name}:{REGISTRY_CONTAINER_PORT}"]\n'


def hosting_manifest(spec: ClusterSpec, port: int) -> str:
    """The KEP-1755 ConfigMap (kind.md §6 step 5) as kubectl apply input."""
    value = wanted_hosting(spec, port) | {"help": HOSTING_HELP}
    doc = "".join(f"{k}: {json.dumps(v)}\n" for k, v in value.items())
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "local-registry-hosting", "namespace": "kube-public"},
        "data": {"localRegistryHosting.v1": doc},
    }
    return json.dumps(cm, indent=2)


def ensure_registry(ctx: Context, spec: ClusterSpec, p: RegistryPlan) -> str:
    """Run, start or replace the registry container as planned; returns a note."""
    name = spec.registry_name
    if p.replace_registry:
        ctx.docker.remove(name)
    if p.run_registry or p.replace_registry:
        try:
            ctx.docker.run_detached(run_args(spec))
        except CommandError as err:
            if is_name_in_use(err):  # a concurrent devctl won
                return f"registry {name} was just started by another devctl"
            if is_port_taken(err):
                # docker created the container before its port failed, and leaves it "created"
                # (docker-kubectl.md §2): remove it, so the machine is as it was.
                ctx.docker.remove(name)
                raise DevctlError(
                    f"host port {spec.registry_port} (registry) is already in use",
                    hint=f"free it, or pick another port with {knob('registry_port')}=<port>",
                ) from err
            raise DevctlError(f"starting the registry container {name} failed") from err
        verb = "replaced" if p.replace_registry else "started"
        return f"{verb} {name} ({spec.registry_image.split('@')[0]}) on {REGISTRY_LISTEN_ADDRESS}:{spec.registry_port}"
    if p.start_registry:
        try:
            ctx.docker.start([name])
        except CommandError as err:
            raise DevctlError(f"starting the stopped registry container {name} failed") from err
        return f"started the stopped container {name}"
    return f"{name} is running"


def link(ctx: Context, spec: ClusterSpec, p: LinkPlan, port: int) -> str:
    """Connect the registry to the kind network, teach every node its address, publish it (kind.md §6 3-5)."""
    done = []
    if p.connect_registry:
        try:
            ctx.docker.network_connect("kind", spec.registry_name)
        except CommandError as err:
            if not is_already_connected(err):  # kind.md §6 step 4: connecting twice is an error
                raise DevctlError(f"connecting {spec.registry_name} to the kind network failed") from err
        done.append("connected to the kind network")
    if p.configure_nodes:
        directory = certs_dir(port)
        for node in p.configure_nodes:
            try:
                ctx.docker.exec(node, ["mkdir", "-p", directory])
                ctx.docker.exec(node, ["cp", "/dev/stdin", f"{directory}/hosts.toml"], input=hosts_toml(spec))
            except CommandError as err:
                raise DevctlError(f"writing {directory}/hosts.toml in node {node} failed") from err
        done.append(f"hosts.toml written in {len(p.configure_nodes)} node(s)")
    if p.publish_configmap:
        try:
            ctx.kubectl.apply(hosting_manifest(spec, port))
        except CommandError as err:
            raise DevctlError("publishing kube-public/local-registry-hosting failed") from err
        done.append(f"published as localhost:{port} (kube-public/local-registry-hosting)")
    return "; ".join(done)
