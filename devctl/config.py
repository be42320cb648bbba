"""devctl's configuration: one typed, frozen object, resolved and validated once.

Sources, later wins: built-in defaults < ``[tool.devctl]`` in the repo's pyproject.toml (found and
read by ``devctl.pyproject``) < ``DEVCTL_*`` environment variables < command-line flags. Every value
is validated here, so the rest of the code never sees a bad port or cluster name; an invalid value
raises ``ConfigError`` naming the field, the value and where it came from.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from devctl import pyproject
from devctl.errors import ConfigError, NotInRepo
from devctl.toolchain.catalog import TOOLS, Pins, check_pin

# kind v0.31.0's default node image for Kubernetes 1.35 (kind.md §1; kind release notes v0.31.0).
# ingress-nginx controller-v1.15.1 is e2e-tested up to 1.35 (ingress-nginx.md §1): pin 1.35, not kind's newer default.
DEFAULT_NODE_IMAGE = "kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f"
# The registry image kind's local-registry guide and ctlptl use (kind.md §6), pinned by digest.
DEFAULT_REGISTRY_IMAGE = "registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373"
DEFAULT_INGRESS_VERSION = "1.15.1"
INGRESS_MANIFEST_URL = (
    "https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v{version}"
    "/deploy/static/provider/kind/deploy.yaml"
)

# kind.md §2: valid cluster names match ^[a-z0-9.-]+$. A DNS-1123 start/end is also required here
# because the name becomes part of container and context names.
_CLUSTER_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")
_DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_PROFILE_NAME = re.compile(r"-?[A-Za-z0-9][A-Za-z0-9._-]*")

ENV_PREFIX = "DEVCTL_"


def default_hosts_file() -> Path:
    """The OS's hosts file (hosts-file.md §1); python-hosts uses the same rule."""
    if sys.platform.startswith("win"):
        return Path(r"C:\Windows\System32\drivers\etc\hosts")
    return Path("/etc/hosts")


@dataclass(frozen=True)
class Config:
    """Everything devctl needs to know to act, after all sources were merged and checked."""

    cluster: str = "tour"
    host: str = "tour.xyz"
    host_ip: str = "127.0.0.1"
    http_port: int = 80
    https_port: int = 443
    registry_port: int = 5001
    registry_name: str = "kind-registry"
    registry_image: str = DEFAULT_REGISTRY_IMAGE
    hosts_file: Path = field(default_factory=default_hosts_file)
    node_image: str = DEFAULT_NODE_IMAGE
    ingress_version: str = DEFAULT_INGRESS_VERSION
    ingress_manifest: str = ""  # URL or local path; empty = the pinned upstream URL for ingress_version
    ingress_timeout: float = 180.0
    skaffold_file: Path = Path("skaffold.yaml")
    skaffold_profile: str = ""
    cleanup_timeout: float = 30.0
    manifests_dir: Path = Path("k8s")
    tools: Pins = field(default_factory=Pins)  # [tool.devctl.tools]: the versions devctl installs (devctl.toolchain)
    tools_mirror: str = ""  # a base URL that serves the tools' release files under their upstream paths
    extra_ca: Path | None = None  # a company CA (PEM) the kind node trusts: a proxy that re-signs TLS
    repo_root: Path | None = None  # the tour repo this runs in (load() finds it); None: not inside one
    verbose: bool = False
    dry_run: bool = False

    @property
    def context(self) -> str:
        """The only kube context devctl ever talks to (kind.md §4: context = kind-<name>)."""
        return f"kind-{self.cluster}"

    @property
    def ingress_manifest_source(self) -> str:
        return self.ingress_manifest or INGRESS_MANIFEST_URL.format(version=self.ingress_version)

    @property
    def url(self) -> str:
        port = "" if self.http_port == 80 else f":{self.http_port}"
        return f"http://{self.host}{port}"

    def require_repo(self) -> Path:
        """The repo's root, for what only the repo holds (k8s/, skaffold.yaml); NotInRepo outside it."""
        if self.repo_root is None:
            raise NotInRepo(Path.cwd())
        return self.repo_root

    def path(self, p: Path) -> Path:
        """A repo-relative path made absolute against the repo root (paths given as flags or in the
        environment were made absolute against the current directory when they were read)."""
        return p if p.is_absolute() else self.require_repo() / p


# --- field parsing and validation ------------------------------------------------------------------

# Fields a user may set (repo_root is discovered, verbose/dry_run are flags only).
SETTABLE = [f.name for f in fields(Config) if f.name not in ("repo_root", "verbose", "dry_run")]


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _check_cluster(v: str) -> str:
    if not _CLUSTER_NAME.fullmatch(v) or len(v) > 50:
        raise ValueError("must be lower-case letters, digits, '.' and '-' (kind's rule), at most 50 characters")
    return v


def _check_host(v: str) -> str:
    name = v[:-1] if v.endswith(".") else v
    if not name or len(name) > 253 or not all(_DNS_LABEL.fullmatch(p) for p in name.split(".")):
        raise ValueError("must be a valid DNS name such as tour.xyz")
    if all(p.isdigit() for p in name.split(".")):
        raise ValueError("must be a DNS name, not an IP address")
    return name.lower()


def _check_ip(v: str) -> str:
    try:
        return str(ipaddress.ip_address(v))
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address such as 127.0.0.1") from None


def _check_port(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError("must be a port number 1-65535")
    try:
        n = int(str(v).strip())
    except ValueError:
        raise ValueError("must be a port number 1-65535") from None
    if not 1 <= n <= 65535:
        raise ValueError("must be a port number 1-65535")
    return n


def _check_seconds(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError("must be a number of seconds greater than 0")
    try:
        n = float(str(v).strip())
    except ValueError:
        raise ValueError("must be a number of seconds greater than 0") from None
    if not n > 0 or n != n or n == float("inf"):
        raise ValueError("must be a number of seconds greater than 0")
    return n


def _check_image(v: str) -> str:
    if not v or any(c.isspace() for c in v) or v.startswith("-"):
        raise ValueError("must be an image reference such as name:tag or name@sha256:digest")
    return v


def _check_version(v: str) -> str:
    v = v.removeprefix("v").removeprefix("controller-v")
    if not re.fullmatch(r"\d+\.\d+\.\d+", v):
        raise ValueError("must be a version such as 1.15.1")
    return v


def _check_profile(v: str) -> str:
    if v and not all(_PROFILE_NAME.fullmatch(p) for p in v.split(",")):
        raise ValueError("must be a Skaffold profile name (letters, digits, '.', '_', '-'), or several joined by ','")
    return v


def _check_text(v: str) -> str:
    if "\n" in v or "\0" in v:
        raise ValueError("must be a single line")
    return v


def _check_path(v: Any) -> Path:
    s = str(v)
    if not s or "\0" in s:
        raise ValueError("must be a file path")
    return Path(os.path.expanduser(s))


def _check_mirror(v: str) -> str:
    from devctl.toolchain.fetch import check_mirror

    return check_mirror(v) if v else ""


def _check_ca(v: Any) -> Path:
    """An absolute path to a readable PEM file with at least one certificate (kind mounts it by path)."""
    path = _check_path(v)
    if not path.is_absolute():
        raise ValueError("must be an absolute path to a PEM file (kind mounts it into the node by path)")
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as err:
        raise ValueError(f"cannot be read: {err.strerror or err}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError("is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)")
    return path


def _check_registry_name(v: str) -> str:
    if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", v):
        raise ValueError("must be a Docker container name")
    return v


_CHECKS: dict[str, Any] = {
    "cluster": _check_cluster,
    "host": _check_host,
    "host_ip": _check_ip,
    "http_port": _check_port,
    "https_port": _check_port,
    "registry_port": _check_port,
    "registry_name": _check_registry_name,
    "registry_image": _check_image,
    "hosts_file": _check_path,
    "node_image": _check_image,
    "ingress_version": _check_version,
    "ingress_manifest": _check_text,
    "ingress_timeout": _check_seconds,
    "skaffold_file": _check_path,
    "skaffold_profile": _check_profile,
    "cleanup_timeout": _check_seconds,
    "manifests_dir": _check_path,
    "tools_mirror": _check_mirror,
    "extra_ca": _check_ca,
}
TABLE_ONLY = ("tools",)  # sub-tables of [tool.devctl], with no environment variable or flag


def _validate(name: str, value: Any, source: str) -> Any:
    if value is None:
        raise ConfigError(f"invalid {name}: no value (from {source})")
    check = _CHECKS[name]
    try:
        return check(value if check in (_check_port, _check_seconds, _check_path, _check_ca) else str(value))
    except ValueError as err:
        raise ConfigError(f"invalid {name} {str(value)!r} (from {source}): {err}", hint=_fix(name, source)) from None


def _fix(name: str, source: str) -> str:
    """What to do about a bad value, where it came from."""
    if source.startswith("--"):
        return f"pass a valid value to {source}"
    if source == env_name(name):
        return f"fix {source}, or unset it to use the default"
    return f"fix {name} in [tool.devctl] of pyproject.toml, or remove it to use the default"


def _from_here(name: str, value: Any, cwd: Path) -> Any:
    """A path given on the command line or in the environment is relative to where it was typed."""
    if isinstance(value, Path) and not value.is_absolute():
        return cwd / value
    if name == "ingress_manifest" and value and "://" not in value and not Path(value).is_absolute():
        return str(cwd / value)
    return value


# --- merging --------------------------------------------------------------------------------------


def load(
    flags: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    flag_names: Mapping[str, str] | None = None,
) -> Config:
    """Merge defaults < [tool.devctl] < DEVCTL_* < flags, validate each value once, return the Config.

    ``flags`` maps field names to values; a value of None means "flag not given". ``flag_names`` names
    the option a field came from where it differs from ``--field-name`` (``host_ip`` is ``--ip``).
    """
    env = os.environ if env is None else env
    here = (cwd or Path.cwd()).resolve()
    root = pyproject.find_repo_root(here)
    values: dict[str, Any] = {"repo_root": root}

    table = pyproject.read_table(root) if root is not None else {}
    for key, raw in table.items():
        name = key.replace("-", "_")
        if name not in SETTABLE:
            raise ConfigError(
                f"unknown key {key!r} in [tool.devctl] of {root}/pyproject.toml",
                hint="known keys: " + ", ".join(SETTABLE),
            )
        if name == "tools":
            values[name] = _pins(raw)
            continue
        values[name] = _validate(name, raw, "[tool.devctl] in pyproject.toml")

    for name in SETTABLE:
        if name in TABLE_ONLY:
            continue
        raw = env.get(env_name(name))
        if raw is not None and raw != "":
            values[name] = _from_here(name, _validate(name, raw, env_name(name)), here)

    for name, raw in (flags or {}).items():
        if raw is None:
            continue
        if name in ("verbose", "dry_run"):
            values[name] = bool(raw)
            continue
        if name not in SETTABLE:
            raise ConfigError(f"unknown setting {name!r}")
        flag = (flag_names or {}).get(name) or "--" + name.replace("_", "-")
        values[name] = _from_here(name, _validate(name, raw, flag), here)

    cfg = Config(**values)
    _check_combination(cfg)
    return cfg


def _pins(table: Any) -> Pins:
    """[tool.devctl.tools]: tool = "version" for kind, kubectl and skaffold."""
    source = "[tool.devctl.tools] in pyproject.toml"
    if not isinstance(table, dict):
        raise ConfigError(f'invalid tools (from {source}): must be a table of tool = "version"')
    pins: dict[str, str] = {}
    for tool, raw in table.items():
        if tool not in TOOLS:
            raise ConfigError(f"unknown tool {tool!r} in {source}", hint="devctl installs only " + ", ".join(TOOLS))
        try:
            pins[tool] = check_pin(tool, raw)
        except ValueError as err:
            raise ConfigError(
                f"invalid tools.{tool} {raw!r} (from {source}): {err}",
                hint="pin a release version such as v0.31.0, then run `devctl tools lock`",
            ) from None
    return Pins(**pins)


def _check_combination(cfg: Config) -> None:
    ports = {"http_port": cfg.http_port, "https_port": cfg.https_port, "registry_port": cfg.registry_port}
    seen: dict[int, str] = {}
    for name, port in ports.items():
        if port in seen:
            raise ConfigError(
                f"invalid {name} {port}: the same port is already used for {seen[port]}",
                hint=f"pick another port with {env_name(name)}",
            )
        seen[port] = name
    _check_kubectl_skew(cfg)


def _check_kubectl_skew(cfg: Config) -> None:
    """kubectl must be within one minor version of the cluster's Kubernetes (the version skew policy;
    kubernetes/website install-kubectl-linux.md: "within one minor version difference of your cluster")."""
    node = re.search(r":v(\d+)\.(\d+)\.", cfg.node_image)
    pinned = re.fullmatch(r"v(\d+)\.(\d+)\.\d+", cfg.tools.kubectl)
    if node is None or pinned is None:
        return
    if node.group(1) != pinned.group(1) or abs(int(node.group(2)) - int(pinned.group(2))) > 1:
        raise ConfigError(
            f"invalid tools.kubectl {cfg.tools.kubectl} (from [tool.devctl.tools] in pyproject.toml): more than one "
            f"minor version from the node image's Kubernetes v{node.group(1)}.{node.group(2)} ({cfg.node_image})",
            hint="pin a kubectl of the same minor as the node image, or one minor either side",
        )
