"""Is a host port free, and if not, who holds it? (kind.md §8: busy 80/443 makes kind create fail.)

Binding a real socket is the only honest test. The owner lookup reads /proc (Linux only; elsewhere
the owner is simply not named), so no process is started.
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PortState:
    port: int
    address: str
    free: bool | None  # None: could not tell (e.g. a privileged port without root)
    owner: str | None = None  # "nginx (pid 1234)" when found
    detail: str = ""


def probe(port: int, address: str = "127.0.0.1") -> PortState:
    fam = socket.AF_INET6 if ":" in address else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        # No SO_REUSEADDR on purpose: a TIME_WAIT leftover is fine, a listener is not; on Linux bind without
        # it fails only for listeners or active connections on that exact port.
        s.bind((address, port))
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            return PortState(port, address, False, owner_of(port), "address already in use")
        if err.errno in (errno.EACCES, errno.EPERM):
            return PortState(port, address, None, None, "privileged port: cannot test without root")
        return PortState(port, address, None, None, err.strerror or str(err))
    finally:
        s.close()
    return PortState(port, address, True)


def _listen_inodes(port: int, proc: Path) -> set[str]:
    inodes: set[str] = set()
    for table in ("net/tcp", "net/tcp6"):
        try:
            lines = (proc / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) < 10:
                continue
            local, st, inode = parts[1], parts[3], parts[9]
            if st == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A = TCP_LISTEN
                inodes.add(inode)
    return inodes


def owner_of(port: int, proc: Path = Path("/proc")) -> str | None:
    """The process listening on ``port`` as "name (pid N)", when /proc lets us see it."""
    inodes = _listen_inodes(port, proc)
    if not inodes:
        return None
    targets = {f"socket:[{i}]" for i in inodes}
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        fd_dir = proc / pid / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd_dir / fd) in targets:
                    name = (proc / pid / "comm").read_text().strip()
                    return f"{name} (pid {pid})"
            except OSError:
                continue
    return None
