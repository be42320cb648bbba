"""What devctl knows about each tool it installs: where upstream publishes each release binary and its
checksum file, how to ask an installed binary its version, and the oldest version devctl works with.

The download layouts are the upstream projects' own:

- kind: ``https://github.com/kubernetes-sigs/kind/releases/download/<v>/kind-<os>-<arch>`` and, next to it,
  ``kind-<os>-<arch>.sha256sum``, the output of ``shasum -a 256 kind-<os>-<arch>`` (kubernetes-sigs/kind
  hack/release/build/cross.sh: builds ``kind-${GOOS}-${GOARCH}`` for linux, darwin and windows on amd64
  and arm64, then ``shasum -a 256 "$f" > "$f".sha256sum``; the release uploads bin/).
- kubectl: ``https://dl.k8s.io/release/<v>/bin/<os>/<arch>/kubectl`` and ``kubectl.sha256`` next to it,
  which holds the bare hex digest (kubernetes/website content/en/docs/tasks/tools/install-kubectl-linux.md,
  "Validate the binary": ``echo "$(cat kubectl.sha256)  kubectl" | sha256sum --check``; the macOS page
  uses the same layout with ``darwin/amd64`` and ``darwin/arm64``).
- Skaffold: ``https://github.com/GoogleContainerTools/skaffold/releases/download/<v>/skaffold-<os>-<arch>``
  and ``skaffold-<os>-<arch>.sha256``, the output of ``shasum -a 256 skaffold-<os>-<arch>``
  (GoogleContainerTools/skaffold Makefile: ``SUPPORTED_PLATFORMS = linux-amd64 darwin-amd64
  windows-amd64.exe linux-arm64 darwin-arm64``; the ``$(BUILD_DIR)/$(PROJECT)-%`` rule ends with
  ``shasum -a 256 `basename $@`) | tee $@.sha256``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

# The platforms devctl runs on (process groups and fcntl: not native Windows, where it runs inside WSL2
# as Linux). Each tool publishes a binary for each of them (see above).
PLATFORMS = ("linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64")

_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
_SHA256 = re.compile(r"[0-9a-f]{64}")

Version = tuple[int, int, int]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    minimum: Version  # the oldest release devctl works with (``why``)
    why: str
    url_template: str  # {version} {os} {arch}
    checksum_suffix: str  # the published checksum file is the binary's URL plus this
    version_args: tuple[str, ...]  # prints the version; needs no cluster

    def url(self, version: str, platform: str) -> str:
        os_name, arch = platform.split("-", 1)
        return self.url_template.format(version=version, os=os_name, arch=arch)

    def checksum_url(self, binary_url: str) -> str:
        return binary_url + self.checksum_suffix


TOOLS: dict[str, ToolSpec] = {
    "kind": ToolSpec(
        "kind",
        (0, 27, 0),
        "kind.md §5: node images from v0.27.0 read /etc/containerd/certs.d (the local registry)",
        "https://github.com/kubernetes-sigs/kind/releases/download/{version}/kind-{os}-{arch}",
        ".sha256sum",
        ("version",),
    ),
    "kubectl": ToolSpec(
        "kubectl",
        (1, 31, 0),
        "a client within the supported skew of the 1.35 node image",
        "https://dl.k8s.io/release/{version}/bin/{os}/{arch}/kubectl",
        ".sha256",
        ("version", "--client"),
    ),
    "skaffold": ToolSpec(
        "skaffold",
        (2, 2, 0),
        "skaffold.md §1: v4beta3 (rawYaml, sync.manual) needs 2.2; doctor checks skaffold.yaml's apiVersion",
        "https://github.com/GoogleContainerTools/skaffold/releases/download/{version}/skaffold-{os}-{arch}",
        ".sha256",
        ("version",),
    ),
}


@dataclass(frozen=True)
class Pins:
    """The versions ``[tool.devctl.tools]`` pins ("" = not pinned: only a tool on PATH is used)."""

    kind: str = ""
    kubectl: str = ""
    skaffold: str = ""

    def pinned(self) -> dict[str, str]:
        return {tool: version for tool, version in asdict(self).items() if version}


def parse_version(text: str) -> Version | None:
    """The first ``[v]X.Y.Z`` in a tool's version output (``kind v0.31.0 go1.25.5 linux/amd64``,
    ``Client Version: v1.35.0``, ``v2.24.0``)."""
    m = _VERSION.search(text)
    return None if m is None else (int(m.group(1)), int(m.group(2)), int(m.group(3)))


def fmt(version: Version) -> str:
    return ".".join(map(str, version))


def check_pin(tool: str, value: object) -> str:
    """A pinned version as the upstream tags spell it (``v0.31.0``); ValueError saying what is wrong."""
    spec = TOOLS.get(tool)
    if spec is None:
        raise ValueError(f"devctl installs only {', '.join(TOOLS)}")
    if not isinstance(value, str) or not re.fullmatch(r"v?\d+\.\d+\.\d+", value):
        raise ValueError("must be a release version such as v0.31.0")
    version = parse_version(value)
    assert version is not None
    if version < spec.minimum:
        raise ValueError(f"is older than {fmt(spec.minimum)}, the oldest devctl works with ({spec.why})")
    return "v" + fmt(version)


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def parse_checksum_file(text: str, binary_name: str) -> str:
    """The SHA-256 in a published checksum file: the bare digest (kubectl's ``.sha256``) or one line of
    ``shasum -a 256`` output, ``<digest>  <file>`` (kind's ``.sha256sum``, Skaffold's ``.sha256``), whose
    file name must then be the binary's. ValueError when the file says anything else."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise ValueError(f"expected one line, found {len(lines)}")
    fields = lines[0].split()
    digest = fields[0].lower()
    if not is_sha256(digest):
        raise ValueError(f"{fields[0][:80]!r} is not a SHA-256 digest")
    if len(fields) > 2 or (len(fields) == 2 and fields[1].lstrip("*") != binary_name):
        raise ValueError(f"it names {' '.join(fields[1:])[:80]!r}, not {binary_name}")
    return digest
