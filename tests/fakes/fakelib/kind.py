"""Fake `kind` CLI (v0.31.0). Clusters are docker containers labelled io.x-k8s.kind.cluster, as in kind.

Facts: kind.md §2 (stderr for status/errors, exit 1 for every error, name rule, daemon-down text),
§3 (commands and texts), §3.1 (create: existence check first, step lines, failure deletes nodes),
§4 (names, labels, context kind-<name>, restart policy), §5 (config validation of port mappings).
"""

from __future__ import annotations

import re
import sys
import time
from typing import Any

from fakelib import docker, state

VERSION = "0.31.0"
DEFAULT_IMAGE = "kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f"
LABEL = "io.x-k8s.kind.cluster"


def err(msg: str) -> int:
    sys.stderr.write(f"ERROR: {msg}\n")  # kind.md §2: `ERROR: <message>` on stderr, exit 1
    return 1


def _opt(args: list[str], *names: str) -> str | None:
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                return args[i + 1]
            if a.startswith(n + "="):
                return a.split("=", 1)[1]
    return None


def _name(args: list[str]) -> str:
    import os

    return _opt(args, "--name", "-n") or os.environ.get("KIND_CLUSTER_NAME") or "kind"  # kind.md §2 precedence


def _daemon_down_error(what: str) -> int:
    # kind.md §2: every command fails when the daemon is down, wrapping the docker command.
    sys.stderr.write(
        f"ERROR: {what}: command \"docker ps -a --filter label={LABEL} --format '{{{{.Label \"{LABEL}\"}}}}'\" "
        "failed with error: exit status 1\n"
        f"Command Output: {docker.unreachable_text('containers/json')}\n"
    )
    return 1


def _nodes(s: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    return {n: c for n, c in s["docker"]["containers"].items() if c.get("labels", {}).get(LABEL) == name}


def main(argv: list[str]) -> int:
    args = [a for a in argv if a not in ("-q", "--quiet")]
    if args[:1] == ["version"]:
        if "-q" in argv:
            sys.stdout.write(VERSION + "\n")
        else:
            sys.stdout.write(f"kind v{VERSION} go1.25.5 linux/amd64\n")  # kind.md §1
        return 0
    down = state.read()["docker"]["daemon"] != "up"
    if args[:2] == ["get", "clusters"]:
        if down:
            return _daemon_down_error("failed to list clusters")
        s = state.read()
        names = sorted({c["labels"][LABEL] for c in s["docker"]["containers"].values()
                        if LABEL in c.get("labels", {})})
        if not names:
            sys.stderr.write("No kind clusters found.\n")
        for n in names:
            sys.stdout.write(n + "\n")
        return 0
    if args[:2] == ["get", "nodes"]:
        if down:
            return _daemon_down_error("failed to list nodes")
        name = _name(args[2:])
        nodes = sorted(_nodes(state.read(), name))
        if not nodes:
            sys.stderr.write(f'No kind nodes found for cluster "{name}".\n')
        for n in nodes:
            sys.stdout.write(n + "\n")
        return 0
    if args[:2] == ["export", "kubeconfig"]:
        name = _name(args[2:])
        if down or not _nodes(state.read(), name):
            if down:
                return _daemon_down_error("failed to list nodes")
            return err(f"could not locate any control plane nodes for cluster named '{name}'. "
                       "Use the --name option to select a different cluster")
        _add_context(name)
        sys.stderr.write(f'Set kubectl context to "kind-{name}"\n')
        return 0
    if args[:2] == ["delete", "cluster"]:
        if down:
            return _daemon_down_error("failed to list nodes")
        return _delete(_name(args[2:]))
    if args[:2] == ["create", "cluster"]:
        if down:
            return _daemon_down_error("failed to list nodes")
        return _create(args[2:])
    if args[:2] == ["load", "docker-image"]:
        return _load(args[2:])
    return err(f'unknown command "{" ".join(args[:2])}" for "kind"')


def _add_context(name: str) -> None:
    kc = state.read_kubeconfig()
    ctx = f"kind-{name}"
    port = 40000 + (abs(hash(name)) % 20000)
    kc["clusters"] = [c for c in kc["clusters"] if c.get("name") != ctx] + [
        {"name": ctx, "cluster": {"server": f"https://127.0.0.1:{port}", "certificate-authority-data": "ZmFrZQ=="}}]
    kc["users"] = [u for u in kc["users"] if u.get("name") != ctx] + [
        {"name": ctx, "user": {"client-certificate-data": "ZmFrZQ==", "client-key-data": "ZmFrZQ=="}}]
    kc["contexts"] = [c for c in kc["contexts"] if c.get("name") != ctx] + [
        {"name": ctx, "context": {"cluster": ctx, "user": ctx}}]
    kc["current-context"] = ctx  # kind.md §3.1: create/export switch the current context
    state.write_kubeconfig(kc)


def _remove_context(name: str) -> None:
    kc = state.read_kubeconfig()
    ctx = f"kind-{name}"
    for key in ("clusters", "users", "contexts"):
        kc[key] = [e for e in kc[key] if e.get("name") != ctx]
    if kc.get("current-context") == ctx:
        kc["current-context"] = ""
    state.write_kubeconfig(kc)


def _delete(name: str) -> int:
    sys.stderr.write(f'Deleting cluster "{name}" ...\n')
    with state.txn() as s:
        nodes = sorted(_nodes(s, name))
        for n in nodes:
            del s["docker"]["containers"][n]
        s["clusters"].pop(f"kind-{name}", None)
    _remove_context(name)  # kind.md §3: delete also removes the kind-<name> kubeconfig entries
    if nodes:
        sys.stderr.write("Deleted nodes: [" + " ".join(f'"{n}"' for n in nodes) + "]\n")
    return 0


def _step(title: str) -> None:
    sys.stderr.write(f" • {title}  ...\n")


def _ok(title: str) -> None:
    sys.stderr.write(f" ✓ {title}\n")


def _create(args: list[str]) -> int:
    import yaml

    cfg_path = _opt(args, "--config")
    config: dict[str, Any] = {}
    if cfg_path:
        text = sys.stdin.read() if cfg_path == "-" else open(cfg_path, encoding="utf-8").read()
        try:
            config = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            return err(f"failed to create cluster: unable to decode config: {e}")
    name = _opt(args, "--name", "-n") or __import__("os").environ.get("KIND_CLUSTER_NAME") \
        or config.get("name") or "kind"
    if not re.fullmatch(r"[a-z0-9.-]+", name):
        return err(f"'{name}' is not a valid cluster name, cluster names must match `^[a-z0-9.-]+$`")
    image = _opt(args, "--image") or DEFAULT_IMAGE
    # kind.md §3.1 step 1: existence check first; nothing else is printed.
    if _nodes(state.read(), name):
        return err(f'failed to create cluster: node(s) already exist for a cluster with the name "{name}"')
    # kind.md §5: validation of port mappings.
    nodes_cfg = config.get("nodes") or [{"role": "control-plane"}]
    mappings = [m for n in nodes_cfg for m in (n.get("extraPortMappings") or [])]
    seen = set()
    for m in mappings:
        key = (m.get("listenAddress", "0.0.0.0"), m.get("hostPort"), m.get("protocol", "TCP"))
        if key in seen:
            return err("failed to create cluster: port mapping with same listen address, port and protocol "
                       "already configured")
        seen.add(key)
    shown = image.split("@")[0]
    sys.stderr.write(f'Creating cluster "{name}" ...\n')
    _step(f"Ensuring node image ({shown}) 🖼")
    _ok(f"Ensuring node image ({shown}) 🖼")
    _step("Preparing nodes 📦 ")
    node = f"{name}-control-plane"
    for m in mappings:
        addr, port = m.get("listenAddress", "0.0.0.0"), int(m.get("hostPort", 0) or 0)
        if port > 0 and docker.port_in_use(addr, port):
            # kind.md §3.1 item 3 / §8: the node's docker run fails; nodes are deleted (no --retain).
            sys.stderr.write(" ✗ Preparing nodes 📦\n")
            sys.stderr.write(
                f"ERROR: failed to create cluster: command \"docker run --name {node} ... --publish={addr}:{port}:"
                f"{m.get('containerPort')}/TCP {image}\" failed with error: exit status 125\n"
                f"Command Output: docker: Error response from daemon: driver failed programming external connectivity"
                f" on endpoint {node}: Bind for {addr}:{port} failed: port is already allocated.\n")
            return 1
    # The node exists from here on: an interrupted create leaves it behind, as with the real kind.
    with state.txn() as s:
        c = docker.new_container(image, {LABEL: name, "io.x-k8s.kind.role": "control-plane"},
                                 ["kind"], "on-failure:1",
                                 {f"{m.get('containerPort')}/tcp": [{"HostIp": m.get("listenAddress", "0.0.0.0"),
                                                                     "HostPort": str(m.get("hostPort"))}]
                                  for m in mappings})
        c["kind_config"] = config
        if "kind" not in s["docker"]["networks"]:
            s["docker"]["networks"].append("kind")
        s["docker"]["containers"][node] = c
    state.sleep_knob("kind_create_delay")
    if state.knob("kind_create_fail"):
        sys.stderr.write(" ✗ Starting control-plane 🕹️\n")
        with state.txn() as s:
            s["docker"]["containers"].pop(node, None)  # kind.md §3.1 item 3: deleted unless --retain
        return err("failed to create cluster: failed to init node with kubeadm: command \"docker exec --privileged "
                   f"{node} kubeadm init\" failed with error: exit status 1")
    _ok("Preparing nodes 📦 ")
    for title in ("Writing configuration 📜", "Starting control-plane 🕹️", "Installing CNI 🔌",
                  "Installing StorageClass 💾"):
        _step(title)
        _ok(title)
    from fakelib import cluster_objects

    cluster_objects.bootstrap(f"kind-{name}", node, config)
    _add_context(name)
    sys.stderr.write(f'Set kubectl context to "kind-{name}"\nYou can now use your cluster with:\n\n'
                     f"kubectl cluster-info --context kind-{name}\n\nHave a nice day! 👋\n")
    return 0


def _load(args: list[str]) -> int:
    name = _name(args)
    images = [a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1] not in ("--name", "-n")]
    nodes = _nodes(state.read(), name)
    if not nodes:
        return err(f'no nodes found for cluster "{name}"')
    for img in images:
        sys.stderr.write(f'Image: "{img}" with ID "sha256:{abs(hash(img)):064x}"[:71] not yet present on node '
                         f'"{name}-control-plane", loading...\n')
    time.sleep(0)
    return 0
