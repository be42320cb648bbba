"""devctl.manifests: the one loader of the stack's Kubernetes objects."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import pytest

from devctl import manifests
from devctl.errors import UsageError
from devctl.ingress.nginx import admission_probe
from devctl.routing.ingresses import load_ingresses


def objects(root: Path) -> list[dict[str, Any]]:
    return [m.obj for m in manifests.load(root)]


def test_load_reads_every_document_of_every_yaml_file_in_path_order(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s2}\n")
    (tmp_path / "a.yaml").write_text(
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: s1}\n---\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1}\n"
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s3}\n")
    (tmp_path / "notes.txt").write_text("not a manifest: {")
    names = [o["metadata"]["name"] for o in objects(tmp_path)]
    assert names == ["s1", "c1", "s2", "s3"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("apiVersion: v1\nkind: [unclosed\n", "is not valid YAML"),
        ("- just\n- a list\n", "document 1 is not a Kubernetes object"),
        ("apiVersion: v1\nkind: Service\n---\nmetadata: {name: x}\n", "document 2 is not a Kubernetes object"),
    ],
)
def test_load_names_the_file_it_cannot_use(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text(content)
    with pytest.raises(UsageError, match=message) as err:
        objects(tmp_path)
    assert str(bad) in str(err.value)


def test_load_rejects_a_file_that_is_not_text(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(UsageError, match=r"cannot read .*x\.yaml"):
        objects(tmp_path)


def test_load_of_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        objects(tmp_path / "k8s")


def test_an_edited_manifest_is_read_again(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s1}\n")
    objects(tmp_path)
    st = f.stat()
    f.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s2}\n")  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime
    assert [o["metadata"]["name"] for o in objects(tmp_path)] == ["s2"]


def test_yaml_types_are_kept_as_yaml_defines_them(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, annotations: {when: 2026-11-27}}\ndata: {1: one}\n"
    )
    (obj,) = objects(tmp_path)
    assert obj["metadata"]["annotations"]["when"] == datetime.date(2026, 11, 27) and 1 in obj["data"]


def test_a_broken_manifest_is_reported_on_every_run(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: [unclosed\n")
    for _ in range(2):
        with pytest.raises(UsageError, match="is not valid YAML"):
            objects(tmp_path)


def test_a_list_stands_for_its_items_and_a_single_file_can_be_the_root(tmp_path: Path) -> None:
    f = tmp_path / "all.yaml"
    f.write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: Service, metadata: {name: a}}\n"
        "- {apiVersion: v1, kind: List, items: [{apiVersion: v1, kind: Service, metadata: {name: b}}]}\n"
    )
    loaded = manifests.load(f)
    assert [(m.path, m.document, m.obj["metadata"]["name"]) for m in loaded] == [(f, 1, "a"), (f, 1, "b")]


def test_a_yaml_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("kind: Ingress\nmetadata:\n  name: [x\n")
    with pytest.raises(UsageError, match=r"broken\.yaml is not valid YAML: line \d+") as err:
        manifests.load(tmp_path)
    assert "\n" not in err.value.message and err.value.hint == "fix the YAML syntax"


def test_routes_and_the_admission_probe_read_the_same_objects(tmp_path: Path) -> None:
    from devctl.config import Config

    k8s = tmp_path / "k8s"
    k8s.mkdir()
    ingress = (
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n"
        "  - host: tour.xyz\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n"
        "        backend: {service: {name: client, port: {number: 3000}}}\n"
    )
    (k8s / "ingress.yaml").write_text(ingress)
    (k8s / "bad.yaml").write_text("- not an object\n")
    with pytest.raises(UsageError, match=r"bad\.yaml: document 1 is not a Kubernetes object"):
        load_ingresses(k8s)
    with pytest.raises(UsageError, match=r"bad\.yaml: document 1 is not a Kubernetes object"):
        admission_probe(Config(repo_root=tmp_path))
    (k8s / "bad.yaml").unlink()
    assert [i.name for i in load_ingresses(k8s)] == ["web"]
    assert admission_probe(Config(repo_root=tmp_path)).what == f"Ingress web from {k8s}"
