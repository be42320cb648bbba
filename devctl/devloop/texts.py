"""What both views of the dev loop say: the run's frame, the keys, the loop's state, the last line."""

from __future__ import annotations

from dataclasses import dataclass

from devctl import prefixes
from devctl.devloop.model import DevModel
from devctl.devloop.supervisor import Outcome

SKAFFOLD = "skaffold"
DEVCTL = "devctl"


# skaffold pkg/skaffold/docker/image.go Push: `could not push image "<ref>": <Docker's error>`; Docker's error
# when nothing answers on the registry's host port (docker push against a closed port, Docker 20.10).
PUSH_FAILED = "could not push image"
_NO_ANSWER = ("connection refused", "connection reset", "EOF", "i/o timeout", "no such host")


@dataclass(frozen=True)
class Frame:
    """What does not change during a run."""

    url: str
    keep: bool
    names: tuple[str, ...]  # the services, in the stack's order (colours and alignment)
    registry: str = "kind-registry"  # the local registry Skaffold pushes to (the cluster's ConfigMap names it)
    registry_port: int = 5001

    def explain(self, reason: str) -> str:
        """Skaffold's reason, with the fix when a push to the local registry found nobody answering: the
        registry container stopped or went away, and `devctl up` starts or recreates it."""
        host = f"localhost:{self.registry_port}/"
        if PUSH_FAILED in reason and host in reason and any(m in reason for m in _NO_ANSWER):
            return (
                f"{reason} — the local registry {self.registry} (localhost:{self.registry_port}) does not "
                "answer: run `devctl up`, which starts it again"
            )
        return reason

    @property
    def width(self) -> int:
        return max(prefixes.width(self.names), len(SKAFFOLD))


def keys_text(keep: bool) -> str:
    stop = "stop (deployed objects stay)" if keep else "stop and clean up"
    return f"Ctrl-C: {stop} · Ctrl-C twice: kill now"


def state_text(model: DevModel) -> str:
    it = f"iteration {model.iteration}" if model.iteration else ""
    if model.loop == "ready":
        return f"ready ({it})" if it else "ready"
    if model.loop == "running":
        return f"{it}: {model.phase or 'working'}…" if it else f"{model.phase or 'working'}…"
    if model.loop == "failed":
        return f"{it} failed" if it else "failed"
    if model.loop == "cleaning up":
        return "cleaning up…"
    return "starting…"


def summary(outcome: Outcome, model: DevModel, frame: Frame) -> tuple[str, bool]:
    """The last line of a run and whether it reports a failure."""
    if outcome.killed:
        why = "the cleanup timed out" if outcome.timed_out else "Ctrl-C was pressed twice"
        return (
            f"killed Skaffold's process group ({why}); deployed objects may remain — "
            "run `devctl dev` again and stop it once, or `devctl down`",
            True,
        )
    if outcome.interrupted and outcome.exit_code == 0:
        return ("stopped; deployed objects left in place (--keep)" if frame.keep else "stopped and cleaned up"), False
    if outcome.exit_code == 0:
        return "skaffold dev finished", False
    reason = frame.explain(model.reason()) or "see Skaffold's output above"
    return f"skaffold dev failed (exit {outcome.exit_code}): {reason}", True
