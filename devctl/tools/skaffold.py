"""skaffold, always pinned with --kube-context kind-<cluster> (skaffold.md §2, §4; skaffold#812)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from devctl.runner import Background, LineSink, Result, Runner

# Skaffold's global config format (`global:` settings, `kubeContexts:` overrides), with nothing set: given
# with -c, it keeps the user's local-cluster / default-repo / kind-disable-load out (skaffold.md §2).
PRIVATE_GLOBAL_CONFIG = "# devctl's private Skaffold config (-c): nothing set\nglobal: {}\nkubeContexts: []\n"


def write_global_config(directory: Path) -> Path:
    path = directory / "skaffold-config.yaml"
    path.write_text(PRIVATE_GLOBAL_CONFIG, encoding="utf-8")
    return path


def scrubbed_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without inherited SKAFFOLD_* variables (skaffold.md §2: every flag has one)."""
    src = os.environ if env is None else env
    return {k: v for k, v in src.items() if not k.startswith("SKAFFOLD_")}


class Skaffold:
    def __init__(
        self,
        runner: Runner,
        context: str,
        *,
        global_config: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        if not context:
            raise ValueError("a kube context is required")
        self.runner = runner
        self.context = context
        self.global_config = global_config
        # Set on top of the scrubbed environment: the proxy variables skaffold.yaml's buildArgs read (devctl.proxy).
        self.extra_env = dict(extra_env or {})

    def with_global_config(self, path: str) -> Skaffold:
        """The same adapter with a private global config (-c)."""
        return Skaffold(self.runner, self.context, global_config=path, extra_env=self.extra_env)

    def env(self) -> dict[str, str]:
        return {**scrubbed_env(), **self.extra_env}

    def _argv(self, command: str, args: Sequence[str]) -> list[str]:
        argv = ["skaffold", command, "--kube-context", self.context]
        if self.global_config:
            argv += ["-c", self.global_config]
        return [*argv, *args]

    def version(self) -> str:
        # `skaffold version` has no cluster flags; it never talks to a cluster.
        return self.runner.output(["skaffold", "version"], env=scrubbed_env()).stdout.strip()

    def config_version(self) -> str:
        """The newest apiVersion this binary accepts (skaffold.md §1)."""
        res = self.runner.output(["skaffold", "version", "-o", "{{.ConfigVersion}}"], env=scrubbed_env())
        return res.stdout.strip()

    def argv(self, command: str, *args: str) -> list[str]:
        return self._argv(command, args)

    def read(self, command: str, *args: str, timeout: float | None = None) -> Result:
        return self.runner.output(self._argv(command, args), env=self.env(), timeout=timeout)

    def change(self, command: str, *args: str, timeout: float | None = None) -> Result:
        return self.runner.run(self._argv(command, args), env=self.env(), timeout=timeout)

    def start(
        self, command: str, *args: str, on_stdout: LineSink, on_stderr: LineSink, cwd: str | None = None
    ) -> Background:
        return self.runner.start(
            self._argv(command, args), on_stdout=on_stdout, on_stderr=on_stderr, env=self.env(), cwd=cwd
        )
