"""The registry wiring as a kind node's containerd reads it (devctl.cluster.registry ``hosts_toml``, ``link``).

Inside a node, localhost is the node: containerd finds the registry only through the hosts.toml devctl
writes into /etc/containerd/certs.d/localhost:<port>/ (kind.md §6 step 3). Short of a real kind node, a
real `ctr` (Debian's containerd) runs in a container on the `kind` network, with the hosts.toml devctl
wrote into a (busybox) node as its --hosts-dir, and pulls localhost:<port>/… through the engine's own
containerd. Without the file the same pull fails: the file is what makes it work.
"""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from devctl.cluster import registry as reg_ops
from devctl.stack import image_name
from tests.docker import parts
from tests.docker.conftest import Devctl
from tests.docker.engine import KIND_NETWORK, LABEL, PREFIX, Engine
from tests.docker.images import Images

# Where dockerd's own containerd listens (started by dockerd), or a system containerd dockerd uses.
CONTAINERD_SOCKETS = ("/var/run/docker/containerd/containerd.sock", "/run/containerd/containerd.sock")
NAMESPACE = f"{PREFIX}-pull"  # containerd namespace of this run (dockerd's is "moby")


Ctr = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def ctr(engine: Engine, images: Images) -> Iterator[Ctr]:
    """``ctr(*args, mounts=[…])``: ctr run with `docker run` on the `kind` network, talking to the engine's
    containerd, in this run's namespace; what it pulled is removed at the end."""
    sock = next((s for s in CONTAINERD_SOCKETS if Path(s).exists() and stat.S_ISSOCK(Path(s).stat().st_mode)), None)
    if sock is None:
        pytest.skip(f"no containerd socket of the engine here ({', '.join(CONTAINERD_SOCKETS)}); on Docker "
                    "Desktop it is inside its VM")  # fmt: skip
    engine.ensure_kind_network()

    def run(*args: str, mounts: Sequence[str] = (), namespace: str = NAMESPACE) -> subprocess.CompletedProcess[str]:
        docker = ["run", "--rm", "--label", LABEL, "--network", KIND_NETWORK]
        docker += ["-v", f"{sock}:/run/containerd/containerd.sock", *mounts]
        return engine.call(*docker, images.ctr, *(["-n", namespace] if namespace else []), *args)

    try:
        yield run
    finally:
        for ref in run("images", "ls", "-q").stdout.split():
            run("images", "rm", "--sync", ref)
        run("namespaces", "rm", NAMESPACE, namespace="")


def test_containerd_pulls_from_the_registry_through_the_hosts_toml_devctl_writes(
    devctl: Devctl, engine: Engine, images: Images, ctr: Ctr
) -> None:
    node = parts.node(engine, images.busybox)
    parts.registry_part()
    parts.link()
    parts.wait_for_registry(devctl.registry_port)
    ref = f"localhost:{devctl.registry_port}/{image_name('auth').replace('/', '_')}:dev"
    engine.ok("push", engine.tag(images.busybox, ref))

    # The node's hosts.toml, byte for byte, in a folder laid out like the node's certs.d.
    in_node = f"{reg_ops.certs_dir(devctl.registry_port)}/hosts.toml"
    hosts_dir = devctl.work / "certs.d"
    host_dir = hosts_dir / Path(reg_ops.certs_dir(devctl.registry_port)).name
    host_dir.mkdir(parents=True)
    (host_dir / "hosts.toml").write_text(engine.ok("exec", node, "cat", in_node) + "\n")
    assert (host_dir / "hosts.toml").read_text() == reg_ops.hosts_toml(parts.spec())

    without = ctr("images", "pull", "--snapshotter", "native", ref)
    assert without.returncode != 0
    assert f"localhost:{devctl.registry_port}" in without.stderr and "connection refused" in without.stderr

    mount = ["-v", f"{hosts_dir}:/hosts:ro"]
    done = ctr("images", "pull", "--hosts-dir", "/hosts", "--snapshotter", "native", ref, mounts=mount)
    assert done.returncode == 0, done.stderr
    assert ref in ctr("images", "ls", "-q").stdout.split()
