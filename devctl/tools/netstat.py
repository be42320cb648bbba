"""netstat (macOS): the IPv4 routing table, for the VPN overlap check (devctl.netcheck). On Linux the same
table is read from /proc/net/route, without a process."""

from __future__ import annotations

from devctl.runner import Runner


class Netstat:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def routes(self) -> str:
        # netstat(1): -r routing tables, -n numeric addresses, -f inet the IPv4 family only.
        return self.runner.output(["netstat", "-rn", "-f", "inet"], timeout=10.0).stdout
