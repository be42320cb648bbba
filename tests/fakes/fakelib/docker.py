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

from fakelib import flags, state

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


def engine() -> str:
    """Which engine the fake plays: "28" (the default), "20.10" or "desktop" (Docker Desktop), for the texts
    that differ between them (tests/docker/README.md "Fake-only: texts that differ by version")."""
    return str(state.read()["docker"].get("engine") or "28")


def port_conflict(containers: dict[str, Any], name: str, flavour: str = "28") -> str | None:
    """Why starting ``name`` fails on a published port, in the engine's words; None when it can start.

    docker-kubectl.md §2 and kind.md §3.1: the text depends on who holds the port. Another container's
    port fails in moby's port allocator ("Bind for A:P failed: port is already allocated"); a host
    process's port fails when the engine binds it: "failed to bind host port for A:P:<container ip>:<port>/tcp:
    address already in use" on 28.x, "Error starting userland proxy: listen tcp4 A:P: bind: address already
    in use" on 20.10 (seen on this machine's engine, tests/docker/test_ports.py); Docker Desktop's port
    forwarder says "Ports are not available: exposing port TCP A:P -> 0.0.0.0:0: listen tcp A:P: bind: address
    already in use" (kind#3681). 28.x puts "failed to set up container networking: " before the driver's text."""
    c = containers[name]
    taken = {(a, p) for n, o in containers.items() if n != name and o["state"] == "running"
             for a, p, _ in _bindings(o.get("ports", {}))}
    for addr, port, cport in _bindings(c.get("ports", {})):
        if (addr, port) in taken or ("0.0.0.0", port) in taken:
            why = f"Bind for {addr}:{port} failed: port is already allocated"
        elif not port_in_use(addr, int(port)):
            continue
        elif flavour == "desktop":
            return (f"Error response from daemon: Ports are not available: exposing port TCP {addr}:{port} -> "
                    f"0.0.0.0:0: listen tcp {addr}:{port}: bind: address already in use")
        elif flavour == "20.10":
            why = f"Error starting userland proxy: listen tcp4 {addr}:{port}: bind: address already in use"
        else:
            why = f"failed to bind host port for {addr}:{port}:172.17.0.2:{cport}: address already in use"
        prefix = "" if flavour == "20.10" else "failed to set up container networking: "
        return (f"Error response from daemon: {prefix}driver failed programming external connectivity on endpoint "
                f"{name} ({c['id']}): {why}")
    return None


def not_running_text(c: dict[str, Any]) -> str:
    """`docker exec` into a stopped container (moby daemon/errors.go errNotRunning, seen on 20.10)."""
    return f"Error response from daemon: Container {c['id']} is not running"


# The flags of each command the fake answers, as the Docker 28.2.2 client's `docker <command> --help` lists
# them (all of them: a flag outside these is one the real client refuses too). Docker 28's cli
# (cli/cobra.go FlagErrorFunc) refuses an unknown flag with the error, the usage line and a pointer to
# --help, exit 125; an unknown command exits 1.
COMMANDS: dict[str, tuple[flags.Spec, str]] = {
    "run": (flags.spec(
        "--add-host= -a,--attach= --blkio-weight= --blkio-weight-device= --cap-add= --cap-drop= --cgroup-parent= "
        "--cgroupns= --cidfile= --cpu-period= --cpu-quota= --cpu-rt-period= --cpu-rt-runtime= -c,--cpu-shares= "
        "--cpus= --cpuset-cpus= --cpuset-mems= -d,--detach --detach-keys= --device= --device-cgroup-rule= "
        "--device-read-bps= --device-read-iops= --device-write-bps= --device-write-iops= --disable-content-trust "
        "--dns= --dns-option= --dns-search= --domainname= --entrypoint= -e,--env= --env-file= --expose= --gpus= "
        "--group-add= --health-cmd= --health-interval= --health-retries= --health-start-period= --health-timeout= "
        "--help -h,--hostname= --init -i,--interactive --ip= --ip6= --ipc= --isolation= --kernel-memory= "
        "-l,--label= --label-file= --link= --link-local-ip= --log-driver= --log-opt= --mac-address= -m,--memory= "
        "--memory-reservation= --memory-swap= --memory-swappiness= --mount= --name= --network= --network-alias= "
        "--no-healthcheck --oom-kill-disable --oom-score-adj= --pid= --pids-limit= --platform= --privileged "
        "-p,--publish= -P,--publish-all --pull= -q,--quiet --read-only --restart= --rm --runtime= --security-opt= "
        "--shm-size= --sig-proxy --stop-signal= --stop-timeout= --storage-opt= --sysctl= --tmpfs= -t,--tty "
        "--ulimit= --use-api-socket -u,--user= --userns= --uts= -v,--volume= --volume-driver= --volumes-from= "
        "-w,--workdir="), "docker run [OPTIONS] IMAGE [COMMAND] [ARG...]"),
    "ps": (flags.spec("-a,--all -f,--filter= --format= -n,--last= -l,--latest --no-trunc -q,--quiet -s,--size"),
           "docker ps [OPTIONS]"),
    "inspect": (flags.spec("-f,--format= -s,--size --type="), "docker inspect [OPTIONS] NAME|ID [NAME|ID...]"),
    "rm": (flags.spec("-f,--force -l,--link -v,--volumes"), "docker rm [OPTIONS] CONTAINER [CONTAINER...]"),
    "start": (flags.spec("-a,--attach --detach-keys= -i,--interactive"),
              "docker start [OPTIONS] CONTAINER [CONTAINER...]"),
    # --time: the old name of --timeout, hidden but still accepted (cli/command/container/stop.go).
    "stop": (flags.spec("-s,--signal= -t,--timeout= --time="), "docker stop [OPTIONS] CONTAINER [CONTAINER...]"),
    "exec": (flags.spec("-d,--detach --detach-keys= -e,--env= --env-file= -i,--interactive --privileged -t,--tty "
                        "-u,--user= -w,--workdir="), "docker exec [OPTIONS] CONTAINER COMMAND [ARG...]"),
    "info": (flags.spec("-f,--format="), "docker info [OPTIONS]"),
    "version": (flags.spec("-f,--format="), "docker version [OPTIONS]"),
}
NETWORK: dict[str, tuple[flags.Spec, str]] = {
    "connect": (flags.spec("--alias= --driver-opt= --gw-priority= --ip= --ip6= --link= --link-local-ip="),
                "docker network connect [OPTIONS] NETWORK CONTAINER"),
    "create": (flags.spec("--attachable --aux-address= --config-from= --config-only -d,--driver= --gateway= "
                          "--ingress --internal --ip-range= --ipam-driver= --ipam-opt= --ipv4 --ipv6 --label= "
                          "-o,--opt= --scope= --subnet="), "docker network create [OPTIONS] NETWORK"),
    "ls": (flags.spec("-f,--filter= --format= --no-trunc -q,--quiet"), "docker network ls [OPTIONS]"),
    "inspect": (flags.spec("-f,--format= -v,--verbose"), "docker network inspect [OPTIONS] NETWORK [NETWORK...]"),
}
# `run` and `exec` take the flags before the image/container only (the command's own flags follow).
_NOT_INTERSPERSED = {"run", "exec"}


def _usage_error(err: flags.FlagError, usage: str, path: str) -> int:
    # As the 28.2.2 client prints it (`docker run --bogus`, run on this machine).
    sys.stderr.write(f"{err}\n\nUsage:  {usage}\n\nRun '{path} --help' for more information\n")
    return 125


def _parse(path: str, table: dict[str, tuple[flags.Spec, str]], cmd: str, args: list[str]) -> flags.Parsed | int:
    spec, usage = table[cmd]
    try:
        return flags.parse(args, spec, interspersed=cmd not in _NOT_INTERSPERSED)
    except flags.FlagError as e:
        return _usage_error(e, usage, f"{path} {cmd}")


def main(argv: list[str]) -> int:
    if not argv:
        return err("Usage:  docker [OPTIONS] COMMAND")
    cmd, rest = argv[0], argv[1:]
    if cmd in ("-v", "--version"):
        return _print("Docker version 28.2.2, build e6534b4")  # kind.md §2: provider detection reads this
    if cmd == "context":
        return _context(rest)  # the CLI's own files: no daemon is asked
    if cmd != "network" and cmd not in COMMANDS:
        # 28.2.2 client, run on this machine: `docker bogus`.
        return err(f"docker: unknown command: docker {cmd}\n\nRun 'docker --help' for more information")
    if cmd == "network":
        return _network(rest)
    parsed = _parse("docker", COMMANDS, cmd, rest)
    if isinstance(parsed, int):
        return parsed
    if cmd == "version":
        return _version(parsed)
    if state.read()["docker"]["daemon"] != "up":
        return _unreachable(cmd, parsed)
    handler = {"info": _info, "inspect": _inspect, "ps": _ps, "run": _run, "start": _start, "stop": _stop,
               "rm": _rm, "exec": _exec}[cmd]
    return handler(parsed)


def _version(a: flags.Parsed) -> int:
    # docker-kubectl.md §2: the client prints its own part even without a daemon, then the daemon's error, exit 1.
    fmt = a.get("format")
    client = {"Client": {"Version": "28.2.2"}}
    if state.read()["docker"]["daemon"] != "up":
        if fmt and ".Server" not in fmt:
            _print(render_template(fmt, client))
        return err(unreachable_text("version"))
    if fmt and ".Server" not in fmt:
        return _print(render_template(fmt, client))
    return _print("Docker version 28.2.2, build e6534b4" if not fmt else
                  render_template(fmt, {**client, "Server": {"Version": "28.2.2"}}))


def _unreachable(cmd: str, a: flags.Parsed) -> int:
    if cmd == "info" and a.get("format"):
        # docker-kubectl.md §2 (28.x client): the template is still rendered, over an empty Info.
        _print(render_template(a.get("format") or "", {"ServerVersion": ""}))
    path = _API_PATHS.get(cmd, "containers/json")
    if cmd == "ps" and a.flag("all"):
        path += "?all=1"
    return err(unreachable_text(path))


def _too_few(cmd: str, n: int) -> int:
    # 28.2.2 client, run on this machine (`docker run`, `docker exec`): exit 1.
    return err(f"docker: 'docker {cmd}' requires at least {n} argument{'s' if n > 1 else ''}\n\n"
               f"Usage:  {COMMANDS[cmd][1]}\n\nSee 'docker {cmd} --help' for more information")


def _print(text: str) -> int:
    sys.stdout.write(text + ("\n" if text and not text.endswith("\n") else ""))
    return 0


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


def _info(a: flags.Parsed) -> int:
    info = {"ServerVersion": "28.2.2", "OperatingSystem": "Fake Linux", "MemTotal": 8 * 1024**3, "NCPU": 2,
            "Name": "fakehost", "CgroupVersion": "2",
            "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
            **state.read()["docker"].get("info", {}), "ClientInfo": {"Context": _current_context()}}
    fmt = a.get("format")
    if fmt:
        return _print(render_template(fmt, info))
    return _print(json.dumps(info))


def _inspect(a: flags.Parsed) -> int:
    fmt = a.get("format")
    typed = a.get("type") == "container"
    containers = state.read()["docker"]["containers"]
    out, missing = [], []
    for n in a.args:
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


def _ps(a: flags.Parsed) -> int:
    rows = []
    # docker-kubectl.md §2: newest first (the state keeps containers in creation order).
    for name, c in reversed(list(state.read()["docker"]["containers"].items())):
        if not a.flag("all") and c["state"] != "running":
            continue
        ok = True
        for f in a.all("filter"):
            key, _, val = f.partition("=")
            if key == "label":
                lk, _, lv = val.partition("=")
                labels = c.get("labels", {})
                ok = ok and lk in labels and (not lv or labels[lk] == lv)
            elif key == "name":
                ok = ok and val in name
        if ok:
            rows.append(ps_view(name, c))
    fmt = a.get("format")
    for r in rows:
        sys.stdout.write((render_template(fmt, r) if fmt else f"{r['ID']}   {r['Image']}   {r['Names']}") + "\n")
    return 0


def _run(a: flags.Parsed) -> int:
    if not a.args:
        return _too_few("run", 1)
    image = a.args[0]
    labels = dict(lbl.partition("=")[::2] for lbl in a.all("label"))
    networks = [a.get("network") or "bridge"]
    with state.txn() as s:
        containers = s["docker"]["containers"]
        name = a.get("name") or f"fake_{len(containers)}"
        if name in containers:
            # docker-kubectl.md §2: name conflict, exit 125, nothing created
            sys.stderr.write(
                f'docker: Error response from daemon: Conflict. The container name "/{name}" is already in use by '
                f'container "{containers[name]["id"]}". You have to remove (or rename) that container to be able to '
                f"reuse that name.{RUN_HELP}\n")
            return 125
        ports: dict[str, Any] = {}
        for p in a.all("publish"):
            parts = p.split(":")
            addr, host, cport = [*parts, "", ""][:3] if len(parts) == 3 else ("", parts[0], parts[-1])
            # docker inspect keys port bindings as "<port>/<proto>" (tcp when not given).
            ports[cport if "/" in cport else f"{cport}/tcp"] = [{"HostIp": addr, "HostPort": host}]
        containers[name] = new_container(image, labels, networks, a.get("restart") or "no", ports)
        # docker-kubectl.md §2: the container is created (its id printed) before its ports are bound; when a
        # port is taken it stays behind, "created", and run exits 125.
        sys.stdout.write(containers[name]["id"] + "\n")
        conflict = port_conflict(containers, name, str(s["docker"].get("engine") or "28"))
        if conflict:
            containers[name]["state"] = "created"
            sys.stderr.write(f"docker: {conflict}{RUN_HELP}\n")
            return 125
    return 0


def _start(a: flags.Parsed) -> int:
    code = 0
    with state.txn() as s:
        for n in a.args:
            c = s["docker"]["containers"].get(n)
            if c is None:
                sys.stderr.write(f"Error response from daemon: No such container: {n}\n")
                code = 1
                continue
            flavour = str(s["docker"].get("engine") or "28")
            conflict = port_conflict(s["docker"]["containers"], n, flavour) if c["state"] != "running" else None
            if conflict:
                sys.stderr.write(conflict + "\n")
                code = 1
                continue
            c["state"] = "running"
            sys.stdout.write(n + "\n")
    if code:
        sys.stderr.write("Error: failed to start containers: " + " ".join(a.args) + "\n")
    return code


def _stop(a: flags.Parsed) -> int:
    code = 0
    with state.txn() as s:
        for n in a.args:
            c = s["docker"]["containers"].get(n)
            if c is None:
                sys.stderr.write(f"Error response from daemon: No such container: {n}\n")  # docker-kubectl.md §2
                code = 1
                continue
            c["state"] = "exited"
            sys.stdout.write(n + "\n")
    return code


def _rm(a: flags.Parsed) -> int:
    code = 0
    with state.txn() as s:
        for n in a.args:
            c = s["docker"]["containers"].get(n)
            if c is None:
                # docker-kubectl.md §2: with -f a missing container is no error (exit 0; a 20.10 engine still
                # prints this line, a 28.x one nothing).
                if not a.flag("force") or s["docker"].get("engine") == "20.10":
                    sys.stderr.write(f"Error response from daemon: No such container: {n}\n")
                code = code if a.flag("force") else 1
                continue
            if c["state"] == "running" and not a.flag("force"):
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
    sub = args[0] if args else ""
    if sub not in NETWORK:
        # 28.2.2 client, run on this machine: `docker network bogus` (exit 1).
        return err(f"docker: unknown command: docker network {sub}\n\nUsage:  docker network\n\n"
                   "Run 'docker network --help' for more information")
    a = _parse("docker network", NETWORK, sub, args[1:])
    if isinstance(a, int):
        return a
    if state.read()["docker"]["daemon"] != "up":
        return err(unreachable_text("networks"))
    rest = a.args
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
        if sub == "inspect":
            # Seen with the 28.2 client (tests/docker/test_fake_parity.py): a missing network prints an empty line,
            # "Error response from daemon: network X not found", exit 1. Subnets: bridge is 172.17.0.0/16 and
            # each later network takes the next /16 (Docker's default pools), unless the state names one.
            fmt = a.get("format")
            if rest[0] not in nets:
                _print("\n" if fmt else "[]")
                return err(f"Error response from daemon: network {rest[0]} not found")
            subnet = s["docker"].get("subnets", {}).get(rest[0]) or f"172.{17 + max(0, nets.index(rest[0]) - 2)}.0.0/16"
            config = [{"Subnet": subnet, "Gateway": subnet.rsplit(".", 2)[0] + ".0.1"}]
            view = {"Name": rest[0], "IPAM": {"Config": config}}
            return _print(render_template(fmt, view) if fmt else json.dumps([view], indent=4))
        for n in nets:
            sys.stdout.write(n + "\n")
        return 0


def _exec(a: flags.Parsed) -> int:
    if len(a.args) < 2:
        return _too_few("exec", 2)
    cname, cmd = a.args[0], a.args[1:]
    data = sys.stdin.read() if a.flag("interactive") else ""
    with state.txn() as s:
        c = s["docker"]["containers"].get(cname)
        if c is None:
            return err(f"Error response from daemon: No such container: {cname}")
        if c["state"] != "running":
            return err(not_running_text(c))
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
