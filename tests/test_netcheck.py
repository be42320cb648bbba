"""devctl.netcheck: routes read as the kernel and netstat print them, and which ones overlap the kind network."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from devctl import netcheck
from devctl.netcheck import Route

HEADER = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"


def net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


def test_proc_net_route_is_read_in_host_byte_order() -> None:
    text = HEADER + (
        "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"  # default via 192.168.2.1
        "eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"  # 192.168.2.0/24
        "wg0\t0000080A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"  # 10.8.0.0/16
    )
    assert netcheck.linux_routes(text) == [
        Route(net("0.0.0.0/0"), "eth0"),
        Route(net("192.168.2.0/24"), "eth0"),
        Route(net("10.8.0.0/16"), "wg0"),
    ]


def test_this_machines_own_table_reads() -> None:
    path = Path("/proc/net/route")
    if not path.exists():
        pytest.skip("no /proc/net/route: not Linux")
    routes = netcheck.linux_routes(path.read_text())
    assert all(isinstance(r.network, ipaddress.IPv4Network) for r in routes)


# netstat(1) on macOS, `netstat -rn -f inet`: the layout of its "Internet:" table, with the abbreviated
# destinations macOS prints (written for this test from that format, not captured on a Mac).
MAC = """\
Routing tables

Internet:
Destination        Gateway            Flags               Netif Expire
default            192.168.1.1        UGScg                 en0
10.8/16            10.8.0.1           UGSc                utun4
10.8.0.1           10.8.0.1           UH                  utun4
127                127.0.0.1          UCS                   lo0
127.0.0.1          127.0.0.1          UH                    lo0
169.254            link#11            UCS                   en0      !
172.16/12          10.8.0.1           UGSc                utun4
192.168.1          link#11            UCS                   en0      !
192.168.1.1/32     link#11            UCS                   en0      !
224.0.0/4          link#11            UmCS                  en0      !
"""


def test_macos_netstat_abbreviations_are_expanded() -> None:
    routes = {str(r.network): r.iface for r in netcheck.mac_routes(MAC)}
    assert routes["0.0.0.0/0"] == "en0"
    assert routes["10.8.0.0/16"] == "utun4"
    assert routes["10.8.0.1/32"] == "utun4"
    assert routes["127.0.0.0/8"] == "lo0"
    assert routes["169.254.0.0/16"] == "en0"
    assert routes["172.16.0.0/12"] == "utun4"
    assert routes["192.168.1.0/24"] == "en0"
    assert routes["224.0.0.0/4"] == "en0"


@pytest.mark.parametrize(
    ("route", "iface", "clash"),
    [
        ("172.18.5.0/24", "tun0", True),  # a VPN route inside the kind network
        ("172.16.0.0/12", "utun4", True),  # a VPN route around it
        ("10.8.0.0/16", "wg0", False),  # elsewhere
        ("0.0.0.0/0", "eth0", False),  # the default route overlaps everything and loses to longer prefixes
        ("0.0.0.0/1", "tun0", False),  # a full-tunnel VPN's halves, likewise
        ("172.18.0.0/16", "br-0123456789ab", False),  # Docker's own bridge for the network
        ("172.17.0.0/16", "docker0", False),
        ("172.18.0.0/16", "tun0", True),  # the same range on a VPN's interface
    ],
)
def test_which_routes_overlap_the_kind_network(route: str, iface: str, clash: bool) -> None:
    found = netcheck.overlaps([Route(net(route), iface)], [net("172.18.0.0/16")])
    assert bool(found) is clash


def test_the_suggested_subnet_is_one_no_route_touches() -> None:
    assert netcheck.suggestion([Route(net("10.0.0.0/8"), "tun0")]) == net("10.253.0.0/24")  # nothing free: the first
    assert netcheck.suggestion([Route(net("10.253.0.0/16"), "tun0")]) == net("10.254.0.0/24")
    assert netcheck.suggestion([]) == net("10.253.0.0/24")


def test_without_a_kind_network_the_default_pools_are_checked() -> None:
    check, facts = netcheck.check(None, [Route(net("172.20.0.0/16"), "utun4")])
    assert check.status == "warn"
    assert check.hint == (
        "create the `kind` network on another subnet before the cluster: "
        "`docker network create kind --subnet 10.253.0.0/24`"
    )
    assert facts["overlapping_routes"] == [{"route": "172.20.0.0/16", "interface": "utun4", "subnet": "172.20.0.0/16"}]


def test_unknown_routes_are_said_so() -> None:
    check, facts = netcheck.check(["172.18.0.0/16"], None)
    assert (check.status, facts) == ("info", {"checked": False})
