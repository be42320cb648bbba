"""The gate in front of `make e2e`: real docker (daemon answering), kind, kubectl and skaffold, or one line why not.

Run as ``python -m tests.scenarios.e2e_gate``. Exit 0 when the machine can run the scenarios against the
real tools (one line on stdout naming them), else exit 1 with exactly one line on stderr. This is test
tooling, not devctl, so it may start a process itself (``docker info``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REQUIRED = ("docker", "kind", "kubectl", "skaffold")
FAKES = Path(__file__).resolve().parent.parent / "fakes"
HEADLINE = "make e2e needs docker (daemon running), kind, kubectl and skaffold"
DOCKER_INFO_TIMEOUT = 20.0  # seconds; a daemon that answers does so in well under a second


def missing_tools(path: str | None) -> list[str]:
    """The required tools that ``path`` (a PATH string; None = this process's PATH) does not provide."""
    return [tool for tool in REQUIRED if shutil.which(tool, path=path) is None]


def is_fake(binary: str) -> bool:
    """True when ``binary`` is one of this repo's test fakes (tests/fakes), not the real tool."""
    return Path(binary).resolve().is_relative_to(FAKES.resolve())


def fake_tools(path: str | None) -> list[str]:
    """The required tools that ``path`` resolves to a fake in tests/fakes."""
    found = ((tool, shutil.which(tool, path=path)) for tool in REQUIRED)
    return [tool for tool, binary in found if binary is not None and is_fake(binary)]


def docker_daemon_reachable(path: str | None, timeout: float = DOCKER_INFO_TIMEOUT) -> bool:
    """Whether ``docker info`` (the docker found on ``path``) gets an answer from the daemon."""
    docker = shutil.which("docker", path=path)
    if docker is None:
        return False
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    try:
        done = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def problems(path: str | None) -> list[str]:
    """Everything that keeps ``make e2e`` from running, each as a short phrase; empty when all is well."""
    found: list[str] = []
    missing = missing_tools(path)
    if missing:
        found.append("missing " + ", ".join(missing))
    fakes = fake_tools(path)
    if fakes:
        found.append(", ".join(fakes) + " resolve to the test fakes in tests/fakes (take them off PATH)")
    if "docker" not in missing and "docker" not in fakes and not docker_daemon_reachable(path):
        found.append("docker daemon not reachable (is Docker running?)")
    return found


def refusal(path: str | None) -> str | None:
    """The one line `make e2e` refuses with, or None when the real tools are ready."""
    found = problems(path)
    return f"{HEADLINE}: {'; '.join(found)}" if found else None


def with_devctl_store(path: str) -> str:
    """``path`` with devctl's tool store in front, as devctl puts it for every tool it starts: the kind,
    kubectl and skaffold of `devctl tools install` are the real tools too (and the ones devctl runs)."""
    from devctl.config import load
    from devctl.errors import DevctlError
    from devctl.toolchain.resolve import Toolchain

    repo = Path(__file__).resolve().parent.parent.parent
    try:
        return Toolchain.for_config(load({}, env={}, cwd=repo)).child_path(path) or path
    except DevctlError:  # a broken lock or pyproject: the scenarios report it; the gate looks at PATH
        return path


def main() -> int:
    path = with_devctl_store(os.environ.get("PATH", ""))
    line = refusal(path)
    if line is not None:
        print(line, file=sys.stderr)
        return 1
    print("e2e: " + " ".join(f"{tool}={shutil.which(tool, path=path)}" for tool in REQUIRED))
    return 0


if __name__ == "__main__":
    sys.exit(main())
