"""The docker tier's images, made with `docker import` from Debian packages (docker-kubectl.md §1).

No registry can be reached from these machines, so nothing is pulled: each image is a folder of host
files (a binary, the libraries `ldd` names, links and a config) streamed to `docker import` as a tar.

- busybox: Debian's ``busybox-static`` (``/bin/busybox`` plus links for ``sh``, ``sleep``, ``nc``…);
  stands in for kind's nodes and is the base of the tier's ``docker build``.
- registry: Debian's ``docker-registry`` (the distribution registry 2.8), no auth, on :5000.
- ctr: Debian's ``containerd`` client, to pull from the registry the way a kind node's containerd does.

Each is tagged ``devctl-test/<name>:<hash of everything that goes in>`` and labelled
``io.devctl.test.image=<name>``: a run reuses the image an earlier run made from the same files, and a
changed package gives a new tag. These are the only things the tier keeps between runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from tests.docker.engine import Engine

IMAGE_LABEL = "io.devctl.test.image"
PACKAGES = "busybox-static docker-registry containerd"  # what `apt-get install` needs for all three

# docker-kubectl.md §1: the packaged config turns on htpasswd auth; this one does not.
REGISTRY_CONFIG = """\
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
"""
REGISTRY_CONFIG_PATH = "/etc/docker/registry/config.yml"
BUSYBOX_LINKS = ("sh", "sleep", "nc", "echo", "cat", "cp", "mkdir", "ls", "true", "wget")


class MissingPackage(AssertionError):
    pass


@dataclass(frozen=True)
class Recipe:
    name: str
    package: str
    binary: str  # on the host
    target: str  # in the image
    links: tuple[str, ...] = ()  # names in /bin pointing at the binary
    files: tuple[tuple[str, str], ...] = ()  # (path in the image, text)
    dirs: tuple[str, ...] = ("/tmp",)
    changes: tuple[str, ...] = ()  # `docker import -c` instructions


BUSYBOX = Recipe(
    "busybox", "busybox-static", "/bin/busybox", "/bin/busybox", links=BUSYBOX_LINKS, changes=('CMD ["/bin/sh"]',)
)
REGISTRY = Recipe(
    "registry",
    "docker-registry",
    "/usr/bin/docker-registry",
    "/bin/registry",
    files=((REGISTRY_CONFIG_PATH, REGISTRY_CONFIG),),
    dirs=("/tmp", "/var/lib/registry"),
    changes=(f'ENTRYPOINT ["/bin/registry", "serve", "{REGISTRY_CONFIG_PATH}"]', "EXPOSE 5000"),
)
CTR = Recipe(
    "ctr",
    "containerd",
    "/usr/bin/ctr",
    "/bin/ctr",
    dirs=("/tmp", "/run/containerd"),
    changes=('ENTRYPOINT ["/bin/ctr"]',),
)


def libraries(binary: str) -> list[str]:
    """The shared libraries ``binary`` loads, loader included, as ``ldd`` lists them (none when static)."""
    done = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False)
    if done.returncode != 0:  # "not a dynamic executable"
        return []
    paths = []
    for line in done.stdout.splitlines():
        # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)", "/lib64/ld-linux-x86-64.so.2 (0x…)"
        words = [w for w in line.replace("=>", " ").split() if w.startswith("/")]
        if words:
            paths.append(words[0])
    return paths


def _dir(tar: tarfile.TarFile, path: str, made: set[str]) -> None:
    parts = Path(path).parts[1:]
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i])
        if d not in made:
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
            made.add(d)


def _file(tar: tarfile.TarFile, path: str, data: bytes, mode: int, made: set[str]) -> None:
    _dir(tar, str(Path(path).parent), made)
    info = tarfile.TarInfo(path.lstrip("/"))
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def folder(recipe: Recipe) -> tuple[bytes, str]:
    """The image's files as a tar, and a hash of everything that makes the image."""
    binary = Path(recipe.binary)
    if not binary.is_file():
        raise MissingPackage(
            f"the docker tier builds its {recipe.name} image from Debian's {recipe.package} package, and "
            f"{recipe.binary} is missing: `apt-get install {PACKAGES}`"
        )
    buf = io.BytesIO()
    digest = hashlib.sha256(json.dumps([recipe.name, recipe.changes, recipe.links, recipe.dirs]).encode())
    made: set[str] = set()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in recipe.dirs:
            _dir(tar, d, made)
        entries = [(recipe.target, binary.read_bytes(), 0o755)]
        entries += [(lib, Path(lib).read_bytes(), 0o755) for lib in libraries(recipe.binary)]
        entries += [(path, text.encode(), 0o644) for path, text in recipe.files]
        for path, data, mode in entries:
            _file(tar, path, data, mode, made)
            digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
        for link in recipe.links:
            info = tarfile.TarInfo(f"bin/{link}")
            info.type, info.linkname = tarfile.SYMTYPE, Path(recipe.target).name
            tar.addfile(info)
    return buf.getvalue(), digest.hexdigest()[:16]


def ensure(engine: Engine, recipe: Recipe) -> str:
    """The image for ``recipe``: the one an earlier run made from the same files, or a new import."""
    data, key = folder(recipe)
    tag = f"devctl-test/{recipe.name}:{key}"
    if engine.call("image", "inspect", tag).returncode == 0:
        return tag
    changes = [*recipe.changes, f"LABEL {IMAGE_LABEL}={recipe.name}"]
    engine.ok("import", *(a for c in changes for a in ("-c", c)), "-", tag, input=data)
    return tag


@dataclass(frozen=True)
class Images:
    busybox: str
    registry: str
    ctr: str


def build_all(engine: Engine) -> Images:
    return Images(ensure(engine, BUSYBOX), ensure(engine, REGISTRY), ensure(engine, CTR))
