"""How to install each external tool, per OS (what ``ToolNotFound`` tells the user)."""

from __future__ import annotations

import sys

# tool -> {platform family -> instruction}; "any" is the project's own install page.
_HINTS: dict[str, dict[str, str]] = {
    "docker": {
        "darwin": "install Docker Desktop: brew install --cask docker",
        "linux": "install Docker Engine: sudo apt-get install docker.io (or https://docs.docker.com/engine/install/)",
        "win32": "install Docker Desktop: winget install Docker.DockerDesktop",
        "any": "https://docs.docker.com/get-docker/",
    },
    "kind": {
        "darwin": "brew install kind",
        "linux": "go install sigs.k8s.io/kind@v0.31.0, or the binary from https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
        "win32": "winget install Kubernetes.kind",
        "any": "https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
    },
    "kubectl": {
        "darwin": "brew install kubectl",
        "linux": "sudo snap install kubectl --classic, or https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/",
        "win32": "winget install Kubernetes.kubectl",
        "any": "https://kubernetes.io/docs/tasks/tools/",
    },
    "skaffold": {
        "darwin": "brew install skaffold",
        "linux": "the binary from https://skaffold.dev/docs/install/ (sudo install skaffold /usr/local/bin/)",
        "win32": "winget install Google.Skaffold",
        "any": "https://skaffold.dev/docs/install/",
    },
    "sudo": {"any": "run the printed command from an administrator shell instead"},
}


def _family(platform: str) -> str:
    if platform.startswith("win"):
        return "win32"
    if platform == "darwin":
        return "darwin"
    return "linux"


def install_hint(tool: str, platform: str | None = None) -> str:
    hints = _HINTS.get(tool)
    if not hints:
        return f"install {tool} and make sure it is on PATH"
    fam = _family(platform or sys.platform)
    return hints.get(fam) or hints["any"]
