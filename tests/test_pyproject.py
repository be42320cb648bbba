"""devctl.pyproject: finding the repo root and reading its [tool.devctl] table with a real TOML parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from devctl import pyproject
from devctl.errors import ConfigError


def write(d: Path, table: str) -> Path:
    pp = d / "pyproject.toml"
    pp.write_text(f"[project]\nname = 'x'\ndependencies = [\n  'a',\n]\n\n[tool.devctl]\n{table}\n")
    return pp


def test_the_table_is_read_with_the_rest_of_the_file_around_it(tmp_path: Path) -> None:
    write(tmp_path, 'cluster = "one"\nhttp_port = 8080')
    assert pyproject.read_table(tmp_path) == {"cluster": "one", "http_port": 8080}


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ('host = "truestory.test"', "truestory.test"),  # words like true/false inside a string stay text
        ("host = 'falsehood.test'", "falsehood.test"),
        ('host = "a#b.test" # a comment', "a#b.test"),
        ('host = """multi.test"""', "multi.test"),
    ],
)
def test_strings_are_read_as_toml_defines_them(tmp_path: Path, line: str, value: str) -> None:
    write(tmp_path, line)
    assert pyproject.read_table(tmp_path) == {"host": value}


def test_every_edit_is_seen(tmp_path: Path) -> None:
    write(tmp_path, 'cluster = "one"')
    assert pyproject.read_table(tmp_path) == {"cluster": "one"}
    write(tmp_path, 'cluster = "two"')
    assert pyproject.read_table(tmp_path) == {"cluster": "two"}


def test_reading_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    write(repo, 'cluster = "one"')
    pyproject.read_table(repo)
    assert list(home.iterdir()) == []
    assert sorted(p.name for p in repo.iterdir()) == ["pyproject.toml"]


def test_a_toml_error_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.devctl]\ncluster = \n")
    with pytest.raises(ConfigError, match=r"cannot parse .*pyproject\.toml") as caught:
        pyproject.read_table(tmp_path)
    assert caught.value.hint == "fix the TOML syntax"


def test_an_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.devctl]\nhost = '\xff'\n")
    with pytest.raises(ConfigError, match=r"cannot read .*pyproject\.toml"):
        pyproject.read_table(tmp_path)


@pytest.mark.parametrize("doc", ["tool = 1\n", "[tool]\ndevctl = 1\n", "[tool]\ndevctl = [1]\n"])
def test_a_tool_devctl_that_is_not_a_table_is_one_clear_error(tmp_path: Path, doc: str) -> None:
    (tmp_path / "pyproject.toml").write_text(doc)
    with pytest.raises(ConfigError, match=r"\[tool.devctl\] in .* must be a table"):
        pyproject.read_table(tmp_path)


def test_toml_types_beyond_json_are_kept(tmp_path: Path) -> None:
    write(tmp_path, "when = 1979-05-27\nratio = nan")
    table = pyproject.read_table(tmp_path)
    assert str(table["when"]) == "1979-05-27" and table["ratio"] != table["ratio"]


def test_no_pyproject_means_an_empty_table(tmp_path: Path) -> None:
    assert pyproject.read_table(tmp_path) == {}


def test_the_root_is_the_nearest_directory_with_a_tool_devctl_table(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    write(tmp_path, 'cluster = "top"')
    inner = tmp_path / "inner"
    (inner / "deep").mkdir(parents=True)
    (inner / "pyproject.toml").write_text("[project]\nname = 'not-ours'\n")
    assert pyproject.find_repo_root(inner / "deep") == tmp_path.resolve()
    lone = tmp_path_factory.mktemp("lone")
    assert pyproject.find_repo_root(lone) is None  # outside any tour repo: no root, not the cwd
