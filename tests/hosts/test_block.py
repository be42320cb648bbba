"""devctl.hosts.block: pure plans from a hosts file's bytes to new bytes; nothing outside the block changes."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devctl.errors import DevctlError
from devctl.hosts.block import (
    DamagedBlock,
    HostsConflict,
    detect_newline,
    entry_line,
    judge,
    parse,
    plan_add,
    plan_remove,
    render_block,
    split_lines,
)

HOST, IP, CLUSTER = "tour.xyz", "127.0.0.1", "tour"
REPO = Path(__file__).resolve().parents[2]

MACOS = (
    b"##\n# Host Database\n#\n# localhost is used to configure the loopback interface\n"
    b"# when the system is booting.  Do not change this entry.\n##\n"
    b"127.0.0.1\tlocalhost\n255.255.255.255\tbroadcasthost\n::1             localhost\nfe80::1%lo0\tlocalhost\n"
)
WINDOWS = (
    b"# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n"
    b"# localhost name resolution is handled within DNS itself.\r\n"
    b"#\t127.0.0.1       localhost\r\n#\t::1             localhost\r\n"
    b"# Added by Docker Desktop\r\n192.168.1.20 host.docker.internal\r\n# End of section"
)


def block(ip: str = IP, nl: bytes = b"\n", cluster: str = CLUSTER, added: bool = False) -> bytes:
    end = b" (devctl added the line break before BEGIN)" if added else b""
    return (
        f"# BEGIN devctl cluster={cluster} (managed by `devctl hosts`; do not edit)".encode() + nl
        + f"{ip}\t{HOST}".encode() + nl
        + f"# END devctl cluster={cluster}".encode() + end + nl
    )  # fmt: skip


# --- layout -------------------------------------------------------------------------------------------


def test_add_appends_the_block_after_a_file_that_ends_with_a_newline() -> None:
    plan = plan_add(MACOS, HOST, IP, CLUSTER)
    assert (plan.action, plan.changed) == ("add", True)
    assert plan.new == MACOS + block()


def test_add_to_a_crlf_file_without_final_newline_uses_crlf_and_marks_the_added_line_break() -> None:
    plan = plan_add(WINDOWS, HOST, IP, CLUSTER)
    assert plan.new == WINDOWS + b"\r\n" + block(nl=b"\r\n", added=True)
    assert plan_remove(plan.new, HOST, CLUSTER).new == WINDOWS


def test_add_to_an_empty_file_writes_only_the_block() -> None:
    assert plan_add(b"", HOST, IP, CLUSTER).new == block()
    assert plan_remove(block(), HOST, CLUSTER).new == b""


def test_a_file_without_line_breaks_gets_the_callers_default_newline() -> None:
    plan = plan_add(b"127.0.0.1 localhost", HOST, IP, CLUSTER, default_newline=b"\r\n")
    assert plan.new == b"127.0.0.1 localhost\r\n" + block(nl=b"\r\n", added=True)


def test_the_rendered_block_names_devctl_and_the_cluster_on_both_markers() -> None:
    lines = render_block(HOST, IP, "dev-1", b"\n").decode().splitlines()
    assert lines[0].startswith("# BEGIN devctl cluster=dev-1")
    assert lines[1] == f"{IP}\t{HOST}"
    assert lines[2] == "# END devctl cluster=dev-1"


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", [b""][:0]), (b"a", [b"a"]), (b"a\n", [b"a\n"]), (b"a\r\nb", [b"a\r\n", b"b"]),
     (b"a\x0cb\x1cc\n", [b"a\x0cb\x1cc\n"]), (b"\n\n", [b"\n", b"\n"])],
)  # fmt: skip
def test_lines_split_on_newline_only_and_keep_their_endings(data: bytes, expected: list[bytes]) -> None:
    assert split_lines(data) == expected
    assert b"".join(split_lines(data)) == data


@pytest.mark.parametrize(
    ("data", "nl"), [(b"a\nb\r\n", b"\n"), (b"a\r\nb\n", b"\r\n"), (b"", b"\n"), (b"\r\n", b"\r\n"), (b"x", b"\n")]
)
def test_the_newline_convention_is_the_first_line_ending(data: bytes, nl: bytes) -> None:
    assert detect_newline(data) == nl


# --- idempotence, update, remove ---------------------------------------------------------------------


def test_a_second_add_changes_nothing() -> None:
    once = plan_add(MACOS, HOST, IP, CLUSTER).new
    again = plan_add(once, HOST, IP, CLUSTER)
    assert (again.action, again.changed, again.new) == ("none", False, once)
    assert "devctl's block already maps" in again.reason


def test_add_with_another_address_rewrites_only_the_block_in_place() -> None:
    data = b"# head\n" + block() + b"10.1.1.1 other.test\n"
    plan = plan_add(data, HOST, "::1", CLUSTER)
    assert plan.action == "update"
    assert plan.new == b"# head\n" + block(ip="::1") + b"10.1.1.1 other.test\n"


def test_update_keeps_the_marker_for_a_line_break_devctl_added() -> None:
    with_block = plan_add(b"# no final newline", HOST, IP, CLUSTER).new
    updated = plan_add(with_block, HOST, "10.9.9.9", CLUSTER).new
    assert plan_remove(updated, HOST, CLUSTER).new == b"# no final newline"


def test_remove_without_a_block_changes_nothing() -> None:
    plan = plan_remove(MACOS, HOST, CLUSTER)
    assert (plan.action, plan.changed) == ("none", False)


def test_remove_keeps_the_added_line_break_when_the_user_appended_lines_after_the_block() -> None:
    with_block = plan_add(b"1.1.1.1 a", HOST, IP, CLUSTER).new
    removed = plan_remove(with_block + b"2.2.2.2 b\n", HOST, CLUSTER).new
    assert removed == b"1.1.1.1 a\n2.2.2.2 b\n"  # not "1.1.1.1 a2.2.2.2 b"


def test_blocks_of_other_clusters_are_left_alone() -> None:
    other = block(cluster="other", ip="10.0.0.7").replace(HOST.encode(), b"other.test")
    data = other + MACOS
    plan = plan_add(data, HOST, IP, CLUSTER)
    assert plan.new == data + block()
    assert plan_remove(plan.new, HOST, CLUSTER).new == data


# --- lines devctl did not write ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "lineno", "address"),
    [
        (b"10.0.0.5 tour.xyz", 2, "10.0.0.5"),
        (b"10.0.0.5\tfoo.test  TOUR.XYZ   # mine", 2, "10.0.0.5"),
        (b"10.0.0.5 tour.xyz my_box", 2, "10.0.0.5"),  # python-hosts rejects my_box; glibc still uses the line
        (b"fe80::1%lo0 tour.xyz", 2, "fe80::1%lo0"),  # scoped IPv6 (hosts-file.md section 5 pitfall 2)
        (b"::1 tour.xyz", 2, "::1"),
    ],
)
def test_a_line_mapping_the_host_elsewhere_is_a_conflict_naming_that_line(
    line: bytes, lineno: int, address: str
) -> None:
    data = b"127.0.0.1 localhost\r\n" + line + b"\r\n"
    with pytest.raises(HostsConflict) as err:
        plan_add(data, HOST, IP, CLUSTER)
    assert f"line {lineno}" in err.value.message
    assert address in err.value.message
    assert line.decode().split("#")[0].strip().split()[0] in err.value.message
    assert "nothing was changed" in err.value.message
    assert err.value.exit_code == 1


def test_a_conflict_lists_every_conflicting_line() -> None:
    data = b"10.0.0.5 tour.xyz\n10.0.0.6 tour.xyz\n"
    with pytest.raises(HostsConflict, match=r"line 1 .*also line 2"):
        plan_add(data, HOST, IP, CLUSTER)


def test_a_conflicting_line_after_devctls_block_is_still_a_conflict() -> None:
    data = block() + b"10.0.0.5 tour.xyz\n"  # with glibc's `multi on` both lines are returned
    with pytest.raises(HostsConflict, match="line 4"):
        plan_add(data, HOST, IP, CLUSTER)


@pytest.mark.parametrize(
    "line",
    [b"127.0.0.1 tour.xyz", b"127.0.0.1\tlocalhost Tour.Xyz", b"  127.0.0.1   tour.xyz   # by hand"],
)
def test_a_users_line_with_the_wanted_address_means_nothing_to_do(line: bytes) -> None:
    data = b"# mine\n" + line + b"\n"
    plan = plan_add(data, HOST, IP, CLUSTER)
    assert (plan.action, plan.new) == ("none", data)
    assert "line 2 already maps" in plan.reason


@pytest.mark.parametrize(
    "line",
    [b"# 10.0.0.5 tour.xyz", b"10.0.0.5 mytour.xyz", b"10.0.0.5 tour.xyz.evil", b"10.0.0.5 a # tour.xyz",
     b"tour.xyz 10.0.0.5", b"256.1.1.1 tour.xyz"],
)  # fmt: skip
def test_lines_that_do_not_map_the_host_are_not_conflicts(line: bytes) -> None:
    data = line + b"\n"
    assert plan_add(data, HOST, IP, CLUSTER).new == data + block()


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"# BEGIN devctl cluster=tour\n127.0.0.1 tour.xyz\n", "BEGIN at line 1; no END line"),
        (b"127.0.0.1 tour.xyz\n# END devctl cluster=tour\n", "no BEGIN line; END at line 2"),
        (b"# END devctl cluster=tour\n# BEGIN devctl cluster=tour\n", "BEGIN at line 2; END at line 1"),
        (block() + block(), "BEGIN at line 1, BEGIN at line 4; END at line 3, END at line 6"),
    ],
)
def test_a_damaged_block_stops_add_and_remove_and_names_the_marker_lines(data: bytes, where: str) -> None:
    for plan in (lambda: plan_add(data, HOST, IP, CLUSTER), lambda: plan_remove(data, HOST, CLUSTER)):
        with pytest.raises(DamagedBlock) as err:
            plan()
        assert where in err.value.message


# --- judging (status) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "state", "detail"),
    [
        (MACOS, "missing", "no line maps tour.xyz"),
        (MACOS + block(), "ok", "line 12 (devctl's block) maps tour.xyz to 127.0.0.1"),
        (b"127.0.0.1 tour.xyz\n", "ok", "line 1 (a line devctl did not write) maps"),
        (b"10.0.0.5 tour.xyz\n", "elsewhere", "line 1 (a line devctl did not write) maps tour.xyz to 10.0.0.5"),
        (block(ip="10.0.0.9"), "elsewhere", "line 2 (devctl's block) maps tour.xyz to 10.0.0.9"),
        (block() + b"::1 tour.xyz\n", "elsewhere", "line 4"),
    ],
)
def test_judge_says_whether_and_where_the_host_is_mapped(data: bytes, state: str, detail: str) -> None:
    got_state, got_detail, _ = judge(data, HOST, IP, CLUSTER)
    assert got_state == state
    assert detail in got_detail


# --- properties over arbitrary files -----------------------------------------------------------------

_KNOWN_LINES = [
    b"", b"   ", b"\t", b"\t \t", b"#", b"##", b"# comment", b"  # indented comment",
    "# café ✓ 日本".encode(), b"# latin-1 caf\xe9 \xff\xfe", b"127.0.0.1\tlocalhost", b"127.0.1.1 myhost",
    b"::1 localhost ip6-localhost ip6-loopback", b"ff02::1 ip6-allnodes", b"fe80::1%lo0\tlocalhost",
    b"255.255.255.255\tbroadcasthost", b"256.1.1.1 bogus", b"free text that is not an entry",
    b"  127.0.0.1    a.local   b.local    # x", b"10.0.0.1", b"1.2.3.4 under_score", b"\r", b"x\r",
    b"# BEGIN devctl cluster=other", b"# END devctl cluster=other", b"# profile.on devctl", b"# end",
    b"192.168.65.2 host.docker.internal", b"\x00\x01 binary", b"a\x0cb\x1cc\x85d",
]  # fmt: skip


def _no_tour(line: bytes) -> bool:
    return b"tour" not in line.lower()


line_bodies = st.one_of(
    st.sampled_from(_KNOWN_LINES),
    st.builds(
        lambda ip, names, sep: ip.encode() + sep + b" ".join(names),
        st.ip_addresses().map(str),
        st.lists(st.from_regex(r"\A[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5})?\Z").map(str.encode), min_size=1, max_size=3),
        st.sampled_from([b" ", b"\t", b"   ", b" \t "]),
    ),
    st.text(max_size=30).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=30),
).filter(lambda b: b"\n" not in b and _no_tour(b))


@st.composite
def hosts_files(draw: st.DrawFn) -> bytes:
    bodies = draw(st.lists(line_bodies, max_size=12))
    style = draw(st.sampled_from(["lf", "crlf", "mixed"]))
    out = b""
    for body in bodies:
        ending = {"lf": b"\n", "crlf": b"\r\n"}.get(style) or draw(st.sampled_from([b"\n", b"\r\n"]))
        out += body + ending
    if draw(st.booleans()) and out:
        out = out[: -2 if out.endswith(b"\r\n") else -1]  # drop the final newline
    if draw(st.booleans()):
        out += draw(line_bodies)  # a last line with no newline at all
    return out


PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ips = st.sampled_from(["127.0.0.1", "10.1.2.3", "::1", "fd00::17"])


@PROPS
@given(data=hosts_files(), ip=ips)
@example(data=MACOS, ip=IP)
@example(data=WINDOWS, ip=IP)
@example(data=b"x\r", ip=IP)
@example(data=b"", ip=IP)
def test_add_then_remove_gives_back_the_original_bytes(data: bytes, ip: str) -> None:
    added = plan_add(data, HOST, ip, CLUSTER)
    assert added.action == "add"
    assert plan_remove(added.new, HOST, CLUSTER).new == data


@PROPS
@given(data=hosts_files(), ip=ips)
def test_after_add_the_only_difference_is_the_block(data: bytes, ip: str) -> None:
    new = plan_add(data, HOST, ip, CLUSTER).new
    assert new.startswith(data)
    rest = new[len(data) :]
    nl = detect_newline(data)
    needs_break = bool(data) and not data.endswith(b"\n")
    assert rest == (nl if needs_break else b"") + block(ip=ip, nl=nl, added=needs_break)
    state, _, _ = judge(new, HOST, ip, CLUSTER)
    assert state == "ok"


@PROPS
@given(data=hosts_files(), first=ips, second=ips)
def test_add_is_idempotent_and_an_update_still_removes_cleanly(data: bytes, first: str, second: str) -> None:
    once = plan_add(data, HOST, first, CLUSTER).new
    assert not plan_add(once, HOST, first, CLUSTER).changed
    updated = plan_add(once, HOST, second, CLUSTER).new
    assert plan_remove(updated, HOST, CLUSTER).new == data


@PROPS
@given(data=hosts_files(), tail=st.lists(line_bodies, min_size=1, max_size=3))
def test_lines_appended_after_the_block_survive_remove(data: bytes, tail: list[bytes]) -> None:
    new = plan_add(data, HOST, IP, CLUSTER).new
    extra = b"".join(t + b"\n" for t in tail)
    removed = plan_remove(new + extra, HOST, CLUSTER).new
    sep = detect_newline(data) if data and not data.endswith(b"\n") else b""
    assert removed == data + sep + extra


# --- which lines name the host ------------------------------------------------------------------------
# python-hosts reads each line; a line it refuses but the resolver would still use (a scoped IPv6
# address, an odd name next to ours) is read leniently, so it cannot shadow devctl's block unseen.

_LINES_NAMING_THE_HOST: list[tuple[bytes, str | None]] = [
    (b"127.0.0.1\ttour.xyz", "127.0.0.1"), (b"127.0.0.1 tour.xyz", "127.0.0.1"),
    (b"127.0.0.1\tTOUR.XYZ", "127.0.0.1"), (b"127.0.0.1\tTour.Xyz", "127.0.0.1"),
    (b"127.0.0.1\ttour.xyz ", "127.0.0.1"), (b"\t127.0.0.1\ttour.xyz", "127.0.0.1"),
    (b"127.0.0.1\t\ttour.xyz", "127.0.0.1"), (b"127.0.0.1\ttour.xyz\t# by hand", "127.0.0.1"),
    (b"127.0.0.1\ttour.xyz other.test", "127.0.0.1"), (b"127.0.0.1\tother.test tour.xyz", "127.0.0.1"),
    (b"127.0.0.1\ttour.xyz.", None), (b"10.0.0.5\ttour.xyz", "10.0.0.5"), (b"10.0.0.5 mytour.xyz", None),
    (b"10.0.0.5 tour.xyz.evil", None), (b"10.0.0.5 tour.xyzz", None), (b"10.0.0.5 a # tour.xyz", None),
    (b"# 127.0.0.1\ttour.xyz", None), (b"#127.0.0.1\ttour.xyz", None), (b"tour.xyz 10.0.0.5", None),
    (b"tour.xyz", None), (b"127.0.0.1", None), (b"256.1.1.1\ttour.xyz", None), (b"127.1\ttour.xyz", None),
    (b"127.000.000.001\ttour.xyz", None), (b"0127.0.0.1\ttour.xyz", None), (b"::1\ttour.xyz", "::1"),
    (b"0:0:0:0:0:0:0:1\ttour.xyz", "0:0:0:0:0:0:0:1"), (b"::ffff:127.0.0.1\ttour.xyz", "::ffff:127.0.0.1"),
    (b"FD00::17\ttour.xyz", "FD00::17"), (b"fe80::1%lo0\ttour.xyz", "fe80::1%lo0"),
    (b"fe80::1%lo0 tour.xyz", "fe80::1%lo0"), (b"10.0.0.5 tour.xyz my_box", "10.0.0.5"),
    (b"1.2.3.4\ttour.xyz\x0c", "1.2.3.4"), (b"127.0.0.1\ttour.xyz\r", "127.0.0.1"),
    (b"127.0.0.1\ttour.xyz \xff", "127.0.0.1"), (b"127.0.0.1\t\xfftour.xyz", None),
    ("127.0.0.1\ttour.xyz # café".encode(), "127.0.0.1"), ("10.0.0.5 \u0442our.xyz".encode(), None),
    (b"# BEGIN devctl cluster=tour.xyz", None), (b"", None), (b"  ", None), (b"# tour.xyz", None),
]  # fmt: skip


@pytest.mark.parametrize(("line", "address"), _LINES_NAMING_THE_HOST)
@pytest.mark.parametrize("ending", [b"\n", b"\r\n"])
def test_a_line_names_the_host_as_the_resolver_would_read_it(line: bytes, address: str | None, ending: bytes) -> None:
    data = b"127.0.0.1 localhost" + ending + line + ending
    entries = parse(data, HOST, CLUSTER).entries
    assert [(e.lineno, e.address, e.in_block) for e in entries] == ([(2, address, False)] if address else [])


@pytest.mark.parametrize(("line", "address"), [(ln, a) for ln, a in _LINES_NAMING_THE_HOST if a])
def test_a_line_in_the_block_counts_as_devctls(line: bytes, address: str) -> None:
    data = block().replace(f"{IP}\t{HOST}".encode(), line)
    assert [(e.address, e.in_block) for e in parse(data, HOST, CLUSTER).entries] == [(address, True)]
    other = block(cluster="other").replace(f"{IP}\t{HOST}".encode(), line)
    assert [(e.address, e.in_block) for e in parse(other, HOST, CLUSTER).entries] == [(address, False)]


@pytest.mark.parametrize("name", ["ｔｏｕｒ.xyz", "tour\u00ad.xyz", "tour\u3002xyz"])  # fullwidth, soft hyphen, 。
def test_look_alike_names_that_python_hosts_folds_into_the_host_still_count(name: str) -> None:
    # Lower-casing alone would miss these: python-hosts' IDNA step maps them to tour.xyz.
    state, detail, _ = judge(f"10.0.0.5\t{name}\n".encode() + block(), HOST, IP, CLUSTER)
    assert state == "elsewhere"
    assert detail.startswith("line 1 (a line devctl did not write) maps tour.xyz to 10.0.0.5")


# Host names as devctl's configuration lets them through (DNS labels: ASCII letters, digits, hyphens).
_labels = st.from_regex(r"\A[a-zA-Z0-9-]{1,8}\Z") | st.sampled_from(["", "-a", "a-", "x" * 63, "x" * 64])
_hosts = st.lists(_labels, min_size=1, max_size=4).map(".".join) | st.sampled_from([HOST, "TOUR.XYZ", "tour.xyz."])
_addresses = st.ip_addresses().map(str) | st.sampled_from(
    ["127.000.000.001", "127.1", "0:0:0:0:0:0:0:1", "::FFFF:127.0.0.1", "fe80::1%lo0", " 127.0.0.1", "x", ""]
)


@settings(max_examples=300, deadline=None)
@given(host=_hosts, ip=_addresses)
@example(host=HOST, ip=IP)
@example(host="a" * 63 + ".xyz", ip="::1")
def test_the_line_devctl_writes_reads_back_as_the_host_at_that_address(host: str, ip: str) -> None:
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return  # config refuses it before it gets here
    try:
        line = entry_line(host, ip)
    except DevctlError:
        return  # python-hosts refuses the pair: devctl writes nothing (tested below)
    assert line.split("\t")[0] == ip
    data = render_block(host, ip, CLUSTER, b"\n")
    entries = parse(data, host, CLUSTER).entries
    assert [(e.address, e.in_block) for e in entries] == [(ip, True)]


@pytest.mark.parametrize(("host", "ip"), [("tour.xyz", "999.1.1.1"), ("", "127.0.0.1"), ("-x.test", "127.0.0.1")])
def test_an_entry_python_hosts_refuses_is_never_written(host: str, ip: str) -> None:
    with pytest.raises(DevctlError, match="cannot write a hosts entry"):
        entry_line(host, ip)
