"""The Docker engines developers run, told apart by what the docker CLI shows of them, with each one's fixes.

Pure: strings in, strings out. How each engine shows itself:

- ``docker info``: ddev's provider detection (ddev/ddev pkg/dockerutil/providers.go) reads the same fields:
  Docker Desktop ``OperatingSystem`` "Docker Desktop…" or ``Name`` "docker-desktop"; Rancher Desktop
  ``OperatingSystem`` "Rancher Desktop…" or a ``Name`` with "rancher-desktop" (lima-rancher-desktop); Colima
  a ``Name`` starting "colima" (the VM's hostname is the profile's id, colima environment/vm/lima/yaml.go);
  OrbStack ``OperatingSystem`` "OrbStack…" or a ``Name`` with "orbstack". Podman's Docker-compatible API
  answers ``ProductLicense`` "Apache-2.0", the distribution as ``OperatingSystem`` and the host name as
  ``Name`` (containers/podman pkg/api/handlers/compat/info.go).
- The socket (``DOCKER_HOST``, or the context's endpoint): Colima ``~/.colima/<profile>/docker.sock`` in
  context ``colima`` or ``colima-<profile>`` (colima environment/container/docker/context.go, config/
  profile.go); OrbStack ``~/.orbstack/run/docker.sock`` (orbstack/orbstack#1155); Rancher Desktop
  ``~/.rd/docker.sock`` (docs.rancherdesktop.io, Using Testcontainers); Docker Desktop
  ``~/.docker/run/docker.sock`` on macOS (apocas/docker-modem#164) in context ``desktop-linux``
  (docker/desktop-feedback#99); Podman ``…/podman/podman.sock`` or a machine's ``…podman….sock`` (the
  address ``podman machine start`` prints).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DOCKER_DESKTOP = "docker-desktop"
DOCKER_ENGINE = "docker-engine"
COLIMA = "colima"
ORBSTACK = "orbstack"
RANCHER = "rancher-desktop"
PODMAN = "podman"
UNKNOWN = "unknown"  # nothing answered and the socket says nothing

NAMES = {
    DOCKER_DESKTOP: "Docker Desktop",
    DOCKER_ENGINE: "Docker Engine",
    COLIMA: "Colima",
    ORBSTACK: "OrbStack",
    RANCHER: "Rancher Desktop (dockerd)",
    PODMAN: "Podman",
    UNKNOWN: "Docker",
}
# Engines that run the containers in a VM of their own: its memory and CPUs, not the laptop's, are what count.
IN_A_VM = (DOCKER_DESKTOP, COLIMA, ORBSTACK, RANCHER, PODMAN)

# podman compat/info.go: the Docker-compatible API's fixed ProductLicense.
PODMAN_LICENSE = "Apache-2.0"
# colima config/profile.go: the default profile's context is "colima", others "colima-<profile>".
_COLIMA_CONTEXT = re.compile(r"colima(?:-(?P<profile>.+))?")


def from_info(operating_system: str, name: str, product_license: str) -> str | None:
    """The engine ``docker info`` names, or None when it looks like any dockerd (ddev's order)."""
    if operating_system.startswith("Docker Desktop") or "docker-desktop" in name:
        return DOCKER_DESKTOP
    if operating_system.startswith("Rancher Desktop") or "rancher-desktop" in name:
        return RANCHER
    if name.startswith("colima"):
        return COLIMA
    if operating_system.startswith("OrbStack") or "orbstack" in name:
        return ORBSTACK
    if product_license == PODMAN_LICENSE:
        return PODMAN
    return None


def from_socket(host: str, context: str = "") -> str | None:
    """The engine a daemon address (or the context's name) belongs to, or None when it could be any."""
    path = host.lower()
    if "podman" in path:
        return PODMAN
    if "/.colima/" in path or "/colima/" in path or _COLIMA_CONTEXT.fullmatch(context):
        return COLIMA
    if "/.orbstack/" in path or context == "orbstack":
        return ORBSTACK
    if "/.rd/" in path or context == "rancher-desktop":
        return RANCHER
    if "/.docker/run/" in path or "/.docker/desktop/" in path or context.startswith("desktop-"):
        return DOCKER_DESKTOP
    return None


def classify(host: str, context: str, platform: str, info: tuple[str, str, str] | None = None) -> str:
    """``docker info``'s word first (``info`` = OperatingSystem, Name, ProductLicense), then the socket's; on
    Linux a plain dockerd is Docker Engine, elsewhere an unnamed engine stays unknown."""
    found = from_info(*info) if info is not None else None
    found = found or from_socket(host, context)
    if found:
        return found
    if info is not None or platform.startswith("linux"):
        return DOCKER_ENGINE
    return UNKNOWN


def colima_profile(context: str) -> str:
    m = _COLIMA_CONTEXT.fullmatch(context)
    return (m.group("profile") or "") if m else ""


# --- fixes --------------------------------------------------------------------------------------------


def start_fix(kind: str, *, host: str = "", context: str = "", platform: str = "linux", wsl: bool = False) -> str:
    """How to start this engine."""
    if kind == COLIMA:
        profile = colima_profile(context)
        return f"start Colima: `colima start{f' --profile {profile}' if profile else ''} --memory 6`"
    if kind == ORBSTACK:
        return "start OrbStack: `orb start`"
    if kind == RANCHER:
        return "start Rancher Desktop (or `rdctl start`), with the moby (dockerd) container engine"
    if kind == PODMAN:
        if platform.startswith("linux") and not wsl:
            return "start Podman's API socket: `systemctl --user start podman.socket`"
        return "start the Podman machine: `podman machine start`"
    if wsl:
        return (
            "start Docker Desktop on Windows and turn on its WSL integration for this distribution "
            "(Settings > Resources > WSL integration)"
        )
    if kind == DOCKER_DESKTOP or not platform.startswith("linux"):
        return "start Docker Desktop (open the app) and wait until it says it is running"
    if re.search(r"/run/user/\d+/docker\.sock", host):  # docs.docker.com/engine/security/rootless/
        return "start your rootless Docker: `systemctl --user start docker`"
    return "start Docker: `sudo systemctl start docker`"


# How the docker CLI picks its daemon (docker/cli cli/command/cli.go, resolveContextName): --context, -H,
# then DOCKER_HOST, then DOCKER_CONTEXT, then the config file's currentContext, else "default".
FROM_DOCKER_HOST = "DOCKER_HOST"
FROM_DOCKER_CONTEXT = "DOCKER_CONTEXT"
FROM_CURRENT_CONTEXT = "current context"


def context_source(env: Mapping[str, str]) -> str:
    if env.get("DOCKER_HOST"):
        return FROM_DOCKER_HOST
    if env.get("DOCKER_CONTEXT"):
        return FROM_DOCKER_CONTEXT
    return FROM_CURRENT_CONTEXT


def context_fix(context: str, source: str, host: str) -> str:
    """How to point the docker CLI at another engine, naming what it uses now."""
    if source == FROM_DOCKER_HOST:
        return f"or unset DOCKER_HOST (it points at {host}) to use the docker context instead"
    if source == FROM_DOCKER_CONTEXT:
        return f"or unset DOCKER_CONTEXT (it selects context {context!r}); `docker context ls` lists the others"
    named = f"from context {context!r} " if context else ""
    return f"or switch {named}to a running engine: `docker context ls`, then `docker context use NAME`"


def memory_fix(kind: str, gib: int, context: str = "") -> str:
    """How to give this engine at least ``gib`` GiB."""
    if kind == DOCKER_DESKTOP:
        return f"give Docker Desktop at least {gib} GiB: Settings > Resources > Advanced > Memory limit, then Apply"
    if kind == COLIMA:
        profile = colima_profile(context)
        flag = f" --profile {profile}" if profile else ""
        return f"restart Colima with more memory: `colima stop{flag} && colima start{flag} --memory {gib}`"
    if kind == ORBSTACK:
        return f"raise OrbStack's memory limit to at least {gib} GiB: Settings > System > Memory limit"
    if kind == RANCHER:
        return f"give Rancher Desktop's VM at least {gib} GiB: Preferences > Virtual Machine > Memory"
    if kind == PODMAN:
        return (
            f"give the Podman machine at least {gib} GiB: `podman machine stop && podman machine set --memory "
            f"{gib * 1024} && podman machine start`"
        )
    if kind == UNKNOWN:
        return f"give the Docker engine's VM at least {gib} GiB in its settings"
    return f"this machine has less than {gib} GiB for Docker: close other programs, or use a machine with more memory"


def cpu_fix(kind: str, cpus: int, context: str = "") -> str:
    if kind == DOCKER_DESKTOP:
        return f"give Docker Desktop at least {cpus} CPUs: Settings > Resources > Advanced > CPU limit"
    if kind == COLIMA:
        profile = colima_profile(context)
        flag = f" --profile {profile}" if profile else ""
        return f"restart Colima with more CPUs: `colima stop{flag} && colima start{flag} --cpu {cpus}`"
    if kind == ORBSTACK:
        return f"raise OrbStack's CPU limit to at least {cpus}: Settings > System > CPU limit"
    if kind == RANCHER:
        return f"give Rancher Desktop's VM at least {cpus} CPUs: Preferences > Virtual Machine > CPUs"
    if kind == PODMAN:
        return f"`podman machine stop && podman machine set --cpus {cpus} && podman machine start`"
    return f"use a machine with at least {cpus} CPUs"


# kind's quick start ("KIND_EXPERIMENTAL_PROVIDER=podman", podman runs rootless by default) and rootless
# page; kind drives Podman with its own provider, while devctl drives the registry and the nodes through docker.
PODMAN_UNSUPPORTED = (
    "Podman is not supported by devctl: kind needs KIND_EXPERIMENTAL_PROVIDER=podman and a rootful machine "
    "(`podman machine set --rootful`), and devctl runs the registry and reads the nodes through the docker CLI"
)
PODMAN_FIX = "use Docker Desktop, Colima, OrbStack or Rancher Desktop (dockerd), and point the docker CLI at it"
