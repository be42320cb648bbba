"""kubectl, always pinned to the devctl cluster's context.

Every call goes through ``Kubectl._argv``, which puts ``--context kind-<cluster>`` first: devctl must
never act on the user's current context (kind.md §4; skaffold.md §4 "always pass --kube-context", skaffold#812).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from devctl.errors import CommandError
from devctl.runner import Background, ChunkSink, LineSink, Result, Runner

# kubectl's text for a non-2xx answer whose body is not a Kubernetes Status (client-go
# rest/request.go newUnstructuredResponseError -> apimachinery errors.NewGenericServerResponse, 503
# case): e.g. a Service's own 503 through the service proxy. The answer's body is dropped. The API
# server's own 503s ("no endpoints available for service ...", "error trying to reach service: ...")
# carry their own messages instead.
BACKEND_UNAVAILABLE = "Error from server (ServiceUnavailable): the server is currently unable to handle the request"


# How a kubectl call found the cluster's API; `devctl status --json` and `cluster status` show these words.
ApiAccess = Literal["ok", "no-context", "unreachable", "unknown"]
API_OK: ApiAccess = "ok"
NO_CONTEXT: ApiAccess = "no-context"  # the kubeconfig has no such context (kind.md §8 "Kubeconfig entry lost")
UNREACHABLE: ApiAccess = "unreachable"  # the context exists but the API server does not answer
NOT_ASKED: ApiAccess = "unknown"  # e.g. no node runs, so there is nothing to ask

# client-go's clientcmd: "context was not found for specified context: X" (kubectl without -n, kind#3034),
# `context "X" does not exist` (with -n, and for apply and get --raw: docker-kubectl.md §3).
_CONTEXT_MISSING = re.compile(
    r"context was not found for specified context"
    r'|context "[^"]*" does not exist'
    r"|no context exists with the name"
)
# How kubectl prefixes what the API server said (an answer, whatever follows it).
_API_ANSWERED = "Error from server"
# kubectl's wordings for an API server that does not answer (docker-kubectl.md §3, kind.md §8).
_UNREACHABLE = (
    "The connection to the server",
    "Unable to connect to the server",
    "connection refused",
    "i/o timeout",
    "deadline exceeded",
    "handshake timeout",
)


def cluster_unreachable(text: str) -> ApiAccess | None:
    """NO_CONTEXT or UNREACHABLE when kubectl's output says it could not talk to the cluster at all; None
    when the failure was something else (the API answered: forbidden, not found, invalid...)."""
    if _API_ANSWERED in text:
        # e.g. "Error from server (InternalError): ... failed calling webhook ...: connect: connection
        # refused": a webhook refused, the API server itself answered.
        return None
    if _CONTEXT_MISSING.search(text):
        return NO_CONTEXT
    if any(marker in text for marker in _UNREACHABLE):
        return UNREACHABLE
    return None


class ClusterUnreachable(CommandError):
    """kubectl could not talk to the cluster at all (no such context, or its API server does not answer).

    Still a CommandError (callers that tell failures apart by text keep working), but reported as one line
    with the fix instead of kubectl's own output."""

    show_output = False  # the reason is in the message already

    def __init__(self, err: CommandError, access: ApiAccess, context: str) -> None:
        super().__init__(err.argv, err.returncode, err.stdout, err.stderr)
        lines = (err.stderr or err.stdout).strip().splitlines()
        why = lines[-1] if lines else f"kubectl exited {err.returncode}"
        self.access = access
        self.message = f"cannot reach the cluster through {context} ({why})"
        self.hint = "run `devctl up` to create or start it (`devctl status` shows what is there)"


def is_backend_unavailable(err: CommandError) -> bool:
    """The proxied backend itself answered 503 (see BACKEND_UNAVAILABLE)."""
    return BACKEND_UNAVAILABLE in err.stderr


class Kubectl:
    def __init__(self, runner: Runner, context: str) -> None:
        if not context:
            raise ValueError("a kube context is required")
        self.runner = runner
        self.context = context

    def _argv(self, args: Sequence[str]) -> list[str]:
        return ["kubectl", "--context", self.context, *args]

    # -- generic ---------------------------------------------------------------------------------

    def read(
        self,
        *args: str,
        input: str | None = None,
        timeout: float | None = None,
        ok_codes: Sequence[int] = (0,),
    ) -> Result:
        with self._reaching():
            return self.runner.output(self._argv(args), input=input, timeout=timeout, ok_codes=ok_codes)

    def change(
        self,
        *args: str,
        input: str | None = None,
        timeout: float | None = None,
        ok_codes: Sequence[int] = (0,),
    ) -> Result:
        with self._reaching():
            return self.runner.run(self._argv(args), input=input, timeout=timeout, ok_codes=ok_codes)

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        """kubectl's "could not talk to the cluster" becomes ClusterUnreachable; other failures stay as they are."""
        try:
            yield
        except CommandError as err:
            access = cluster_unreachable(err.stderr + err.stdout)
            if access is None:
                raise
            raise ClusterUnreachable(err, access, self.context) from None

    def stream(self, *args: str, on_stdout: LineSink, on_stderr: LineSink) -> Background:
        """A long-running call (``port-forward``) in its own process group, its lines to the callbacks."""
        return self.runner.start(self._argv(args), on_stdout=on_stdout, on_stderr=on_stderr)

    def interactive(self, *args: str) -> int:
        """In the foreground with the terminal attached (``exec -it``); kubectl's exit code."""
        return self.runner.interactive(self._argv(args))

    def exec(
        self,
        pod: str,
        container: str,
        command: Sequence[str],
        *,
        namespace: str,
        input: str | None = None,
        changes: bool = False,
        timeout: float | None = None,
    ) -> Result:
        """``kubectl exec [-i] <pod> -c <container> -- <command>``, its output captured. ``changes``: the command
        writes (under --dry-run it is only printed); ``input`` goes to its stdin."""
        args = ["exec", *(["-i"] if input is not None else []), pod, "-n", namespace, "-c", container, "--", *command]
        if changes:
            return self.change(*args, input=input, timeout=timeout)
        return self.read(*args, input=input, timeout=timeout)

    def stream_chunks(self, *args: str, on_chunk: ChunkSink, on_stderr: LineSink) -> Background:
        """``stream`` with stdout as raw byte chunks (``devctl logs``: throughput)."""
        return self.runner.start_chunks(self._argv(args), on_chunk=on_chunk, on_stderr=on_stderr)

    def argv(self, *args: str) -> list[str]:
        """The full command line for ``args`` (for messages that tell the user what to run)."""
        return self._argv(args)

    # -- reads -----------------------------------------------------------------------------------

    def get_json(
        self,
        resource: str,
        name: str | None = None,
        *,
        namespace: str | None = None,
        selector: str | None = None,
        all_namespaces: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any] | None:
        """The object (or List) as JSON; None when a named object does not exist."""
        args = ["get", resource]
        if name:
            args.append(name)
        if namespace:
            args += ["-n", namespace]
        if all_namespaces:
            args.append("-A")
        if selector:
            args += ["-l", selector]
        args += ["-o", "json"]
        if name:
            args.append("--ignore-not-found")
        res = self.read(*args, timeout=timeout)
        if not res.stdout.strip():
            return None
        data: dict[str, Any] = json.loads(res.stdout)
        return data

    def service_proxy_get(
        self, namespace: str, service: str, port: int | str, path: str, *, timeout: float | None = None
    ) -> str:
        """GET ``path`` from a Service through the API server's service proxy; the answer's body.

        ``kubectl get --raw`` raises CommandError for any non-2xx answer (see is_backend_unavailable).
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        raw = f"/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy{path}"
        return self.read("get", "--raw", raw, timeout=timeout).stdout

    def server_reachable(self, timeout: float = 10.0) -> bool:
        res = self.read("get", "--raw", "/readyz", timeout=timeout, ok_codes=range(256))
        return res.exit_code == 0 and res.stdout.strip() == "ok"

    def rollout_status(self, target: str, *, namespace: str, timeout_s: int) -> Result:
        """``kubectl rollout status <kind/name>``: watches until the rollout has finished; works
        before any pod exists (ingress-nginx.md §3 item 2). Exit 1 with "timed out waiting for the
        condition" after ``timeout_s`` seconds."""
        return self.read(
            "-n", namespace, "rollout", "status", target, f"--timeout={timeout_s}s", timeout=timeout_s + 15
        )

    # -- changes ---------------------------------------------------------------------------------

    def apply(self, manifest: str, *, server_dry_run: bool = False, timeout: float | None = None) -> Result:
        """Apply YAML given as text (``-f -``)."""
        args = ["apply", "-f", "-"]
        if server_dry_run:
            args.append("--dry-run=server")
            return self.read(*args, input=manifest, timeout=timeout)
        return self.change(*args, input=manifest, timeout=timeout)

    def create(self, manifest: str) -> Result:
        """``kubectl create -f -``: fails if the object exists; stores no last-applied annotation."""
        return self.change("create", "-f", "-", input=manifest)

    def replace(self, manifest: str) -> Result:
        return self.change("replace", "-f", "-", input=manifest)

    def apply_file(self, path: str, *, timeout: float | None = None) -> Result:
        return self.change("apply", "-f", path, timeout=timeout)

    def delete(self, resource: str, name: str, *, namespace: str | None = None) -> Result:
        args = ["delete", resource, name, "--ignore-not-found"]
        if namespace:
            args += ["-n", namespace]
        return self.change(*args)
