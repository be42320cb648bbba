"""Recorded shapes of what each engine shows the docker CLI: the ``docker info`` fields devctl reads and the
``docker context inspect`` element, one per engine, each with where its values come from.

Only fields the real outputs have are written; values not needed by a test are left out, as a recording of
``docker info --format '{{json .}}'`` cut to those keys. Sizes are the engines' documented or reported
defaults where a source gives them, else a plain example value (marked "example").
"""

from __future__ import annotations

from typing import Any

GIB = 2**30

# This machine (tests/docker/test_engines.py reads the real one): Debian 12's docker.io 20.10.24, rootful,
# `docker info --format '{{json .}}'` and `docker context inspect` as printed here.
DOCKER_ENGINE_DEBIAN: dict[str, Any] = {
    "ServerVersion": "20.10.24+dfsg1",
    "OperatingSystem": "Debian GNU/Linux 12 (bookworm)",
    "Name": "vm",
    "MemTotal": 25276194816,
    "NCPU": 2,
    "SecurityOptions": ["name=seccomp,profile=default"],
    "ClientInfo": {"Context": "default"},
}
DEFAULT_CONTEXT = {"Name": "default", "Metadata": {}, "Endpoints": {"docker": {"Host": "unix:///var/run/docker.sock"}}}

# Docker Desktop: OperatingSystem "Docker Desktop", Name "docker-desktop" (ddev pkg/dockerutil/providers.go
# IsDockerDesktop); context "desktop-linux" (docker/desktop-feedback#99, `docker version`: "Context:
# desktop-linux"); socket ~/.docker/run/docker.sock (apocas/docker-modem#164). 4 GiB: example.
DOCKER_DESKTOP: dict[str, Any] = {
    "ServerVersion": "29.2.0",  # docker/desktop-feedback#99 (Docker Desktop 4.60.1)
    "OperatingSystem": "Docker Desktop",
    "Name": "docker-desktop",
    "MemTotal": 4 * GIB,
    "NCPU": 4,
    "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
    "ClientInfo": {"Context": "desktop-linux"},
}
DESKTOP_CONTEXT = {
    "Name": "desktop-linux",
    "Metadata": {"Description": "Docker Desktop"},
    "Endpoints": {"docker": {"Host": "unix:///Users/dev/.docker/run/docker.sock"}},
}

# Colima: Name "colima" (its VM's hostname is the profile id, colima environment/vm/lima/yaml.go; ddev
# IsColima); OperatingSystem Ubuntu (colima's VM image); 2 CPUs and 2 GiB by default (colima's config
# template, abiosoft/colima#1483: "Default: 2"); context and socket as ddev/ddev-contrib#185 recorded
# `docker context inspect` and colima environment/container/docker/context.go creates them.
COLIMA: dict[str, Any] = {
    "ServerVersion": "24.0.9",  # abiosoft/colima#1158 (colima 0.7.0: "server: v24.0.9")
    "OperatingSystem": "Ubuntu 24.04 LTS",
    "Name": "colima",
    "MemTotal": 2 * GIB - 150 * 2**20,  # a 2 GiB VM reports a little less (the kernel keeps some)
    "NCPU": 2,
    "SecurityOptions": ["name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns"],
    "ClientInfo": {"Context": "colima"},
}
COLIMA_CONTEXT = {
    "Name": "colima",
    "Metadata": {"Description": "colima"},
    "Endpoints": {"docker": {"Host": "unix:///Users/dev/.colima/default/docker.sock", "SkipTLSVerify": False}},
}
COLIMA_WORK_CONTEXT = {  # a second profile: `colima start --profile work` (config/profile.go: "colima-" + name)
    "Name": "colima-work",
    "Metadata": {"Description": "colima [profile=work]"},
    "Endpoints": {"docker": {"Host": "unix:///Users/dev/.colima/work/docker.sock"}},
}

# OrbStack: OperatingSystem "OrbStack", Name "orbstack" (ddev IsOrbStack); socket ~/.orbstack/run/docker.sock
# (orbstack/orbstack#1155); context "orbstack". 8 GiB, 8 CPUs: example.
ORBSTACK: dict[str, Any] = {
    "ServerVersion": "28.5.1",
    "OperatingSystem": "OrbStack",
    "Name": "orbstack",
    "MemTotal": 8 * GIB,
    "NCPU": 8,
    "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
    "ClientInfo": {"Context": "orbstack"},
}
ORBSTACK_CONTEXT = {
    "Name": "orbstack",
    "Metadata": {"Description": "OrbStack"},
    "Endpoints": {"docker": {"Host": "unix:///Users/dev/.orbstack/run/docker.sock"}},
}

# Rancher Desktop with moby: Name "lima-rancher-desktop" (ddev providers.go: "Rancher Desktop uses
# lima-rancher-desktop as its name"); socket ~/.rd/docker.sock (docs.rancherdesktop.io, Using Testcontainers);
# context "rancher-desktop" (the context users create for it, gist lindeskar/0faec818). 6 GiB: example.
RANCHER: dict[str, Any] = {
    "ServerVersion": "27.3.1",
    "OperatingSystem": "Alpine Linux v3.20",
    "Name": "lima-rancher-desktop",
    "MemTotal": 6 * GIB,
    "NCPU": 4,
    "SecurityOptions": ["name=seccomp,profile=builtin"],
    "ClientInfo": {"Context": "rancher-desktop"},
}
RANCHER_CONTEXT = {
    "Name": "rancher-desktop",
    "Metadata": {"Description": "Rancher Desktop"},
    "Endpoints": {"docker": {"Host": "unix:///Users/dev/.rd/docker.sock"}},
}

# Podman's Docker-compatible API (containers/podman pkg/api/handlers/compat/info.go): ProductLicense
# "Apache-2.0", OperatingSystem the distribution ("fedora", freedomofpress/dangerzone#1075 `podman info`),
# Name the host name, SecurityOptions with "name=rootless" when rootless. Reached through DOCKER_HOST at the
# machine's socket (the `export DOCKER_HOST=…podman.sock` `podman machine start` prints).
PODMAN: dict[str, Any] = {
    "ServerVersion": "5.3.1",
    "OperatingSystem": "fedora",
    "Name": "localhost.localdomain",
    "MemTotal": 2 * GIB,
    "NCPU": 2,
    "ProductLicense": "Apache-2.0",
    "SecurityOptions": ["name=seccomp,profile=default", "name=rootless"],
    "ClientInfo": {"Context": "default"},
}
PODMAN_HOST = "unix:///Users/dev/.local/share/containers/podman/machine/podman.sock"

# Rootless Docker Engine on Linux: "rootless" among the security options (abiosoft/colima#1458 quotes
# `docker info` of one; docs.docker.com/engine/security/rootless/), socket /run/user/<uid>/docker.sock.
ROOTLESS_ENGINE: dict[str, Any] = {
    "ServerVersion": "28.3.3",
    "OperatingSystem": "Ubuntu 24.04.2 LTS",
    "Name": "laptop",
    "MemTotal": 16 * GIB,
    "NCPU": 8,
    "SecurityOptions": ["name=seccomp,profile=builtin", "name=rootless", "name=cgroupns"],
    "ClientInfo": {"Context": "rootless"},
}
ROOTLESS_CONTEXT = {
    "Name": "rootless",
    "Metadata": {"Description": "Rootless mode"},
    "Endpoints": {"docker": {"Host": "unix:///run/user/1000/docker.sock"}},
}
