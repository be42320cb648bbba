"""devctl._toml_subset: the [tool.devctl] reader used on Python 3.10 (no tomllib there)."""

from __future__ import annotations

import sys

import pytest

from devctl._toml_subset import loads

SAMPLE = """
[project]
name = "devctl"
dependencies = ["a", "b"]

[tool.devctl]
cluster = "tour"   # a comment
http_port = 8080
ingress_timeout = 90.5
verbose = true
host = 'single.quoted'
"""


def test_reads_the_devctl_table() -> None:
    data = loads(SAMPLE)
    assert data["tool"]["devctl"] == {"cluster": "tour", "http_port": 8080, "ingress_timeout": 90.5,
                                      "verbose": True, "host": "single.quoted"}


@pytest.mark.skipif(sys.version_info < (3, 11), reason="compares against tomllib, which needs Python 3.11")
def test_agrees_with_tomllib_on_the_devctl_table_of_this_repo() -> None:
    import tomllib

    from tests.conftest import REPO

    text = (REPO / "pyproject.toml").read_text()
    assert loads(text)["tool"]["devctl"] == tomllib.loads(text)["tool"]["devctl"]


def test_rejects_a_value_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="line 2"):
        loads("[tool.devctl]\ncluster = \n")
