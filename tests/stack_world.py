"""Test helpers for the dev loop, status and logs: a fake kind cluster with a few tour services.

Everything goes through the fake executables on PATH (set up by the ``fake_tools`` fixture), exactly as
devctl would call them; nothing here talks to a real cluster.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SERVICES = ("auth", "tour", "client")


def manifest(service: str, replicas: int = 1) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {service}
  labels: {{app: {service}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {service}}}}}
  template:
    metadata: {{labels: {{app: {service}}}}}
    spec:
      containers:
        - name: {service}
          image: csup96/tour-{service}
---
apiVersion: v1
kind: Service
metadata: {{name: {service}}}
spec:
  selector: {{app: {service}}}
  ports: [{{port: 3000}}]
"""


def write_project(root: Path, services: tuple[str, ...] = SERVICES) -> Path:
    """A tour repo in miniature: a pyproject.toml with [tool.devctl], a skaffold.yaml with one artifact
    per service and rawYaml manifests in k8s/; returns the skaffold.yaml's path."""
    (root / "k8s").mkdir(parents=True, exist_ok=True)
    if not (root / "pyproject.toml").exists():
        (root / "pyproject.toml").write_text("[tool.devctl]\n")
    for s in services:
        (root / "k8s" / f"{s}.yaml").write_text(manifest(s))
    artifacts = "".join(f"    - image: csup96/tour-{s}\n" for s in services)
    path = root / "skaffold.yaml"
    path.write_text(
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n"
        + artifacts
        + "manifests:\n  rawYaml:\n    - k8s/**\ndeploy:\n  kubectl: {}\n"
    )
    return path


def run(*argv: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), input=input, capture_output=True, text=True, check=True)


def create_cluster(name: str = "tour") -> None:
    run("kind", "create", "cluster", "--name", name)


def deploy(services: tuple[str, ...] = SERVICES, replicas: int = 1, context: str = "kind-tour") -> None:
    run(
        "kubectl", "--context", context, "apply", "-f", "-", input="---\n".join(manifest(s, replicas) for s in services)
    )


def dev_log(state_dir: Path) -> list[dict[str, Any]]:
    """The fake skaffold dev's own record (start, signal, child, cleanup, exit)."""
    path = state_dir / "skaffold-dev.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _state(pid: str) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def living(pid: int) -> bool:
    """Alive and not a zombie (a zombie has exited; only its parent has not reaped it yet)."""
    state = _state(str(pid))
    return state is not None and state != "Z"


def processes_with_env(marker: str) -> list[int]:
    """Pids of living processes whose environment contains ``marker`` (e.g. ``DEVCTL_FAKE_STATE=<dir>``):
    every fake tool a test's devctl started carries its state dir, so any survivor is an orphan."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            env = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if needle in env.split(b"\0") and living(int(entry)):
            found.append(int(entry))
    return found


def ctrl_c_when(ready: Callable[[], bool], *, presses: int = 1, gap: float = 0.3, timeout: float = 20.0) -> None:
    """On a thread: once ``ready()`` holds, send SIGINT to this process ``presses`` times, as Ctrl-C would.

    Only for code that installs its own SIGINT handler while running (the dev loop's supervisor): call
    it when ``ready`` can only be true while that code runs.
    """

    def work() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                for i in range(presses):
                    if i:
                        time.sleep(gap)
                    os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)

    threading.Thread(target=work, daemon=True).start()


def dev_ready(state_dir: Path) -> Callable[[], bool]:
    """True while the fake skaffold dev has finished its first iteration and not exited yet."""

    def check() -> bool:
        events = [e["event"] for e in dev_log(state_dir)]
        return "ready" in events and "exit" not in events

    return check


REGISTRY_IMAGE = "registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373"
INGRESS_MANIFEST = Path(__file__).resolve().parent / "data" / "ingress-nginx-kind-v1.15.1.yaml"


def healthy_world(registry_port: int, hosts_file: Path, services: tuple[str, ...]) -> None:
    """Everything `devctl up` leaves behind, made with the fake tools: the cluster, the registry on
    127.0.0.1:<registry_port> (kind.md §6), ingress-nginx (its simulator), the hosts line, the services."""
    create_cluster()
    run(
        "docker", "run", "-d", "--restart=always", "-p", f"127.0.0.1:{registry_port}:5000", "--network", "bridge",
        "--name", "kind-registry", REGISTRY_IMAGE,
    )  # fmt: skip
    run("kubectl", "--context", "kind-tour", "apply", "-f", str(INGRESS_MANIFEST))
    hosts_file.write_text(hosts_file.read_text() + "127.0.0.1\ttour.xyz\n")
    deploy(services)


def write_app_project(root: Path, services: tuple[str, ...] = SERVICES) -> Path:
    """Like ``write_project``, with each artifact built from ``app/`` (a Dockerfile and a synced server.py),
    as the stack's stand-in is: a change to server.py is synced, one to the Dockerfile rebuilds."""
    write_project(root, services)
    app = root / "app"
    app.mkdir(exist_ok=True)
    (app / "Dockerfile").write_text("FROM python:3.12-alpine\nCOPY *.py /app/\n")
    (app / "server.py").write_text("print('serving')\n")
    artifacts = "".join(
        f"    - image: csup96/tour-{s}\n      context: app\n      sync:\n        manual:\n"
        f"          - src: '*.py'\n            dest: /app\n"
        for s in services
    )
    path = root / "skaffold.yaml"
    path.write_text(
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n"
        + artifacts
        + "manifests:\n  rawYaml:\n    - k8s/**\ndeploy:\n  kubectl: {}\n"
    )
    return path


def link_registry(port: int, name: str = "kind-registry", cluster: str = "tour", *, hosts_toml: bool = True) -> None:
    """The local registry wired to the cluster the way kind documents it (kind.md §6), with the fake tools
    directly: the container on 127.0.0.1:<port>, on the kind network, hosts.toml in the node (unless
    ``hosts_toml`` is False), and the KEP-1755 ConfigMap that makes Skaffold push to it."""
    run("docker", "run", "-d", "--restart=always", "-p", f"127.0.0.1:{port}:5000", "--network", "bridge",
        "--name", name, REGISTRY_IMAGE)  # fmt: skip
    run("docker", "network", "connect", "kind", name)
    node = f"{cluster}-control-plane"
    if hosts_toml:
        certs = f"/etc/containerd/certs.d/localhost:{port}"
        run("docker", "exec", node, "mkdir", "-p", certs)
        run("docker", "exec", "-i", node, "cp", "/dev/stdin", f"{certs}/hosts.toml",
            input=f'[host."http://{name}:5000"]\n')  # fmt: skip
    hosting = json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "local-registry-hosting", "namespace": "kube-public"},
        "data": {"localRegistryHosting.v1": f'host: "localhost:{port}"\n'},
    })  # fmt: skip
    run("kubectl", "--context", f"kind-{cluster}", "apply", "-f", "-", input=hosting)
