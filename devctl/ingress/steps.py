"""The `up` step that leaves an Ingress controller admitting Ingresses.

Applying the project's Ingress is Skaffold's job (it applies ``k8s/``); a step that deploys the stack
must therefore run after this one (``needs=("ingress",)``), which is what makes the webhook race
(ingress-nginx.md §3) impossible.
"""

from __future__ import annotations

from dataclasses import dataclass

from devctl.context import Context
from devctl.ingress import IngressController, controller_for
from devctl.workflows.steps import Step


@dataclass
class IngressStep:
    """check = the warm path (<= 2 kubectl calls), apply = install and the four-stage wait."""

    controller: IngressController | None = None  # None: the one the configuration selects
    name: str = "ingress"
    title: str = "Ingress controller"
    needs: tuple[str, ...] = ("cluster",)

    def _controller(self, ctx: Context) -> IngressController:
        return self.controller if self.controller is not None else controller_for(ctx.cfg)

    def check(self, ctx: Context) -> str | None:
        return self._controller(ctx).is_admitting(ctx)

    def apply(self, ctx: Context) -> str:
        return self._controller(ctx).ensure(ctx)

    def describe(self, ctx: Context) -> list[str]:
        return self._controller(ctx).describe(ctx)


def ingress_steps(controller: IngressController | None = None) -> list[Step]:
    return [IngressStep(controller)]
