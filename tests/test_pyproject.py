"""devctl.pyproject: the [tool.devctl] table, read through a cache that can never change what is read."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import pytest

from devctl import filecache, pyproject
from devctl.errors import ConfigError


def write(d: Path, table: str) -> Path:
    pp = d / "pyproject.toml"
    pp.write_text(f"[project]\nname = 'x'\ndependencies = [\n  'a',\n]\n\n[tool.devctl]\n{table}\n")
    return pp


def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count real parses: every call of parse_toml is recorded."""
    seen: list[str] = []
    real = pyproject.parse_toml

    def counting(text: str) -> dict[str, object]:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(pyproject, "parse_toml", counting)
    return seen


def entries() -> list[Path]:
    d = filecache.cache_dir()
    return sorted(d.glob("pyproject-*.json")) if d.is_dir() else []


def test_the_cache_lives_under_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert filecache.cache_dir() == tmp_path / "xdg" / "devctl"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert filecache.cache_dir() == tmp_path / "home" / ".cache" / "devctl"


def test_an_unchanged_file_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, 'cluster = "one"\nhttp_port = 8080')
    seen = parses(monkeypatch)
    first = pyproject.read_table(tmp_path)
    second = pyproject.read_table(tmp_path)
    assert first == second == {"cluster": "one", "http_port": 8080}
    assert len(seen) == 1
    assert len(entries()) == 1


def test_an_edit_is_seen_even_with_the_same_size_and_the_old_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pp = write(tmp_path, 'cluster = "one"')
    assert pyproject.read_table(tmp_path) == {"cluster": "one"}
    st = os.stat(pp)
    write(tmp_path, 'cluster = "two"')  # same length
    os.utime(pp, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime set back; ctime cannot be
    assert os.stat(pp).st_size == st.st_size and os.stat(pp).st_mtime_ns == st.st_mtime_ns
    assert pyproject.read_table(tmp_path) == {"cluster": "two"}


def test_a_replaced_file_is_read_again(tmp_path: Path) -> None:
    pp = write(tmp_path, 'cluster = "one"')
    assert pyproject.read_table(tmp_path)["cluster"] == "one"
    other = tmp_path / "new.toml"
    other.write_text(pp.read_text().replace('"one"', '"six"'))
    os.replace(other, pp)  # what an editor's atomic save or a git checkout does: a new inode
    assert pyproject.read_table(tmp_path)["cluster"] == "six"


def test_a_corrupt_entry_is_ignored_and_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, 'cluster = "one"')
    pyproject.read_table(tmp_path)
    (entry,) = entries()
    key = json.loads(entry.read_text())["key"]
    for junk in (b"", b"{not json", b"[]", json.dumps({"key": "x", "value": 3}).encode(),
                 json.dumps({"key": key, "value": 3}).encode()):  # the right key, but not a table
        entry.write_bytes(junk)
        assert pyproject.read_table(tmp_path) == {"cluster": "one"}
    assert json.loads(entry.read_text())["value"] == {"cluster": "one"}


def test_a_file_that_changes_while_it_is_read_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pp = write(tmp_path, 'cluster = "one"')
    real = pyproject.parse_toml

    def edited_meanwhile(text: str) -> dict[str, object]:
        write(tmp_path, 'cluster = "two"')
        return real(text)

    monkeypatch.setattr(pyproject, "parse_toml", edited_meanwhile)
    assert pyproject.read_table(tmp_path) == {"cluster": "one"}
    assert entries() == []
    monkeypatch.setattr(pyproject, "parse_toml", real)
    assert pyproject.read_table(tmp_path) == {"cluster": "two"}
    assert pp.exists() and len(entries()) == 1


def test_an_entry_for_another_file_is_not_used(tmp_path: Path) -> None:
    """Two paths may share an entry's file name (a 32-bit hash); the key inside holds the full path."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write(a, 'cluster = "aaa"')
    write(b, 'cluster = "bbb"')
    pyproject.read_table(a)
    (entry,) = entries()
    clash = filecache.cache_dir() / f"pyproject-{zlib.crc32(str(b / 'pyproject.toml').encode()):08x}.json"
    clash.write_bytes(entry.read_bytes())  # a's entry where b's would be
    assert pyproject.read_table(b) == {"cluster": "bbb"}
    assert pyproject.read_table(a) == {"cluster": "aaa"}


def test_an_unwritable_cache_costs_nothing_but_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    write(tmp_path, 'cluster = "one"')
    seen = parses(monkeypatch)
    assert pyproject.read_table(tmp_path) == pyproject.read_table(tmp_path) == {"cluster": "one"}
    assert len(seen) == 2
    assert blocker.read_text() == ""


def test_a_toml_error_is_reported_on_every_run_and_never_cached(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.devctl]\ncluster = \n")
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"cannot parse .*pyproject\.toml"):
            pyproject.read_table(tmp_path)
    assert entries() == []


@pytest.mark.parametrize("doc", ["tool = 1\n", "[tool]\ndevctl = 1\n", "[tool]\ndevctl = [1]\n"])
def test_a_tool_devctl_that_is_not_a_table_is_one_clear_error(tmp_path: Path, doc: str) -> None:
    (tmp_path / "pyproject.toml").write_text(doc)
    with pytest.raises(ConfigError, match=r"\[tool.devctl\] in .* must be a table"):
        pyproject.read_table(tmp_path)


def test_values_json_cannot_hold_are_returned_but_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "when = 1979-05-27\nratio = nan")
    seen = parses(monkeypatch)
    first = pyproject.read_table(tmp_path)
    assert str(first["when"]) == "1979-05-27" and first["ratio"] != first["ratio"]
    pyproject.read_table(tmp_path)
    assert len(seen) == 2
    assert entries() == []


def test_no_pyproject_means_an_empty_table(tmp_path: Path) -> None:
    assert pyproject.read_table(tmp_path) == {}
    assert entries() == []


def test_the_root_is_the_nearest_directory_with_a_tool_devctl_table(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    write(tmp_path, 'cluster = "top"')
    inner = tmp_path / "inner"
    (inner / "deep").mkdir(parents=True)
    (inner / "pyproject.toml").write_text("[project]\nname = 'not-ours'\n")
    assert pyproject.find_repo_root(inner / "deep") == tmp_path.resolve()
    lone = tmp_path_factory.mktemp("lone")
    assert pyproject.find_repo_root(lone) == lone.resolve()
