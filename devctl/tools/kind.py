"""kind: cluster lifecycle. Facts in kind.md §2-§3 (streams, texts, exit codes).

kind runs docker for everything; when docker cannot reach the daemon, kind's error quotes docker's words
after `Command Output:` (kind.md §2; create says "failed to get docker info", delete "error listing nodes"),
so every failed call is read by docker's one judge of that fact and raised as DockerDown or
DockerAccessDenied instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from devctl.errors import CommandError
from devctl.runner import Result, Runner
from devctl.tools.docker import classify

# kind.md §3.1 item 1: a create against an existing cluster fails with this text (exit 1).
ALREADY_EXISTS = "node(s) already exist for a cluster with the name"


def is_already_exists(err: CommandError) -> bool:
    """kind's error for a cluster that already exists (we treat it as "exists": races)."""
    return ALREADY_EXISTS in err.stderr or ALREADY_EXISTS in err.stdout


class Kind:
    def __init__(self, runner: Runner, env: Mapping[str, str] | None = None) -> None:
        self.runner = runner
        # The environment of `kind create`: kind passes its proxy variables into the nodes (devctl.proxy).
        self.env = env

    def _output(self, argv: list[str]) -> Result:
        try:
            return self.runner.output(argv)
        except CommandError as err:
            down = classify(err)
            if down is not None:
                raise down from None
            raise

    def _run(
        self,
        argv: list[str],
        *,
        input: str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        try:
            return self.runner.run(argv, input=input, timeout=timeout, env=env)
        except CommandError as err:
            down = classify(err)
            if down is not None:
                raise down from None
            raise

    def version(self) -> str:
        # kind.md §1: `kind version -q` prints only the semver.
        return self._output(["kind", "version", "-q"]).stdout.strip()

    def get_clusters(self) -> list[str]:
        # kind.md §3: names on stdout, "No kind clusters found." on stderr when none.
        out = self._output(["kind", "get", "clusters"]).stdout
        return [ln.strip() for ln in out.splitlines() if ln.strip()]

    def create_cluster(
        self, name: str, config_yaml: str, *, image: str | None = None, timeout: float | None = None
    ) -> Result:
        argv = ["kind", "create", "cluster", "--name", name, "--config", "-"]
        if image:
            argv += ["--image", image]
        return self._run(argv, input=config_yaml, timeout=timeout, env=self.env)

    def delete_cluster(self, name: str) -> Result:
        # kind.md §3: idempotent, like rm -f.
        return self._run(["kind", "delete", "cluster", "--name", name])

    def export_kubeconfig(self, name: str) -> Result:
        return self._run(["kind", "export", "kubeconfig", "--name", name])
