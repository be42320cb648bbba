"""Whether a kind node can pull an image: the fake cluster's pods wait in ImagePullBackOff when not.

A name whose first part is a registry host with a port (`localhost:5001/...`) is pulled by the node's
containerd, which reads `/etc/containerd/certs.d/<host>/hosts.toml` (kind.md §6 step 3; containerd
docs/hosts.md). kind's pattern points `localhost:<port>` at the registry container by its name on the
`kind` network (`[host."http://kind-registry:5000"]`): "localhost in the container is not localhost on the
host". Without that file, or when it names a container that does not run, is not on the node's network,
or does not hold the image, the pull fails (tests/docker/test_containerd.py shows both with a real
containerd). Any other name (Docker Hub, an image `kind load` put in the node) is taken as pullable.

The pod then has the shape the API gives (Kubernetes API reference, Pod v1 `ContainerStatus`,
`ContainerStateWaiting{reason, message}`): phase Pending, `ready: false`, `state.waiting.reason:
ImagePullBackOff`, `message: Back-off pulling image "<image>"` (kubelet pkg/kubelet/images/image_manager.go
`Back-off pulling image %q`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# kind.md §6 step 3: hosts.toml holds `[host."http://<registry container>:<port>"]`.
_HOST_ENTRY = re.compile(r'\[host\."https?://([^:"/]+)(?::(\d+))?/?"\]')

Puller = Callable[[str], str | None]


def registry_host(image: str) -> str | None:
    """`localhost:5001/a_b:t` -> `localhost:5001`; None for a name without a registry host and port."""
    first, sep, _ = image.partition("/")
    return first if sep and ":" in first else None


def puller(s: dict[str, Any], context: str) -> Puller:
    """For the cluster of ``context``: image -> None when its node can pull it, else why not."""
    containers = s["docker"]["containers"]
    node = containers.get(f"{context[5:]}-control-plane") if context.startswith("kind-") else None

    def pull(image: str) -> str | None:
        host = registry_host(image)
        if host is None or node is None or image in (node.get("loaded") or []):
            return None  # Docker Hub and the like, or `kind load`ed into the node
        toml = (node.get("files") or {}).get(f"/etc/containerd/certs.d/{host}/hosts.toml")
        m = _HOST_ENTRY.search(toml or "")
        if m is None:
            return f"no hosts.toml for {host} in the node: localhost is the node itself"
        reg = containers.get(m.group(1))
        port = m.group(2) or "80"
        if reg is None or reg["state"] != "running":
            return f"{m.group(1)} does not run"
        if not set(reg.get("networks") or []) & set(node.get("networks") or []):
            return f"{m.group(1)} is not on the node's network"
        if f"{port}/tcp" not in (reg.get("ports") or {}):
            return f"{m.group(1)} does not listen on {port}"
        if image.split("@", 1)[0] not in (reg.get("registry") or []):
            return f"{image} was never pushed to {m.group(1)}"
        return None

    return pull


def waiting(image: str) -> dict[str, Any]:
    return {"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}}
