"""docker: daemon checks, the registry container, kind node containers. Facts in kind.md §4, §6."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from devctl.errors import CommandError, DevctlError
from devctl.runner import Result, Runner

# kind.md §2: what the docker CLI says when the daemon is not running.
DAEMON_DOWN_MARKERS = (
    "Cannot connect to the Docker daemon",
    "error during connect",
    "Is the docker daemon running",
)


def is_daemon_down(err: CommandError) -> bool:
    text = err.stderr + err.stdout
    return any(m in text for m in DAEMON_DOWN_MARKERS)


class DockerDown(DevctlError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the Docker daemon is not reachable ({detail})",
            hint="start Docker (Docker Desktop, or `sudo systemctl start docker`) and run the command again",
        )


class Docker:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def client_version(self) -> str:
        return self.runner.output(
            ["docker", "version", "--format", "{{.Client.Version}}"], ok_codes=range(256)
        ).stdout.strip()

    def server_version(self, timeout: float = 20.0) -> str:
        """The daemon's version; raises DockerDown when it does not answer."""
        try:
            res = self.runner.output(["docker", "info", "--format", "{{json .ServerVersion}}"], timeout=timeout)
        except CommandError as err:
            lines = (err.stderr or err.stdout).strip().splitlines()
            raise DockerDown(lines[-1] if lines else f"docker info exited {err.returncode}") from err
        value = res.stdout.strip()
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        return str(parsed)

    def inspect(self, name: str) -> dict[str, Any] | None:
        """``docker inspect`` of one container, or None when it does not exist."""
        res = self.runner.output(["docker", "inspect", "--type", "container", name], ok_codes=(0, 1))
        if res.exit_code != 0:
            if "No such" in res.stderr or "no such" in res.stderr:
                return None
            raise CommandError(res.argv, res.exit_code, res.stdout, res.stderr)
        data = json.loads(res.stdout or "[]")
        return data[0] if data else None

    def containers(self, label: str) -> list[tuple[str, str]]:
        """(name, state) of all containers, stopped ones too, carrying ``label`` (kind.md §4 probe)."""
        out = self.runner.output(
            ["docker", "ps", "-a", "--filter", f"label={label}", "--format", "{{.Names}}\t{{.State}}"]
        ).stdout
        rows = []
        for line in out.splitlines():
            if "\t" in line:
                name, state = line.split("\t", 1)
                rows.append((name.strip(), state.strip()))
        return rows

    def run_detached(self, args: Sequence[str]) -> Result:
        return self.runner.run(["docker", "run", "-d", *args])

    def start(self, names: Sequence[str]) -> Result:
        return self.runner.run(["docker", "start", *names])

    def remove(self, name: str) -> Result:
        return self.runner.run(["docker", "rm", "-f", name])

    def network_connect(self, network: str, container: str) -> Result:
        return self.runner.run(["docker", "network", "connect", network, container])

    def exec(self, container: str, argv: Sequence[str], *, input: str | None = None) -> Result:
        flags = ["-i"] if input is not None else []
        return self.runner.run(["docker", "exec", *flags, container, *argv], input=input)
