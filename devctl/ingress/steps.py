"""The `up` step that leaves an Ingress controller admitting Ingresses.

Applying the project's Ingress is Skaffold's job (it applies ``k8s/``); a step that deploys the stack
must therefore run after this one (``needs=("ingress",)``), which is what makes the webhook race
(ingress-nginx.md §3) impossible.
"""

from __future__ import annotations

from dataclasses import dataclass

from devctl.context import Context
from devctl.ingress import IngressController, controller_for
from devctl.ingress.state import IngressState
from devctl.workflows.steps import Step


@dataclass
class IngressStep:
    """check = the warm path (<= 2 kubectl calls), apply = install and the four-stage wait."""

    controller: IngressController | None = None  # None: the one the configuration selects
    name: str = "ingress"
    title: str = "Ingress controller"
    needs: tuple[str, ...] = ("cluster",)
    seen: IngressState | None = None  # what check found, so apply starts from it instead of asking again

    def _controller(self, ctx: Context) -> IngressController:
        return self.controller if self.controller is not None else controller_for(ctx.cfg)

    def check(self, ctx: Context) -> str | None:
        controller = self._controller(ctx)
        self.seen = controller.observe(ctx)
        return controller.is_admitting(ctx, self.seen)

    def apply(self, ctx: Context) -> str:
        return self._controller(ctx).ensure(ctx, self.seen)

    def describe(self, ctx: Context) -> list[str]:
        return self._controller(ctx).describe(ctx)


def ingress_steps(controller: IngressController | None = None) -> list[Step]:
    return [IngressStep(controller)]
