"""docker: the daemon, the registry container, kind node containers. Facts in kind.md §4, §6 and
docker-kubectl.md §2 (texts and exit codes of the real engine).

Every call goes through ``_output``/``_run``: when docker cannot reach the daemon, the caller gets
``DockerDown`` or ``DockerAccessDenied`` (one line, with the fix for that case) instead of a
``CommandError``, wherever the call was made.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devctl.engine import products
from devctl.errors import CommandError, DevctlError
from devctl.host_checks import is_wsl
from devctl.runner import Result, Runner

# docker-kubectl.md §2, kind.md §2: the CLI's words when nothing answers on the daemon's socket
# ("error during connect" is the Windows client's wording for a closed named pipe).
DAEMON_DOWN_MARKERS = (
    "Cannot connect to the Docker daemon",
    "Is the docker daemon running",
    "error during connect",
)
# docker-kubectl.md §2: the socket exists but this user may not open it (not in the `docker` group).
ACCESS_DENIED_MARKER = "permission denied while trying to connect to the Docker daemon"
# The address in the daemon-down line: "Cannot connect to the Docker daemon at ADDRESS. Is the docker daemon …"
_DOWN_AT = re.compile(r"Cannot connect to the Docker daemon at (\S+?)\.? Is the docker daemon running")
# DOCKER_CONTEXT (or the config's current context) names a context that does not exist, seen with both
# clients here: 28.2 `context "X": context not found: open …meta.json: …`, 20.10 `unable to resolve docker
# endpoint: context "X" does not exist`.
_NO_CONTEXT = re.compile(r'context "(?P<name>[^"]+)"(?:: context not found| does not exist)')

# docker-kubectl.md §2, kind.md §3.1: a published host port that is taken. The text depends on who holds
# it: another container ("Bind for A:P failed: port is already allocated", moby's port allocator), a host
# process ("Error starting userland proxy: listen tcp4 A:P: bind: address already in use" on 20.10,
# "failed to bind host port for A:P:…: address already in use" on 28.x), or, on Docker Desktop, either
# behind "Ports are not available: exposing port TCP A:P -> …".
PORT_TAKEN_MARKERS = (
    "port is already allocated",
    "address already in use",
    "Ports are not available",
)
# docker-kubectl.md §2: `docker run --name X` when X exists (exit 125).
NAME_IN_USE_MARKER = "is already in use by container"
# docker-kubectl.md §2: `docker network connect` of a container already on that network.
ALREADY_CONNECTED_MARKER = "already exists in network"


class DockerUnavailable(DevctlError):
    """docker cannot talk to the daemon; the subclass says why and what to do."""


class DockerDown(DockerUnavailable):
    """Nothing answers at the daemon's address: the hint names the engine that address belongs to."""

    def __init__(self, detail: str, env: Mapping[str, str] | None = None) -> None:
        m = _DOWN_AT.search(detail)
        super().__init__(
            f"the Docker daemon is not reachable ({detail})",
            hint=down_hint(m.group(1) if m else "", os.environ if env is None else env),
        )


class DockerContextMissing(DockerUnavailable):
    def __init__(self, detail: str, name: str) -> None:
        super().__init__(
            f"the docker CLI is set to context {name!r}, which does not exist ({detail})",
            hint="pick an existing one: `docker context ls`, then `docker context use NAME` (or unset DOCKER_CONTEXT)",
        )


def down_hint(host: str, env: Mapping[str, str]) -> str:
    """Start the engine behind ``host`` (Colima, OrbStack, Docker Desktop, …), or point the CLI elsewhere."""
    context = env.get("DOCKER_CONTEXT", "")
    kind = products.from_socket(host, context) or (
        products.DOCKER_ENGINE if sys.platform.startswith("linux") else products.UNKNOWN
    )
    wsl = sys.platform.startswith("linux") and is_wsl()
    start = products.start_fix(kind, host=host, context=context, platform=sys.platform, wsl=wsl)
    source = products.context_source(env)
    return f"{start} and run the command again, {products.context_fix(context, source, host)}"


class DockerAccessDenied(DockerUnavailable):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"this user may not use the Docker daemon ({detail})",
            hint=access_hint(sys.platform),
        )


def access_hint(platform: str) -> str:
    if platform.startswith("linux"):
        # docs.docker.com/engine/install/linux-postinstall/: "The docker group grants root-level privileges
        # to the user"; docs.docker.com/engine/security/rootless/ is the way without them.
        return (
            "add yourself to the docker group (`sudo usermod -aG docker $USER`, then log in again; members of "
            "that group are root-equivalent on this machine), or use Docker in rootless mode"
        )
    return "make sure Docker Desktop runs for this user, or point DOCKER_HOST at a daemon socket you may use"


def unavailable(text: str) -> DockerUnavailable | None:
    """What docker's output says about reaching the daemon: DockerAccessDenied, DockerDown, or None when
    the daemon answered. The detail is docker's own line, not necessarily its last one: the 20.10 client
    follows it with a template error when ``--format`` was given (docker-kubectl.md §2)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in lines:
        if ACCESS_DENIED_MARKER in line:
            # "…socket at unix:///var/run/docker.sock: Get "http://…/v1.50/info": dial unix …": the part
            # naming the socket says it all.
            return DockerAccessDenied(line.split(": Get ", 1)[0])
    for line in lines:
        if any(m in line for m in DAEMON_DOWN_MARKERS):
            return DockerDown(line)
    for line in lines:
        missing = _NO_CONTEXT.search(line)
        if missing:
            return DockerContextMissing(line.split(": open ", 1)[0], missing.group("name"))
    return None


def classify(err: CommandError) -> DockerUnavailable | None:
    """``unavailable`` for a failed docker call."""
    return unavailable(err.stderr + "\n" + err.stdout)


# Where each of those texts names the host address and port (A:P): "Bind for A:P failed", "listen tcp4 A:P:
# bind", "failed to bind host port for A:P:<ip>:<port>", "exposing port TCP A:P ->".
_TAKEN_AT = re.compile(
    r"Bind for (?P<a1>[^\s]*):(?P<p1>\d+) failed"
    r"|failed to bind host port for (?P<a2>[^\s]*?):(?P<p2>\d+):"
    r"|exposing port TCP (?P<a3>[^\s]*):(?P<p3>\d+) ->"
    r"|listen tcp[46]? (?P<a4>[^\s]*):(?P<p4>\d+): bind: address already in use"
)


def is_port_taken(err: CommandError) -> bool:
    text = err.stderr + err.stdout
    return any(m in text for m in PORT_TAKEN_MARKERS)


def taken_port(text: str) -> int | None:
    """The host port a failed publish names, in any of the three families above; None when the text is
    not about a taken port (also for `kind create`, which quotes docker's error after `Command Output:`)."""
    if not any(m in text for m in PORT_TAKEN_MARKERS):
        return None
    m = _TAKEN_AT.search(text)
    if m is None:
        return None
    return int(next(v for k, v in m.groupdict().items() if k.startswith("p") and v))


def is_name_in_use(err: CommandError) -> bool:
    return NAME_IN_USE_MARKER in err.stderr + err.stdout


def is_already_connected(err: CommandError) -> bool:
    return ALREADY_CONNECTED_MARKER in err.stderr + err.stdout


@dataclass(frozen=True)
class DockerInfo:
    """The fields of `docker info` devctl reads. ``mem_total`` and ``ncpu`` are the engine's: on Docker
    Desktop, the VM's, not the host's."""

    server_version: str
    operating_system: str
    name: str
    mem_total: int  # bytes
    ncpu: int
    security_options: tuple[str, ...]  # e.g. "name=seccomp,profile=default", "name=rootless"
    product_license: str = ""  # Podman's Docker-compatible API says "Apache-2.0" (devctl.engine.products)
    context: str = ""  # ClientInfo.Context: the docker CLI's context (both the 20.10 and the 28.x client)
    http_proxy: str = ""  # the daemon's own proxy (HttpProxy, HttpsProxy, NoProxy): what its pulls go through
    https_proxy: str = ""
    no_proxy: str = ""

    @property
    def rootless(self) -> bool:
        # docs.docker.com/engine/security/rootless/ and podman compat/info.go: "name=rootless".
        return any(o.split(",")[0] == "name=rootless" for o in self.security_options)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DockerInfo:
        return cls(
            server_version=str(data.get("ServerVersion") or ""),
            operating_system=str(data.get("OperatingSystem") or ""),
            name=str(data.get("Name") or ""),
            mem_total=int(data.get("MemTotal") or 0),
            ncpu=int(data.get("NCPU") or 0),
            security_options=tuple(str(o) for o in data.get("SecurityOptions") or ()),
            product_license=str(data.get("ProductLicense") or ""),
            context=str((data.get("ClientInfo") or {}).get("Context") or ""),
            http_proxy=str(data.get("HttpProxy") or ""),
            https_proxy=str(data.get("HttpsProxy") or ""),
            no_proxy=str(data.get("NoProxy") or ""),
        )


class Docker:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    # -- calls -------------------------------------------------------------------------------------

    def _output(self, argv: list[str], *, timeout: float | None = None, ok_codes: Sequence[int] = (0,)) -> Result:
        try:
            return self.runner.output(argv, timeout=timeout, ok_codes=ok_codes)
        except CommandError as err:
            down = classify(err)
            if down is not None:
                raise down from None  # one line: docker's own words are the message
            raise

    def _run(self, argv: list[str], *, input: str | None = None) -> Result:
        try:
            return self.runner.run(argv, input=input)
        except CommandError as err:
            down = classify(err)
            if down is not None:
                raise down from None
            raise

    # -- reads -------------------------------------------------------------------------------------

    def client_version(self) -> str:
        # The client prints its version even when the daemon is down (then exit 1): it is read either way.
        return self.runner.output(
            ["docker", "version", "--format", "{{.Client.Version}}"], ok_codes=range(256)
        ).stdout.strip()

    def info(self, timeout: float = 20.0) -> DockerInfo:
        """The daemon's `docker info`; raises DockerDown or DockerAccessDenied when it does not answer.

        A 28.x client then exits 1 with the reason on stderr; a 20.10 client exits 0 and puts the reason
        in ``ServerErrors`` of the JSON (docker-kubectl.md §2). Both are read here.
        """
        res = self._output(["docker", "info", "--format", "{{json .}}"], timeout=timeout)
        try:
            data = json.loads(res.stdout)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise DevctlError(f"`docker info` printed something that is not a JSON object: {res.stdout[:200]!r}")
        errors = [str(e) for e in data.get("ServerErrors") or ()]
        if errors:
            raise unavailable("\n".join(errors)) or DevctlError(f"the Docker daemon reported: {'; '.join(errors)}")
        return DockerInfo.from_json(data)

    def server_version(self, timeout: float = 20.0) -> str:
        """The daemon's version; raises DockerDown or DockerAccessDenied when it does not answer."""
        return self.info(timeout).server_version

    def context_inspect(self) -> dict[str, Any]:
        """The docker CLI's current context (``docker context inspect``, no name): its ``Name`` and
        ``Endpoints.docker.Host``. The CLI resolves it as it does for every call (DOCKER_HOST: the "default"
        context with that host; DOCKER_CONTEXT; the config's currentContext) and asks no daemon. A context
        that does not exist: ``[]`` and exit 1 (DockerContextMissing)."""
        res = self._output(["docker", "context", "inspect"])
        data = json.loads(res.stdout or "[]")
        if not (isinstance(data, list) and data and isinstance(data[0], dict)):
            raise DevctlError(f"`docker context inspect` printed no context: {res.stdout[:200]!r}")
        return dict(data[0])

    def network_subnets(self, network: str) -> list[str] | None:
        """The IPAM subnets of a network, or None when it does not exist (28.x: "Error response from daemon:
        network X not found"; 20.10 client: "Error: No such network: X"; exit 1, both seen here)."""
        res = self._output(
            ["docker", "network", "inspect", network, "--format", "{{json .IPAM.Config}}"], ok_codes=(0, 1)
        )
        if res.exit_code != 0:
            if "not found" in res.stderr or "No such network" in res.stderr:
                return None
            err = CommandError(res.argv, res.exit_code, res.stdout, res.stderr)
            raise classify(err) or err
        configs = json.loads(res.stdout or "null") or []
        return [str(c["Subnet"]) for c in configs if isinstance(c, dict) and c.get("Subnet")]

    def inspect(self, name: str) -> dict[str, Any] | None:
        """``docker inspect`` of one container, or None when it does not exist (docker-kubectl.md §2:
        ``[]`` and "No such container", exit 1)."""
        res = self._output(["docker", "inspect", "--type", "container", name], ok_codes=(0, 1))
        if res.exit_code != 0:
            if "No such" in res.stderr or "no such" in res.stderr:
                return None
            err = CommandError(res.argv, res.exit_code, res.stdout, res.stderr)
            raise classify(err) or err
        data = json.loads(res.stdout or "[]")
        return data[0] if data else None

    def containers(self, label: str) -> list[tuple[str, str]]:
        """(name, state) of all containers, stopped ones too, carrying ``label`` (kind.md §4 probe)."""
        out = self._output(
            ["docker", "ps", "-a", "--filter", f"label={label}", "--format", "{{.Names}}\t{{.State}}"]
        ).stdout
        rows = []
        for line in out.splitlines():
            if "\t" in line:
                name, state = line.split("\t", 1)
                rows.append((name.strip(), state.strip()))
        return rows

    # -- changes -----------------------------------------------------------------------------------

    def run_detached(self, args: Sequence[str]) -> Result:
        return self._run(["docker", "run", "-d", *args])

    def start(self, names: Sequence[str]) -> Result:
        return self._run(["docker", "start", *names])

    def remove(self, name: str) -> Result:
        # Exit 0 also when the container is already gone (docker-kubectl.md §2).
        return self._run(["docker", "rm", "-f", name])

    def network_connect(self, network: str, container: str) -> Result:
        return self._run(["docker", "network", "connect", network, container])

    def exec(self, container: str, argv: Sequence[str], *, input: str | None = None) -> Result:
        flags = ["-i"] if input is not None else []
        return self._run(["docker", "exec", *flags, container, *argv], input=input)
