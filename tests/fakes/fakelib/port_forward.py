"""`kubectl port-forward TYPE/NAME [LOCAL:]REMOTE... [--address ADDR]` for the fake: real listening sockets
on this machine, each connection relayed to what a test says the pod's port is.

What it reproduces (kubectl pkg/cmd/portforward/portforward.go, client-go tools/portforward/portforward.go):
- a Service target picks one pod its selector matches and translates the Service's port to that pod's
  target port (a name is looked up in the container's ports); a Service without that port: `error: Service
  <name> does not have a service port <port>`; no such Service: `Error from server (NotFound): services
  "<name>" not found`; no pod at all: kubectl waits `--pod-running-timeout` (1m0s) for one, then `error:
  timed out waiting for the condition`; a pod that is not Running: `error: unable to forward port because pod
  is not running. Current status=<phase>`; all exit 1;
- each listener: `Forwarding from 127.0.0.1:<local> -> <pod port>` on stdout (also `[::1]` for the default
  address `localhost`), then `Handling connection for <local>` per connection; a busy local port:
  `Unable to listen on port <local>: Listeners failed to create with the following errors: [unable to create
  listener: Error listen tcp4 127.0.0.1:<local>: bind: address already in use]` and `error: unable to listen
  on any of the requested ports: [{<local> <remote>}]`, exit 1;
- the pod goes away (deleted, replaced): the stream connection closes, ForwardPorts returns
  ErrLostConnectionToPod and kubectl ends with `error: lost connection to pod`, exit 1;
- a connection the pod refuses: an `an error occurred forwarding <local> -> <port>` line on stderr, the
  local connection is closed, the forward goes on;
- SIGINT/SIGTERM: the listeners close, exit 0.

Where the pod's port leads is the knob `port_forward_backends`: {<service or app label>: {"<pod port>":
"127.0.0.1:<port>"}} (a stand-in server in the test). Knob `port_forward_wait`: seconds to wait for a pod
(the real default is 60).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from fakelib import cluster_objects as co
from fakelib import state

WATCH_SECONDS = 0.3


def _fail(text: str) -> int:
    sys.stderr.write(text + "\n")
    return 1


def _pods_now(ctx: str) -> dict[str, dict[str, Any]]:
    """The cluster's pods from one plain read of the state (no lock, no write: this runs every few tenths)."""
    try:
        with open(os.path.join(state.state_dir(), "state.json"), encoding="utf-8") as f:
            snapshot = json.load(f)
    except (FileNotFoundError, ValueError):
        return {}
    objs = dict((snapshot.get("clusters", {}).get(ctx) or {}).get("objects") or {})
    return co.derived_pods(objs, snapshot.get("knobs") or {})


def _pod_port(pod: dict[str, Any], target: Any) -> int | None:
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for c in pod["spec"].get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target:
                return int(p["containerPort"])
    return None


def _choose_pod(a: Any, ctx: str, ns: str, kind: str, name: str) -> tuple[dict[str, Any] | None, str, str]:
    """(pod, backend key, error)"""
    from fakelib.kubectl import all_objects, matches

    objs = all_objects(ctx)
    if kind == "Service":
        svc = objs.get(co.key("Service", ns, name))
        if svc is None:
            return None, "", f'Error from server (NotFound): services "{name}" not found'
        selector = ",".join(f"{k}={v}" for k, v in (svc.get("spec", {}).get("selector") or {}).items())
        pods = [o for k, o in sorted(objs.items()) if k.startswith(f"Pod/{ns}/")
                and matches(o["metadata"].get("labels") or {}, selector)]
        key = name
    else:
        pods = [o for k, o in objs.items() if k == co.key("Pod", ns, name)]
        if not pods:
            return None, "", f'Error from server (NotFound): pods "{name}" not found'
        key = pods[0]["metadata"].get("labels", {}).get("app", name)
    if not pods:
        return None, key, ""
    running = [p for p in pods if p["status"].get("phase") == "Running"]
    return (running or pods)[0], key, ""


def _mappings(a: Any, kind: str, name: str, ns: str, pod: dict[str, Any], ctx: str) -> list[tuple[int, int, int]]:
    """(local, remote as asked, pod port) per argument; raises ValueError with kubectl's text."""
    from fakelib.kubectl import all_objects

    svc = all_objects(ctx).get(co.key("Service", ns, name)) if kind == "Service" else None
    out = []
    for arg in [p for p in a.pos[2:] if p != "--"]:
        local, _, remote = arg.rpartition(":")
        remote_n = int(remote)
        target: Any = remote_n
        if svc is not None:
            port = next((p for p in svc["spec"].get("ports") or [] if p.get("port") == remote_n), None)
            if port is None:
                raise ValueError(f"error: Service {name} does not have a service port {remote_n}")
            target = port.get("targetPort", remote_n)
        pod_port = _pod_port(pod, target)
        if pod_port is None:
            raise ValueError(f"error: Pod '{pod['metadata']['name']}' does not have a named port '{target}'")
        out.append((int(local) if local else remote_n, remote_n, pod_port))
    return out


def _relay(client: socket.socket, backend: str | None, local: int, pod_port: int, pod: str) -> None:
    sys.stdout.write(f"Handling connection for {local}\n")
    sys.stdout.flush()
    try:
        if backend is None:
            raise ConnectionRefusedError
        host, _, port = backend.rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=5)
    except OSError:
        sys.stderr.write(f"E0101 00:00:00.000000 portforward.go:424] an error occurred forwarding {local} -> "
                         f"{pod_port}: error forwarding port {pod_port} to pod {pod}: dial tcp4 127.0.0.1:{pod_port}"
                         ": connect: connection refused\n")
        client.close()
        return
    upstream.settimeout(None)

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
    pump(client, upstream)


def _listen(address: str, local: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Go's net.Listen does
    try:
        sock.bind((address, local))
    except OSError:
        sock.close()
        raise
    sock.listen(64)
    return sock


def port_forward(a: Any, ctx: str) -> int:
    ns = a.get("-n", "default") or "default"
    target = a.pos[1] if len(a.pos) > 1 else ""
    res, _, name = target.partition("/")
    if not name:
        res, name = "pod", res
    kind = co.RESOURCES.get(res, ("Pod", True))[0]
    deadline = time.time() + float(state.knob("port_forward_wait", 60) or 0)
    while True:
        pod, key, error = _choose_pod(a, ctx, ns, kind, name)
        if error:
            return _fail(error)
        if pod is not None:
            break
        if time.time() >= deadline:
            return _fail("error: timed out waiting for the condition")
        time.sleep(WATCH_SECONDS)
    if pod["status"].get("phase") != "Running":
        phase = pod["status"]["phase"]
        return _fail(f"error: unable to forward port because pod is not running. Current status={phase}")
    try:
        mappings = _mappings(a, kind, name, ns, pod, ctx)
    except ValueError as err:
        return _fail(str(err))
    address = (a.get("--address") or "127.0.0.1").split(",")[0]
    listeners = []
    for local, remote, pod_port in mappings:
        try:
            listeners.append((_listen(address, local), local, pod_port))
        except OSError:
            for s, _, _ in listeners:
                s.close()
            sys.stderr.write(f"Unable to listen on port {local}: Listeners failed to create with the following errors: "
                             f"[unable to create listener: Error listen tcp4 {address}:{local}: bind: address "
                             "already in use]\n")
            return _fail(f"error: unable to listen on any of the requested ports: [{{{local} {remote}}}]")
    for _, local, pod_port in listeners:
        sys.stdout.write(f"Forwarding from {address}:{local} -> {pod_port}\n")
    sys.stdout.flush()
    return _serve(listeners, ctx, pod, key)


def _serve(listeners: list[tuple[socket.socket, int, int]], ctx: str, pod: dict[str, Any], key: str) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    pod_name = pod["metadata"]["name"]
    ns = pod["metadata"]["namespace"]

    def accept(sock: socket.socket, local: int, pod_port: int) -> None:
        while not stop.is_set():
            try:
                client, _ = sock.accept()
            except OSError:
                return
            backend = (state.knob("port_forward_backends", {}) or {}).get(key, {}).get(str(pod_port))
            threading.Thread(target=_relay, args=(client, backend, local, pod_port, pod_name), daemon=True).start()

    for sock, local, pod_port in listeners:
        threading.Thread(target=accept, args=(sock, local, pod_port), daemon=True).start()
    lost = False
    while not stop.wait(WATCH_SECONDS):
        if co.key("Pod", ns, pod_name) not in _pods_now(ctx):
            lost = True
            break
    for sock, _, _ in listeners:
        sock.close()
    if lost:
        return _fail("error: lost connection to pod")
    return 0
