"""The real Docker engine as the docker tier's own code uses it: to set the scene, look, and clean up.

devctl's own docker calls go through devctl's adapter and the recording ``docker`` (record.py). The
helpers here are test tooling: they call the real client by its path and never go through the record.

Everything this run makes is named ``devctl-t<run id>-…`` and, where docker takes labels, labelled
``io.devctl.test.run=<run id>``; ``Engine.clean_up`` removes it all by that label and name, also after
a failure. Nothing of the user's (``kind-registry``, ``tour-control-plane``, other runs) is touched.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

RUN_ID = secrets.token_hex(4)
LABEL_KEY = "io.devctl.test.run"
LABEL = f"{LABEL_KEY}={RUN_ID}"
PREFIX = f"devctl-t{RUN_ID}"
# devctl connects its registry to this network by name (kind.md §6 step 4); kind creates it.
KIND_NETWORK = "kind"
COMMAND_TIMEOUT = 180.0  # an import of the registry image copies ~25 MB; the slowest call by far


class EngineError(AssertionError):
    """A docker call of the test tooling failed: the test's set-up is broken, not devctl."""


def real_clients(path: str | None = None) -> list[str]:
    """Every distinct real docker client on PATH, first one first (this repo's fake excluded).

    A Debian machine may have two: Docker's 28.x at /usr/local/bin and the 20.10 client the docker.io
    package brings at /usr/bin; devctl runs whichever comes first, so both are tried where texts differ.
    """
    fakes = (Path(__file__).resolve().parent.parent / "fakes").resolve()
    found: list[str] = []
    seen: set[Path] = set()
    for d in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        candidate = Path(d or ".") / "docker"
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            continue
        real = candidate.resolve()
        if real in seen or real.is_relative_to(fakes):
            continue
        seen.add(real)
        found.append(str(candidate))
    return found


@dataclass
class Engine:
    docker: str  # the real client the tooling uses (the first on PATH)
    tags: list[str] = field(default_factory=list)  # image names this run tagged, removed at the end
    _names: Iterator[int] = field(default_factory=itertools.count)

    # -- calls -------------------------------------------------------------------------------------

    def call(
        self, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None, docker: str = ""
    ) -> subprocess.CompletedProcess[str]:
        """Run docker, whatever it exits with."""
        data = input.encode() if isinstance(input, str) else input
        done = subprocess.run(
            [docker or self.docker, *args],
            input=data,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            env=env,
            check=False,
        )
        return subprocess.CompletedProcess(
            done.args, done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
        )

    def ok(self, *args: str, input: str | bytes | None = None, docker: str = "") -> str:
        """Run docker; it must succeed. Returns stdout, stripped."""
        done = self.call(*args, input=input, docker=docker)
        if done.returncode != 0:
            raise EngineError(f"docker {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout.strip()

    # -- names and things --------------------------------------------------------------------------

    def name(self, what: str) -> str:
        """A name nobody else uses: this run's prefix, a counter and what it is for."""
        return f"{PREFIX}-{next(self._names)}-{what}"

    def container(self, image: str, *cmd: str, name: str, options: Sequence[str] = ()) -> str:
        """A labelled container, started detached; returns its name."""
        self.ok("run", "-d", "--label", LABEL, "--name", name, *options, image, *cmd)
        return name

    def state(self, name: str) -> str:
        return self.ok("inspect", "--type", "container", "--format", "{{.State.Status}}", name)

    def inspect(self, name: str) -> dict[str, object]:
        data = json.loads(self.ok("inspect", "--type", "container", name))
        assert isinstance(data, list) and len(data) == 1
        return dict(data[0])

    def exists(self, name: str) -> bool:
        return self.call("inspect", "--type", "container", name).returncode == 0

    def tag(self, image: str, name: str) -> str:
        self.ok("tag", image, name)
        self.tags.append(name)
        return name

    def ensure_kind_network(self) -> None:
        """The `kind` network, as `kind create cluster` makes it; created (and labelled, so it is removed at
        the end) only when missing: a developer's own kind network is used as it is."""
        if self.call("network", "inspect", KIND_NETWORK).returncode != 0:
            self.ok("network", "create", "--label", LABEL, KIND_NETWORK)

    def network_members(self, network: str) -> list[str]:
        """Names of the containers on ``network`` (none when it does not exist)."""
        done = self.call("network", "inspect", "--format", "{{json .Containers}}", network)
        if done.returncode != 0:
            return []
        return sorted(str(c["Name"]) for c in (json.loads(done.stdout) or {}).values())

    # -- the end -----------------------------------------------------------------------------------

    def leftovers(self) -> list[str]:
        """What of this run still exists (containers, networks, volumes, images)."""
        found = []
        for what, argv in (
            ("container", ("ps", "-a", "--format", "{{.Names}}", "--filter", f"label={LABEL}")),
            ("container", ("ps", "-a", "--format", "{{.Names}}", "--filter", f"name={PREFIX}")),
            ("network", ("network", "ls", "--format", "{{.Name}}", "--filter", f"label={LABEL}")),
            ("volume", ("volume", "ls", "--format", "{{.Name}}", "--filter", f"label={LABEL}")),
            ("image", ("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", f"label={LABEL}")),
        ):
            found += [f"{what} {n}" for n in self.ok(*argv).splitlines() if n]
        known = set(self.ok("images", "--format", "{{.Repository}}:{{.Tag}}").splitlines())
        found += [f"image {t}" for t in self.tags if t in known]
        return sorted(set(found))

    def clean_up(self) -> list[str]:
        """Remove everything of this run; returns what could not be removed."""
        ids = set()
        for flt in (f"label={LABEL}", f"name={PREFIX}"):
            ids |= set(self.ok("ps", "-aq", "--filter", flt).split())
        if ids:
            self.call("rm", "-f", "-v", *sorted(ids))
        for net in self.ok("network", "ls", "-q", "--filter", f"label={LABEL}").split():
            self.call("network", "rm", net)  # fails while another run still uses a shared `kind`: fine
        for vol in self.ok("volume", "ls", "-q", "--filter", f"label={LABEL}").split():
            self.call("volume", "rm", "-f", vol)
        images = self.ok("images", "-q", "--filter", f"label={LABEL}").split()
        if self.tags or images:
            self.call("rmi", "-f", *self.tags, *sorted(set(images)))
        # A `kind` network this run created stays while another run (or kind) still has containers on it.
        shared = f"network {KIND_NETWORK}" if self.network_members(KIND_NETWORK) else None
        return [x for x in self.leftovers() if x != shared]
