"""Fake `kind` CLI (v0.31.0). Clusters are docker containers labelled io.x-k8s.kind.cluster, as in kind.

Facts: kind.md §2 (stderr for status/errors, exit 1 for every error, name rule, daemon-down text),
§3 (commands and texts), §3.1 (create: existence check first, step lines, failure deletes nodes),
§4 (names, labels, context kind-<name>, restart policy), §5 (config validation of port mappings).
Paths below are in kubernetes-sigs/kind.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from fakelib import docker, flags, state

VERSION = "0.31.0"
DEFAULT_IMAGE = "kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f"
LABEL = "io.x-k8s.kind.cluster"

# pkg/cmd/kind/root.go (persistent) and each command's flags (pkg/cmd/kind/<command>/...go).
GLOBAL = flags.spec("-v,--verbosity= -q,--quiet -h,--help")
COMMANDS: dict[tuple[str, ...], flags.Spec] = {
    ("version",): flags.spec(""),
    ("create", "cluster"): flags.spec("-n,--name= --config= --image= --retain --wait= --kubeconfig="),
    ("delete", "cluster"): flags.spec("-n,--name= --kubeconfig="),
    ("delete", "clusters"): flags.spec("--kubeconfig= -A,--all"),
    ("get", "clusters"): flags.spec(""),
    ("get", "nodes"): flags.spec("-n,--name= -A,--all-clusters"),
    ("get", "kubeconfig"): flags.spec("-n,--name= --internal"),
    ("export", "kubeconfig"): flags.spec("-n,--name= --kubeconfig= --internal"),
    ("export", "logs"): flags.spec("-n,--name="),
    ("load", "docker-image"): flags.spec("-n,--name= --nodes="),
}
GROUPS = {"create", "delete", "get", "export", "load", "build", "completion"}
# Commands whose cobra Args is NoArgs: an argument is "unknown command" (cobra args.go legacy/NoArgs).
NO_ARGS = {("create", "cluster"), ("delete", "cluster"), ("get", "clusters"), ("get", "nodes"),
           ("get", "kubeconfig"), ("export", "kubeconfig")}


class KindError(Exception):
    """An error kind prints as `ERROR: <msg>` (cmd/kind/app/main.go logError), with a command's output
    after a blank line when the error came from a command (pkg/exec RunError)."""

    def __init__(self, msg: str, output: str | None = None) -> None:
        super().__init__(msg)
        self.output = output


def err(msg: str) -> int:
    sys.stderr.write(f"ERROR: {msg}\n")  # kind.md §2: `ERROR: <message>` on stderr, exit 1
    return 1


def _docker_failed(wrap: str, command: str, output: str, code: int = 1) -> KindError:
    # pkg/exec/types.go: `command "<shell-quoted>" failed with error: exit status N`; main.go logError
    # prints "\nCommand Output: <output>" after it (a blank line first when not on a colour terminal).
    return KindError(f'{wrap}command "{command}" failed with error: exit status {code}', output)


def _list_nodes_cmd(name: str) -> str:
    # pkg/cluster/internal/providers/docker/provider.go ListNodes
    return f"docker ps -a --filter label={LABEL}={name} --format '{{{{.Names}}}}'"


def _require_docker(wrap: str, command: str) -> None:
    if state.read()["docker"]["daemon"] != "up":
        raise _docker_failed(wrap, command, docker.unreachable_text("containers/json"))


def _nodes(s: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    return {n: c for n, c in s["docker"]["containers"].items() if c.get("labels", {}).get(LABEL) == name}


def _command(argv: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """cobra's Find: the leading words that name a command (flags may come first), and the rest."""
    words = [a for a in argv if not a.startswith("-")]
    if words[:1] and words[0] in GROUPS and len(words) > 1 and (words[0], words[1]) in COMMANDS:
        path: tuple[str, ...] = (words[0], words[1])
    elif words[:1] and (words[0],) in COMMANDS:
        path = (words[0],)
    else:
        path = tuple(words[:1])
    rest = list(argv)
    for w in path:
        rest.remove(w)
    return path, rest


def main(argv: list[str]) -> int:
    path, rest = _command(argv)
    if not path:
        return err("Subcommand is required")
    if path not in COMMANDS:
        if path[0] in GROUPS:
            # pkg/cmd/kind/get/get.go (and create, delete, ...): help, then this error.
            return err("Subcommand is required")
        return err(f'unknown command "{path[0]}" for "kind"')  # root with subcommands (cobra legacyArgs)
    try:
        a = flags.parse(rest, COMMANDS[path] + GLOBAL)
    except flags.FlagError as e:
        return err(str(e))  # kind.md §2: SilenceUsage, every error exit 1
    if a.flag("quiet") and path != ("version",):
        sys.stderr = open(os.devnull, "w")  # kind.md §2: -q silences all stderr
    if path in NO_ARGS and a.args:
        return err(f'unknown command "{a.args[0]}" for "kind {" ".join(path)}"')
    try:
        return _run(path, a)
    except KindError as e:
        code = err(str(e))
        if e.output is not None:
            sys.stderr.write(f"\nCommand Output: {e.output}\n")
        return code


def _run(path: tuple[str, ...], a: flags.Parsed) -> int:
    if path == ("version",):
        sys.stdout.write(VERSION + "\n" if a.flag("quiet") else f"kind v{VERSION} go1.25.5 linux/amd64\n")  # §1
        return 0
    name = a.get("name") or os.environ.get("KIND_CLUSTER_NAME") or "kind"  # kind.md §2 precedence
    if path == ("get", "clusters"):
        _require_docker("failed to list clusters: ",
                        f"docker ps -a --filter label={LABEL} --format '{{{{.Label \"{LABEL}\"}}}}'")
        names = sorted({c["labels"][LABEL] for c in state.read()["docker"]["containers"].values()
                        if LABEL in c.get("labels", {})})
        if not names:
            sys.stderr.write("No kind clusters found.\n")
        sys.stdout.write("".join(n + "\n" for n in names))
        return 0
    if path == ("get", "nodes"):
        _require_docker("failed to list nodes: ", _list_nodes_cmd(name))
        nodes = sorted(_nodes(state.read(), name))
        if not nodes:
            sys.stderr.write(f'No kind nodes found for cluster "{name}".\n')
        sys.stdout.write("".join(n + "\n" for n in nodes))
        return 0
    if path == ("export", "kubeconfig"):
        return _export(name)
    if path == ("delete", "cluster"):
        # pkg/cmd/kind/delete/cluster/deletecluster.go wraps pkg/cluster/internal/delete/delete.go's error.
        _require_docker(f'failed to delete cluster "{name}": error listing nodes: failed to list nodes: ',
                        _list_nodes_cmd(name))
        return _delete(name)
    if path == ("create", "cluster"):
        return _create(a)
    if path == ("load", "docker-image"):
        return _load(name, a.args)
    return err(f'"kind {" ".join(path)}" is not simulated by the fake')


def _export(name: str) -> int:
    _require_docker("failed to list nodes: ", _list_nodes_cmd(name))
    nodes = _nodes(state.read(), name)
    if not nodes:
        return err(f"could not locate any control plane nodes for cluster named '{name}'. "
                   "Use the --name option to select a different cluster")
    node = f"{name}-control-plane"
    c = nodes.get(node) or next(iter(nodes.values()))
    if c["state"] != "running":
        # pkg/cluster/internal/kubeconfig/kubeconfig.go get(): the kubeconfig is read from the node with
        # `docker exec --privileged <node> cat /etc/kubernetes/admin.conf` (providers/docker/node.go), which a
        # stopped node cannot answer.
        raise _docker_failed("failed to get cluster internal kubeconfig: ",
                             f"docker exec --privileged {node} cat /etc/kubernetes/admin.conf",
                             docker.not_running_text(c))
    _add_context(name)
    sys.stderr.write(f'Set kubectl context to "kind-{name}"\n')
    return 0


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


def _read_config(path: str | None) -> dict[str, Any]:
    import yaml

    if not path:
        return {}
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise KindError(f"failed to create cluster: unable to decode config: {e}") from None


def _check_mappings(mappings: list[dict[str, Any]]) -> None:
    # kind.md §5: validation of port mappings.
    seen = set()
    for m in mappings:
        key = (m.get("listenAddress", "0.0.0.0"), m.get("hostPort"), m.get("protocol", "TCP"))
        if key in seen:
            raise KindError("failed to create cluster: port mapping with same listen address, port and protocol "
                            "already configured")
        seen.add(key)


def _create(a: flags.Parsed) -> int:
    # pkg/cluster/internal/create/create.go Cluster(): the provider is validated first (`docker info`,
    # providers/docker/provider.go info(): "failed to get docker info"), then the config, then the existence
    # check, then the config's validation; pkg/cmd/kind/create/cluster wraps all in "failed to create cluster".
    _require_docker("failed to create cluster: failed to get docker info: ", "docker info --format '{{json .}}'")
    config = _read_config(a.get("config"))
    name = a.get("name") or os.environ.get("KIND_CLUSTER_NAME") or config.get("name") or "kind"
    if not re.fullmatch(r"[a-z0-9.-]+", name):
        return err(f"'{name}' is not a valid cluster name, cluster names must match `^[a-z0-9.-]+$`")
    image = a.get("image") or DEFAULT_IMAGE
    # kind.md §3.1 step 1: existence check before any output.
    if _nodes(state.read(), name):
        return err(f'failed to create cluster: node(s) already exist for a cluster with the name "{name}"')
    nodes_cfg = config.get("nodes") or [{"role": "control-plane"}]
    mappings = [m for n in nodes_cfg for m in (n.get("extraPortMappings") or [])]
    _check_mappings(mappings)
    shown = image.split("@")[0]
    sys.stderr.write(f'Creating cluster "{name}" ...\n')
    _step(f"Ensuring node image ({shown}) 🖼")
    _ok(f"Ensuring node image ({shown}) 🖼")
    _step("Preparing nodes 📦 ")
    node = f"{name}-control-plane"
    ports = {f"{m.get('containerPort')}/tcp": [{"HostIp": m.get("listenAddress", "0.0.0.0"),
                                               "HostPort": str(m.get("hostPort"))}] for m in mappings}
    # The node exists from here on: an interrupted create leaves it behind, as with the real kind.
    with state.txn() as s:
        c = docker.new_container(image, {LABEL: name, "io.x-k8s.kind.role": "control-plane"}, ["kind"],
                                 "on-failure:1", ports)
        c["kind_config"] = config
        if "kind" not in s["docker"]["networks"]:
            s["docker"]["networks"].append("kind")
        s["docker"]["containers"][node] = c
        conflict = docker.port_conflict(s["docker"]["containers"], node, str(s["docker"].get("engine") or "28"))
        if conflict:
            del s["docker"]["containers"][node]  # kind.md §3.1 item 3: nodes deleted unless --retain
    if conflict:
        # kind.md §3.1 item 3 / §8: the node's `docker run` fails with the engine's words for the holder.
        sys.stderr.write(" ✗ Preparing nodes 📦\n")
        publish = " ".join(f"--publish={m.get('listenAddress', '0.0.0.0')}:{m.get('hostPort')}:"
                           f"{m.get('containerPort')}/TCP" for m in mappings)
        raise _docker_failed("failed to create cluster: ",
                             f"docker run --name {node} --hostname {node} --label io.x-k8s.kind.role=control-plane "
                             f"--privileged --restart=on-failure:1 --net kind --label {LABEL}={name} {publish} "
                             f"{image}", f"docker: {conflict}{docker.RUN_HELP}", 125)
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


def _load(name: str, images: list[str]) -> int:
    nodes = _nodes(state.read(), name)
    if not nodes:
        return err(f'no nodes found for cluster "{name}"')
    for img in images:
        digest = f"{abs(hash(img)):064x}"[:64]
        sys.stderr.write(f'Image: "{img}" with ID "sha256:{digest}" not yet present on node '
                         f'"{name}-control-plane", loading...\n')
    return 0
