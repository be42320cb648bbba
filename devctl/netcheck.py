"""Does a route of this machine (a VPN's, usually) overlap the `kind` Docker network? Then the node's traffic
to those addresses leaves through the VPN, silently (kind docs/user/known-issues.md, "Local Subnet Clashes").

The subnet is the `kind` network's when it exists (``docker network inspect``), else the pools Docker gives new
networks by default (moby libnetwork/ipamutils: 172.17.0.0/16 to 172.31.0.0/16, then 192.168.0.0/16 in /20s;
the kind network takes the first free one). The routes are the kernel's IPv4 table: on Linux
``/proc/net/route`` (the main table ``ip route`` prints, read without starting a process), on macOS
``netstat -rn -f inet``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from devctl.check import Check

Network = ipaddress.IPv4Network
DEFAULT_POOLS = tuple(ipaddress.IPv4Network(f"172.{n}.0.0/16") for n in range(17, 32))
# Interfaces of Docker's own networks on a Linux host: their routes are the networks themselves.
_DOCKER_IFACES = re.compile(r"docker0|br-[0-9a-f]{12}|veth.*")
# A subnet to suggest, far from the 172.16/12 and 192.168/16 ranges VPNs and Docker use (kind's known issues
# suggests a 10.253.0.0/16 pool); the first of these no route overlaps.
CANDIDATES = tuple(ipaddress.IPv4Network(f"10.{n}.0.0/24") for n in (253, 254, 252, 251))


@dataclass(frozen=True)
class Route:
    network: Network
    iface: str


def linux_routes(text: str) -> list[Route]:
    """``/proc/net/route``: Iface, Destination, Gateway, Flags, …, Mask; addresses in host byte order hex."""
    out = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 8:
            continue
        try:
            dest = socket.inet_ntoa(struct.pack("<I", int(parts[1], 16)))
            mask = socket.inet_ntoa(struct.pack("<I", int(parts[7], 16)))
            out.append(Route(ipaddress.IPv4Network(f"{dest}/{mask}", strict=False), parts[0]))
        except (ValueError, struct.error, OSError):
            continue
    return out


def _mac_destination(dest: str) -> Network | None:
    """netstat(1) on macOS abbreviates: ``10.8/16`` is 10.8.0.0/16, ``192.168.1`` (no mask) is its /24,
    ``default`` is 0.0.0.0/0, a host ``10.8.0.1`` is /32; link-local entries (``…%utun3``) have a zone."""
    if dest == "default":
        return ipaddress.IPv4Network("0.0.0.0/0")
    dest = dest.split("%", 1)[0]
    addr, _, bits = dest.partition("/")
    octets = addr.split(".")
    if not 1 <= len(octets) <= 4 or not all(o.isdigit() for o in octets):
        return None
    prefix = int(bits) if bits.isdigit() else 8 * len(octets)
    try:
        return ipaddress.IPv4Network(".".join(octets + ["0"] * (4 - len(octets))) + f"/{prefix}", strict=False)
    except ValueError:
        return None


def mac_routes(text: str) -> list[Route]:
    """``netstat -rn -f inet``: after the header ``Destination Gateway Flags Netif Expire``, one route per
    line (the interface is the fourth column)."""
    out = []
    started = False
    for line in text.splitlines():
        parts = line.split()
        if parts[:2] == ["Destination", "Gateway"]:
            started = True
            continue
        if not started or len(parts) < 4:
            continue
        net = _mac_destination(parts[0])
        if net is not None:
            out.append(Route(net, parts[3]))
    return out


def overlaps(routes: Iterable[Route], subnets: Iterable[Network]) -> list[tuple[Route, Network]]:
    """Routes that overlap one of ``subnets``: not a default route (/0, or the /1 halves a full-tunnel VPN
    installs, which longer prefixes beat), not Docker's own bridges (a Linux engine routes each network through
    its bridge)."""
    found = []
    for r in routes:
        if r.network.prefixlen <= 1 or _DOCKER_IFACES.fullmatch(r.iface):
            continue
        for s in subnets:
            if r.network.overlaps(s):
                found.append((r, s))
    return found


def suggestion(routes: Iterable[Route]) -> Network:
    nets = [r.network for r in routes if r.network.prefixlen > 1]
    return next((c for c in CANDIDATES if not any(c.overlaps(n) for n in nets)), CANDIDATES[0])


def check(subnets: list[str] | None, routes: list[Route] | None, network: str = "kind") -> tuple[Check, dict[str, Any]]:
    """The doctor line and its JSON; ``subnets`` None: the network does not exist yet (default pools)."""
    if routes is None:
        return Check("network", "info", "this machine's routes could not be read"), {"checked": False}
    if subnets is None:
        nets: list[Network] = list(DEFAULT_POOLS)
        what = f"the `{network}` network does not exist yet; Docker's default pools (172.17.0.0/16-172.31.0.0/16)"
    else:
        nets = [n for n in (ipaddress.ip_network(s, strict=False) for s in subnets) if isinstance(n, Network)]
        what = f"the `{network}` network ({', '.join(str(n) for n in nets) or 'no IPv4 subnet'})"
    clashes = overlaps(routes, nets)
    facts: dict[str, Any] = {
        "checked": True,
        "kind_network": None if subnets is None else [str(n) for n in nets],
        "overlapping_routes": [{"route": str(r.network), "interface": r.iface, "subnet": str(s)} for r, s in clashes],
    }
    if not clashes and subnets is None:
        return Check("network", "ok", f"{what}: no route of this machine overlaps them"), facts
    if not clashes:
        return Check("network", "ok", f"{what}: no route of this machine overlaps it"), facts
    named = ", ".join(sorted({f"{r.network} via {r.iface}" for r, _ in clashes}))
    free = suggestion(routes)
    create = f"`docker network create {network} --subnet {free}`"
    fix = (
        f"create the `{network}` network on another subnet before the cluster: {create}"
        if subnets is None
        else f"`devctl down`, `docker network rm {network}`, then {create} and `devctl up` (kind uses the "
        "network it finds)"
    )
    detail = f"{what}: route(s) {named} overlap, so the node's traffic to those addresses may leave through a VPN"
    return Check("network", "warn", detail, fix), facts
