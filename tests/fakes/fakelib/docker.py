"""Fake `docker` CLI: the subset devctl and the fake kind use, with the real texts and exit codes.

It plays a Docker 28.2.2 client against a 28.x engine. Facts: docker-kubectl.md §2 (texts and exit codes
observed on a real engine, each checked again by tests/docker/ against the engine that runs them), kind.md
§2 (daemon-down text), §4 (labels, states, `docker ps` probe), §6 (registry commands: `docker inspect -f`,
`docker run -d --restart=always -p 127.0.0.1:5001:5000 --network bridge --name …`, `docker network
connect`, `docker exec -i … cp /dev/stdin …`). Texts that differ between engine versions are listed in
tests/docker/README.md; the ones here that only a 28.x engine prints are marked "28.x".
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import sys
import time
from typing import Any

from fakelib import state

DEFAULT_HOST = "unix:///var/run/docker.sock"
API = "v1.50"  # the API version a 28.2 client asks for (docker-kubectl.md §2, permission-denied text)
# docker-kubectl.md §2: the 28.x client's last lines after a failed `docker run`.
RUN_HELP = "\n\nRun 'docker run --help' for more information"


def _host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def unreachable_text(api_path: str) -> str:
    """What the client says when the daemon cannot be used: the state's daemon is "down" (nothing listens
    on the socket) or "denied" (this user may not open it). The address is DOCKER_HOST's, as the real
    client prints it (tests/docker/test_detection.py sees it with a closed socket)."""
    host = _host()
    if state.read()["docker"]["daemon"] == "denied":
        sock = host.removeprefix("unix://")
        quoted = sock.replace("/", "%2F")
        return (f"permission denied while trying to connect to the Docker daemon socket at {host}: Get "
                f"\"http://{quoted}/{API}/{api_path}\": dial unix {sock}: connect: permission denied")
    return f"Cannot connect to the Docker daemon at {host}. Is the docker daemon running?"


# The API path each command asks first (for the permission-denied text, which quotes it).
_API_PATHS = {"info": "info", "version": "version", "ps": "containers/json", "inspect": "containers/json"}


def err(msg: str, code: int = 1) -> int:
    sys.stderr.write(msg + "\n")
    return code


def _lookup(obj: Any, path: str) -> Any:
    cur = obj
    for part in [p for p in path.split(".") if p]:
        if isinstance(cur, dict):
            cur = cur.get(part)
        else:
            return None
    return cur


def render_template(fmt: str, obj: dict[str, Any]) -> str:
    """The few Go template forms devctl uses: {{.A.B}}, {{json .A.B}}, {{.Label "k"}}."""

    def repl(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        lm = re.fullmatch(r'\.Label\s+"([^"]+)"', expr)
        if lm:
            return str(obj.get("Labels", {}).get(lm.group(1), ""))
        if expr.startswith("json "):
            return json.dumps(_lookup(obj, expr[5:].strip()))
        val = _lookup(obj, expr)
        if val is None:
            return "<no value>"
        if isinstance(val, bool):
            return "true" if val else "false"
        if isinstance(val, (dict, list)):
            return json.dumps(val)
        return str(val)

    out = re.sub(r"\{\{(.*?)\}\}", repl, fmt)
    return out.replace("\\t", "\t")


def inspect_view(name: str, c: dict[str, Any]) -> dict[str, Any]:
    running = c["state"] == "running"
    return {
        "Id": c["id"],
        "Name": "/" + name,
        "State": {"Status": c["state"], "Running": running},
        "Config": {"Image": c["image"], "Labels": c.get("labels", {})},
        "HostConfig": {"RestartPolicy": {"Name": c.get("restart", "no")}, "PortBindings": c.get("ports", {})},
        "NetworkSettings": {"Networks": {n: {"NetworkID": n} for n in c.get("networks", [])}},
    }


def ps_view(name: str, c: dict[str, Any]) -> dict[str, Any]:
    return {"Names": name, "State": c["state"], "Image": c["image"], "Labels": c.get("labels", {}),
            "ID": c["id"][:12]}


def port_in_use(addr: str, port: int) -> bool:
    """Really try to bind, as dockerd's port publishing would (a held port makes docker run fail)."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr or "0.0.0.0", port))
    except OSError:
        return True
    finally:
        s.close()
    return False


def new_container(image: str, labels: dict[str, str], networks: list[str], restart: str,
                  ports: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{abs(hash((image, time.time()))):064x}"[:64], "image": image, "state": "running",
            "labels": labels, "networks": networks, "restart": restart, "ports": ports, "files": {}}


def _bindings(ports: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(host address, host port, container port/proto) of a container's published ports."""
    return [(str(b.get("HostIp") or "0.0.0.0"), str(b.get("HostPort")), key)
            for key, binds in ports.items() for b in binds or [] if str(b.get("HostPort", "")).isdigit()]


def port_conflict(containers: dict[str, Any], name: str) -> str | None:
    """Why starting ``name`` fails on a published port, in the engine's words; None when it can start.

    docker-kubectl.md §2: a port another container publishes fails in moby's port allocator ("Bind for
    A:P failed: port is already allocated"); a port a host process holds fails when the engine binds it
    ("28.x": "failed to bind host port for A:P:<container ip>:<port>/tcp: address already in use"; a 20.10
    engine says "Error starting userland proxy: listen tcp4 A:P: bind: address already in use")."""
    c = containers[name]
    taken = {(a, p) for n, o in containers.items() if n != name and o["state"] == "running"
             for a, p, _ in _bindings(o.get("ports", {}))}
    for addr, port, cport in _bindings(c.get("ports", {})):
        why = None
        if (addr, port) in taken or ("0.0.0.0", port) in taken:
            why = f"Bind for {addr}:{port} failed: port is already allocated"
        elif port_in_use(addr, int(port)):
            why = f"failed to bind host port for {addr}:{port}:172.17.0.2:{cport}: address already in use"
        if why:
            return (f"Error response from daemon: failed to set up container networking: driver failed programming "
                    f"external connectivity on endpoint {name} ({c['id']}): {why}")
    return None


def main(argv: list[str]) -> int:
    if not argv:
        return err("Usage:  docker [OPTIONS] COMMAND")
    cmd, rest = argv[0], argv[1:]
    if cmd == "version":
        # docker-kubectl.md §2: the client prints its own part even without a daemon, then the daemon's
        # error, exit 1.
        fmt = _opt(rest, "--format", "-f")
        if state.read()["docker"]["daemon"] != "up":
            if fmt and ".Server" not in fmt:
                _print(render_template(fmt, {"Client": {"Version": "28.2.2"}}))
            return err(unreachable_text("version"))
        if fmt and ".Server" not in fmt:
            return _print(render_template(fmt, {"Client": {"Version": "28.2.2"}}))
        return _print("Docker version 28.2.2, build e6534b4" if not fmt else
                      render_template(fmt, {"Client": {"Version": "28.2.2"}, "Server": {"Version": "28.2.2"}}))
    if cmd == "-v" or cmd == "--version":
        return _print("Docker version 28.2.2, build e6534b4")  # kind.md §2: provider detection reads this
    if cmd == "context":
        return _context(rest)  # the CLI's own files: no daemon is asked
    if state.read()["docker"]["daemon"] != "up":
        if cmd == "info":
            # docker-kubectl.md §2 (28.x client): the template is still rendered, over an empty Info.
            fmt = _opt(rest, "--format", "-f")
            if fmt:
                _print(render_template(fmt, {"ServerVersion": ""}))
        path = _API_PATHS.get(cmd, "containers/json")
        if cmd == "ps" and ("-a" in rest or "--all" in rest):
            path += "?all=1"
        return err(unreachable_text(path))
    handler = {
        "info": _info, "inspect": _inspect, "ps": _ps, "run": _run, "start": _start, "stop": _stop,
        "rm": _rm, "network": _network, "exec": _exec,
    }.get(cmd)
    if handler is None:
        return err(f"docker: unknown command: docker {cmd}\n\nRun 'docker --help' for more information")
    return handler(rest)


def _print(text: str) -> int:
    sys.stdout.write(text + ("\n" if text and not text.endswith("\n") else ""))
    return 0


def _operands(args: list[str], valued: tuple[str, ...]) -> list[str]:
    """The arguments that are not flags, skipping the values of the flags in ``valued`` (`stop -t 0 x`)."""
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a in valued:
            skip = True
        elif not a.startswith("-"):
            out.append(a)
    return out


def _opt(args: list[str], *names: str) -> str | None:
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                return args[i + 1]
            if a.startswith(n + "="):
                return a.split("=", 1)[1]
    return None


def _current_context() -> str:
    """docker/cli cli/command/cli.go resolveContextName: DOCKER_HOST, then DOCKER_CONTEXT, then the config's
    currentContext (here the state's "context"), else "default"."""
    if os.environ.get("DOCKER_HOST"):
        return "default"
    return os.environ.get("DOCKER_CONTEXT") or state.read()["docker"].get("context") or "default"


def _context(args: list[str]) -> int:
    """`docker context inspect` (the current context), as both real clients print it here (tests/docker/
    test_fake_parity.py runs both): a list of one object; a missing context: `[]`, the 28.2 text, exit 1."""
    if args[:1] != ["inspect"] or len(args) > 1:
        return err(f"docker: unknown context command {' '.join(args)}")
    name = _current_context()
    contexts = {"default": _host(), **state.read()["docker"].get("contexts", {})}
    if name not in contexts:
        _print("[]")
        meta = os.path.join(os.environ.get("DOCKER_CONFIG") or os.path.expanduser("~/.docker"), "contexts", "meta")
        return err(f'context "{name}": context not found: open {meta}/{hashlib.sha256(name.encode()).hexdigest()}'
                   "/meta.json: no such file or directory")
    host = _host() if name == "default" else contexts[name]
    return _print(json.dumps([{"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host,
                  "SkipTLSVerify": False}}, "TLSMaterial": {}, "Storage": {}}], indent=4))


def _info(args: list[str]) -> int:
    fmt = _opt(args, "--format", "-f")
    info = {"ServerVersion": "28.2.2", "OperatingSystem": "Fake Linux", "MemTotal": 8 * 1024**3, "NCPU": 2,
            "Name": "fakehost", "SecurityOptions": ["name=seccomp,profile=builtin"],
            **state.read()["docker"].get("info", {}), "ClientInfo": {"Context": _current_context()}}
    if fmt:
        return _print(render_template(fmt, info))
    return _print(json.dumps(info))


def _inspect(args: list[str]) -> int:
    fmt = _opt(args, "--format", "-f")
    names = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] not in
                                                                        ("--format", "-f", "--type"))]
    typed = _opt(args, "--type") == "container"
    containers = state.read()["docker"]["containers"]
    out, missing = [], []
    for n in names:
        c = containers.get(n)
        if c is None:
            missing.append(n)
        else:
            out.append(inspect_view(n, c))
    if fmt:
        for o in out:
            sys.stdout.write(render_template(fmt.lstrip("="), o) + "\n")
        if missing and not out:
            sys.stdout.write("\n")  # docker-kubectl.md §2: -f of a missing object prints an empty line
    else:
        sys.stdout.write(json.dumps(out, indent=4) + "\n")  # "[]" when nothing was found
    for n in missing:
        # docker-kubectl.md §2: with --type container the daemon's 404 is quoted; without, the CLI's own.
        sys.stderr.write(f"Error response from daemon: No such container: {n}\n" if typed else
                         f"Error: No such object: {n}\n")
    return 1 if missing else 0


def _ps(args: list[str]) -> int:
    show_all = "-a" in args or "--all" in args
    filters = [args[i + 1] for i, a in enumerate(args) if a == "--filter" and i + 1 < len(args)]
    fmt = _opt(args, "--format")
    rows = []
    # docker-kubectl.md §2: newest first (the state keeps containers in creation order).
    for name, c in reversed(list(state.read()["docker"]["containers"].items())):
        if not show_all and c["state"] != "running":
            continue
        ok = True
        for f in filters:
            key, _, val = f.partition("=")
            if key == "label":
                lk, _, lv = val.partition("=")
                labels = c.get("labels", {})
                ok = ok and lk in labels and (not lv or labels[lk] == lv)
            elif key == "name":
                ok = ok and val in name
        if ok:
            rows.append(ps_view(name, c))
    for r in rows:
        sys.stdout.write((render_template(fmt, r) if fmt else f"{r['ID']}   {r['Image']}   {r['Names']}") + "\n")
    return 0


def _run(args: list[str]) -> int:
    name, image, restart, networks = None, None, "no", ["bridge"]
    labels: dict[str, str] = {}
    publish: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        val = args[i + 1] if i + 1 < len(args) else ""
        if a in ("-d", "--detach", "--rm", "-i", "-t", "--privileged"):
            i += 1
            continue
        if a.startswith("--restart="):
            restart = a.split("=", 1)[1]
        elif a.startswith("--name="):
            name = a.split("=", 1)[1]
        elif a.startswith("--network="):
            networks = [a.split("=", 1)[1]]
        elif a.startswith("--publish=") or a.startswith("-p="):
            publish.append(a.split("=", 1)[1])
        elif a in ("--restart", "--name", "--network", "-p", "--publish", "--label", "-l", "-e", "--env", "-v"):
            if a == "--restart":
                restart = val
            elif a == "--name":
                name = val
            elif a == "--network":
                networks = [val]
            elif a in ("-p", "--publish"):
                publish.append(val)
            elif a in ("--label", "-l"):
                k, _, v = val.partition("=")
                labels[k] = v
            i += 2
            continue
        elif a.startswith("-"):
            pass
        else:
            image = a
            break
        i += 1
    if not image:
        return err('"docker run" requires at least 1 argument.', 125)
    with state.txn() as s:
        containers = s["docker"]["containers"]
        name = name or f"fake_{len(containers)}"
        if name in containers:
            # docker-kubectl.md §2: name conflict, exit 125, nothing created
            sys.stderr.write(
                f'docker: Error response from daemon: Conflict. The container name "/{name}" is already in use by '
                f'container "{containers[name]["id"]}". You have to remove (or rename) that container to be able to '
                f"reuse that name.{RUN_HELP}\n")
            return 125
        ports: dict[str, Any] = {}
        for p in publish:
            parts = p.split(":")
            addr, host, cport = [*parts, "", ""][:3] if len(parts) == 3 else ("", parts[0], parts[-1])
            # docker inspect keys port bindings as "<port>/<proto>" (tcp when not given).
            ports[cport if "/" in cport else f"{cport}/tcp"] = [{"HostIp": addr, "HostPort": host}]
        containers[name] = new_container(image, labels, networks, restart, ports)
        # docker-kubectl.md §2: the container is created (its id printed) before its ports are bound; when a
        # port is taken it stays behind, "created", and run exits 125.
        sys.stdout.write(containers[name]["id"] + "\n")
        conflict = port_conflict(containers, name)
        if conflict:
            containers[name]["state"] = "created"
            sys.stderr.write(f"docker: {conflict}{RUN_HELP}\n")
            return 125
    return 0


def _start(args: list[str]) -> int:
    names = [a for a in args if not a.startswith("-")]
    code = 0
    with state.txn() as s:
        for n in names:
            c = s["docker"]["containers"].get(n)
            if c is None:
                sys.stderr.write(f"Error response from daemon: No such container: {n}\n")
                code = 1
                continue
            conflict = port_conflict(s["docker"]["containers"], n) if c["state"] != "running" else None
            if conflict:
                sys.stderr.write(conflict + "\n")
                code = 1
                continue
            c["state"] = "running"
            sys.stdout.write(n + "\n")
    if code:
        sys.stderr.write("Error: failed to start containers: " + " ".join(names) + "\n")
    return code


def _stop(args: list[str]) -> int:
    names = _operands(args, ("-t", "--time", "-s", "--signal"))
    code = 0
    with state.txn() as s:
        for n in names:
            c = s["docker"]["containers"].get(n)
            if c is None:
                sys.stderr.write(f"Error response from daemon: No such container: {n}\n")  # docker-kubectl.md §2
                code = 1
                continue
            c["state"] = "exited"
            sys.stdout.write(n + "\n")
    return code


def _rm(args: list[str]) -> int:
    force = "-f" in args or "--force" in args
    names = [a for a in args if not a.startswith("-")]
    code = 0
    with state.txn() as s:
        for n in names:
            c = s["docker"]["containers"].get(n)
            if c is None:
                # docker-kubectl.md §2: with -f a missing container is no error (exit 0; a 20.10 engine still
                # prints this line, a 28.x one nothing).
                if not force:
                    sys.stderr.write(f"Error response from daemon: No such container: {n}\n")
                    code = 1
                continue
            if c["state"] == "running" and not force:
                # 28.x (a 20.10 engine: "You cannot remove a running container <id>. Stop the container
                # before attempting removal or force remove")
                sys.stderr.write(f"Error response from daemon: cannot remove container \"/{n}\": container is "
                                 "running: stop the container before removing or force remove\n")
                code = 1
                continue
            del s["docker"]["containers"][n]
            sys.stdout.write(n + "\n")
    return code


def _network(args: list[str]) -> int:
    if not args:
        return err("Usage:  docker network COMMAND")
    sub, rest = args[0], _operands(args[1:], ("--label", "--driver", "-d", "--subnet", "--gateway", "-o", "--opt"))
    with state.txn() as s:
        nets = s["docker"]["networks"]
        if sub == "create":
            # docker-kubectl.md §2 as tests/docker/test_fake_parity.py sees it: the new network's id on stdout;
            # a taken name is an error.
            if rest[0] in nets:
                return err(f"Error response from daemon: network with name {rest[0]} already exists")
            nets.append(rest[0])
            sys.stdout.write(f"{abs(hash((rest[0], time.time()))):064x}"[:64] + "\n")
            return 0
        if sub == "connect":
            net, cname = rest[0], rest[1]
            c = s["docker"]["containers"].get(cname)
            if net not in nets:
                return err(f"Error response from daemon: network {net} not found")
            if c is None:
                return err(f"Error response from daemon: No such container: {cname}")
            if net in c["networks"]:
                # kind.md §6 step 4: "connecting twice is an error, hence the check"
                return err(f"Error response from daemon: endpoint with name {cname} already exists in network {net}")
            c["networks"].append(net)
            return 0
        if sub == "ls":
            for n in nets:
                sys.stdout.write(n + "\n")
            return 0
        if sub == "inspect":
            # Seen with the 28.2 client (tests/docker/test_fake_parity.py): a missing network prints an empty line,
            # "Error response from daemon: network X not found", exit 1. Subnets: bridge is 172.17.0.0/16 and
            # each later network takes the next /16 (Docker's default pools), unless the state names one.
            fmt = _opt(args[1:], "--format", "-f")
            if rest[0] not in nets:
                _print("\n" if fmt else "[]")
                return err(f"Error response from daemon: network {rest[0]} not found")
            subnet = s["docker"].get("subnets", {}).get(rest[0]) or f"172.{17 + max(0, nets.index(rest[0]) - 2)}.0.0/16"
            config = [{"Subnet": subnet, "Gateway": subnet.rsplit(".", 2)[0] + ".0.1"}]
            view = {"Name": rest[0], "IPAM": {"Config": config}}
            return _print(render_template(fmt, view) if fmt else json.dumps([view], indent=4))
    return err(f"docker: unknown network command {sub}")


def _exec(args: list[str]) -> int:
    interactive = False
    while args and args[0].startswith("-"):
        interactive = interactive or args[0] in ("-i", "--interactive")
        args = args[1:]
    cname, cmd = args[0], args[1:]
    data = sys.stdin.read() if interactive else ""
    with state.txn() as s:
        c = s["docker"]["containers"].get(cname)
        if c is None:
            return err(f"Error response from daemon: No such container: {cname}")
        if c["state"] != "running":
            # moby daemon/errors.go errNotRunning, seen on 20.10 (docker-kubectl.md §2)
            return err(f"Error response from daemon: Container {c['id']} is not running")
        files = c.setdefault("files", {})
        if cmd[:2] == ["mkdir", "-p"]:
            for d in cmd[2:]:
                files.setdefault(d.rstrip("/") + "/", "")
            return 0
        if cmd[:2] == ["cp", "/dev/stdin"]:
            files[cmd[2]] = data
            return 0
        if cmd[:1] == ["cat"]:
            if cmd[1] not in files:
                return err(f"cat: {cmd[1]}: No such file or directory")
            sys.stdout.write(files[cmd[1]])
            return 0
    return err(f"OCI runtime exec failed: exec: \"{cmd[0]}\": executable file not found in $PATH", 126)
