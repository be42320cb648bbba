"""devctl's marked block in a hosts file, as pure functions from the file's bytes to new bytes.

devctl owns exactly one block per cluster and nothing else (hosts-file.md §6). Everything here
works on bytes: lines are split on ``\\n`` only and every line outside the block is carried over
as the very bytes it was (CRLF, a stray ``\\r``, tabs, non-UTF-8 comments, scoped IPv6, lines no
parser understands). A plan whose ``new`` equals ``old`` means "nothing to write".

Layout of the block (hostctl's idea of named, marked blocks, hosts-file.md §4)::

    # BEGIN devctl cluster=tour (managed by `devctl hosts`; do not edit)
    127.0.0.1\ttour.xyz
    # END devctl cluster=tour

When the file did not end with a newline, devctl must add one before its block; the END marker
then says so, so ``remove`` can take that newline away again and give back the file byte for byte.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Literal

from python_hosts import Hosts, HostsEntry
from python_hosts.exception import HostsEntryException, HostsException
from python_hosts.utils import valid_hostnames

from devctl.errors import DevctlError

BEGIN_TEXT = "# BEGIN devctl cluster={cluster} (managed by `devctl hosts`; do not edit)"
END_TEXT = "# END devctl cluster={cluster}"
# Appended to the END marker when devctl added the file's missing final newline before BEGIN.
ADDED_NEWLINE_NOTE = "(devctl added the line break before BEGIN)"

_BEGIN_RE = re.compile(rb"^# BEGIN devctl cluster=(\S+)(?:\s.*)?$")
_END_RE = re.compile(rb"^# END devctl cluster=(\S+)(?:\s+(.*))?$")

Action = Literal["add", "update", "remove", "none"]


class HostsConflict(DevctlError):
    """A line devctl does not own maps the host to another address; devctl changes nothing."""


class DamagedBlock(DevctlError):
    """devctl's markers are unbalanced (edited by hand); devctl will not guess what to cut."""


@dataclass(frozen=True)
class Entry:
    """A line of the file that names the host."""

    lineno: int  # 1-based, as an editor shows it
    text: str  # the line without its line ending, undecodable bytes shown as \\xNN
    address: str
    in_block: bool  # inside devctl's own block for this cluster
    block_cluster: str | None = None  # the cluster whose devctl block holds the line (this one or another)

    @property
    def owner(self) -> str:
        """Who wrote the line, as messages name it."""
        if self.in_block:
            return "devctl's block"
        if self.block_cluster is not None:
            return f"devctl's block for cluster {self.block_cluster}"
        return "a line devctl did not write"


@dataclass(frozen=True)
class BlockPlan:
    action: Action
    old: bytes
    new: bytes
    reason: str
    entries: tuple[Entry, ...] = ()  # every line naming the host, in file order (before the change)

    @property
    def changed(self) -> bool:
        return self.new != self.old


@dataclass(frozen=True)
class Block:
    start: int  # index of the BEGIN line
    end: int  # index of the END line
    added_newline: bool


@dataclass(frozen=True)
class Parsed:
    lines: list[bytes]  # each with its own line ending (the last may have none)
    newline: bytes
    block: Block | None
    entries: tuple[Entry, ...]


# --- parsing ----------------------------------------------------------------------------------------


def split_lines(data: bytes) -> list[bytes]:
    """Lines with their endings. Only ``\\n`` ends a line (``str.splitlines`` also splits on \\x0c...)."""
    parts = data.split(b"\n")
    lines = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _content(line: bytes) -> bytes:
    body = line[:-1] if line.endswith(b"\n") else line
    return body[:-1] if body.endswith(b"\r") else body


def _ending(line: bytes) -> bytes:
    return line[len(_content(line)) :]


def detect_newline(data: bytes, default: bytes = b"\n") -> bytes:
    """The file's convention, taken from its first line ending (Windows' file uses CRLF, hosts-file.md §1)."""
    i = data.find(b"\n")
    if i < 0:
        return default
    return b"\r\n" if i > 0 and data[i - 1 : i] == b"\r" else b"\n"


def _show(content: bytes) -> str:
    return content.decode("utf-8", "backslashreplace")


# What python-hosts raises for a line or entry it refuses.
_HOSTS_ERRORS = (HostsException, HostsEntryException, ValueError, UnicodeError)


def _strict_entry(text: str) -> HostsEntry | None:
    """python-hosts' reading of a line: an entry, or None for a comment, a blank or a line it refuses."""
    try:
        entry = HostsEntry.str_to_hostentry(text)
    except _HOSTS_ERRORS:
        return None
    return entry or None


def _lenient_entry(text: str) -> tuple[str, list[str]] | None:
    """(address, names) of a line python-hosts rejects but the resolver may still use.

    python-hosts refuses a scoped IPv6 address (``fe80::1%lo0``, hosts-file.md §5 pitfall 2) or a
    line with one odd name next to ours (``10.0.0.5 tour.xyz my_box``); overlooking such a line
    would let it shadow our block, so it is read as address, then names up to ``#``.
    """
    fields = text.split("#", 1)[0].split()
    if len(fields) < 2:
        return None
    try:
        ipaddress.ip_address(fields[0])
    except ValueError:
        return None
    return fields[0], [n.lower() for n in fields[1:]]


def _find_block(lines: list[bytes], cluster: str, path_hint: str) -> Block | None:
    begins: list[int] = []
    ends: list[tuple[int, bytes]] = []
    for i, line in enumerate(lines):
        content = _content(line).rstrip()
        m = _BEGIN_RE.match(content)
        if m and m.group(1).decode("utf-8", "replace") == cluster:
            begins.append(i)
            continue
        m = _END_RE.match(content)
        if m and m.group(1).decode("utf-8", "replace") == cluster:
            ends.append((i, m.group(2) or b""))
    if not begins and not ends:
        return None
    if len(begins) == 1 and len(ends) == 1 and begins[0] < ends[0][0]:
        note = ends[0][1].decode("utf-8", "replace").strip()
        return Block(begins[0], ends[0][0], note == ADDED_NEWLINE_NOTE)
    where = ", ".join(f"BEGIN at line {i + 1}" for i in begins) or "no BEGIN line"
    where += "; " + (", ".join(f"END at line {i + 1}" for i, _ in ends) or "no END line")
    raise DamagedBlock(
        f"devctl's block for cluster {cluster!r} in {path_hint} is damaged ({where})",
        hint="fix or delete those marker lines by hand (devctl keeps a backup next to the file), then retry",
    )


def parse(data: bytes, host: str, cluster: str, *, path_hint: str = "the hosts file") -> Parsed:
    host = host.lower()  # python-hosts stores names lower-cased; the resolver ignores case
    lines = split_lines(data)
    block = _find_block(lines, cluster, path_hint)
    strict: dict[int, HostsEntry] = {}
    named: dict[int, str] = {}
    for i, line in enumerate(lines):
        text = _content(line).decode("utf-8", "surrogateescape")
        entry = _strict_entry(text)
        if entry is not None:
            strict[i] = entry
            continue
        loose = _lenient_entry(text)
        if loose is not None and host in loose[1]:
            named[i] = loose[0]
    if strict:
        # python-hosts' own matcher (its IDNA step folds look-alike names into the host) over the entries
        # of our parse; path=devnull: with no entries it would read a file, silently on failure (§5 pitfall 4).
        found = {id(e) for e in Hosts(path=os.devnull, entries=list(strict.values())).find_all_matching(name=host)}
        named.update({i: str(e.address) for i, e in strict.items() if id(e) in found})
    owners = _block_owners(lines)
    entries = tuple(
        Entry(
            i + 1,
            _show(_content(lines[i])),
            named[i],
            block is not None and block.start < i < block.end,
            owners.get(i),
        )
        for i in sorted(named)
    )
    return Parsed(lines, detect_newline(data), block, entries)


def _origin(e: Entry) -> str:
    return "not devctl's line" if e.block_cluster is None else f"in devctl's block for cluster {e.block_cluster}"


def _block_owners(lines: list[bytes]) -> dict[int, str]:
    """Line index -> the cluster whose well-formed devctl block holds it (any cluster's)."""
    owners: dict[int, str] = {}
    open_cluster: str | None = None
    inside: list[int] = []
    for i, line in enumerate(lines):
        content = _content(line).rstrip()
        begin, end = _BEGIN_RE.match(content), _END_RE.match(content)
        if begin:
            open_cluster, inside = begin.group(1).decode("utf-8", "replace"), []
        elif end and open_cluster is not None and open_cluster == end.group(1).decode("utf-8", "replace"):
            owners.update(dict.fromkeys(inside, open_cluster))
            open_cluster = None
        elif open_cluster is not None:
            inside.append(i)
    return owners


def same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


# --- the block --------------------------------------------------------------------------------------


def entry_line(host: str, ip: str) -> str:
    """Our entry, validated by python-hosts and laid out the way its writer does (address, tab, names)."""
    try:
        if not valid_hostnames([host]):
            raise ValueError(f"{host!r} is not a valid host name")
        entry = HostsEntry("ipv6" if ":" in ip else "ipv4", address=ip, names=[host])
    except _HOSTS_ERRORS as err:
        raise DevctlError(f"cannot write a hosts entry for {host!r} -> {ip!r}: {err!r}") from err
    return f"{entry.address}\t{' '.join(entry.names)}"


def render_block(
    host: str,
    ip: str,
    cluster: str,
    newline: bytes,
    *,
    added_newline: bool = False,
    final_ending: bytes | None = None,
) -> bytes:
    end = END_TEXT.format(cluster=cluster) + (" " + ADDED_NEWLINE_NOTE if added_newline else "")
    lines = [BEGIN_TEXT.format(cluster=cluster), entry_line(host, ip), end]
    body = newline.join(line.encode("utf-8") for line in lines)
    return body + (newline if final_ending is None else final_ending)


# --- plans ------------------------------------------------------------------------------------------


def plan_add(
    data: bytes,
    host: str,
    ip: str,
    cluster: str,
    *,
    default_newline: bytes = b"\n",
    path_hint: str = "the hosts file",
) -> BlockPlan:
    """What the file must become so that it maps host to ip. Raises HostsConflict or DamagedBlock."""
    doc = parse(data, host, cluster, path_hint=path_hint)
    outside = [e for e in doc.entries if not e.in_block]
    conflicts = [e for e in outside if not same_address(e.address, ip)]
    if conflicts:
        first = conflicts[0]
        others = "".join(f"; also line {e.lineno}: {e.text!r}" for e in conflicts[1:])
        # hosts-file.md §3: the first matching line wins (multi off), so adding ours would not help.
        if first.block_cluster is not None:
            fix = (
                f"remove that block with `devctl --cluster {first.block_cluster} hosts remove --hosts-file "
                f"{path_hint}`, then retry"
            )
        else:
            fix = f"that line is not devctl's: edit or delete it (or use --ip {first.address}), then retry"
        whose = f" (in devctl's block for cluster {first.block_cluster})" if first.block_cluster else ""
        raise HostsConflict(
            f"{path_hint} line {first.lineno}{whose} maps {host} to {first.address}, not {ip}: "
            f"{first.text!r}{others}; nothing was changed",
            hint=fix,
        )
    if outside:
        return BlockPlan(
            "none",
            data,
            data,
            f"line {outside[0].lineno} already maps {host} to {ip} ({_origin(outside[0])}; left as is)",
            doc.entries,
        )
    if doc.block is None:
        added = bool(data) and not data.endswith(b"\n")
        nl = detect_newline(data, default_newline)
        new = data + (nl if added else b"") + render_block(host, ip, cluster, nl, added_newline=added)
        return BlockPlan("add", data, new, f"add {host} -> {ip} in devctl's block", doc.entries)
    blk = doc.block
    begin, end = doc.lines[blk.start], doc.lines[blk.end]
    wanted = render_block(
        host,
        ip,
        cluster,
        _ending(begin) or doc.newline,
        added_newline=blk.added_newline,
        final_ending=_ending(end),
    )
    current = b"".join(doc.lines[blk.start : blk.end + 1])
    if current == wanted:
        return BlockPlan("none", data, data, f"devctl's block already maps {host} to {ip}", doc.entries)
    new = b"".join(doc.lines[: blk.start]) + wanted + b"".join(doc.lines[blk.end + 1 :])
    return BlockPlan("update", data, new, f"rewrite devctl's block to map {host} -> {ip}", doc.entries)


def plan_remove(data: bytes, host: str, cluster: str, *, path_hint: str = "the hosts file") -> BlockPlan:
    """The file without devctl's block (and without the newline devctl added before it, if it did)."""
    doc = parse(data, host, cluster, path_hint=path_hint)
    blk = doc.block
    if blk is None:
        return BlockPlan("none", data, data, f"no devctl block for cluster {cluster!r}", doc.entries)
    before = b"".join(doc.lines[: blk.start])
    after = b"".join(doc.lines[blk.end + 1 :])
    nl = _ending(doc.lines[blk.start]) or doc.newline
    # Only at the end of the file: if the user appended lines after the block, the line break
    # now separates their lines from the original last line and must stay.
    if blk.added_newline and not after and before.endswith(nl):
        before = before[: -len(nl)]
    return BlockPlan("remove", data, before + after, f"remove devctl's block for cluster {cluster!r}", doc.entries)


def judge(
    data: bytes, host: str, ip: str, cluster: str, *, path_hint: str = "the hosts file"
) -> tuple[str, str, Parsed]:
    """("ok" | "missing" | "elsewhere", an explanation, the parse) for how the file maps host.

    ok means some line maps host to ip and no line maps it anywhere else (with glibc's ``multi on``
    every matching line is returned, hosts-file.md §3, so one stray line is enough to go wrong).
    """
    doc = parse(data, host, cluster, path_hint=path_hint)
    wrong = [e for e in doc.entries if not same_address(e.address, ip)]
    right = [e for e in doc.entries if same_address(e.address, ip)]
    if wrong:
        e = wrong[0]
        return "elsewhere", f"line {e.lineno} ({e.owner}) maps {host} to {e.address}, not {ip}: {e.text!r}", doc
    if not right:
        return "missing", f"no line maps {host}", doc
    e = right[0]
    return "ok", f"line {e.lineno} ({e.owner}) maps {host} to {ip}", doc
