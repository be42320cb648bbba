"""The Ingress controller behind one small interface.

ingress-nginx was retired in March 2026 (ingress-nginx.md §1): it still works and its installation
artifacts stay available, but another controller (ingress-nginx.md §6) will have to replace it. The rest
of devctl only knows ``IngressController`` and ``controller_for``; a new controller is one new module
here and one line in ``controller_for``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from devctl.ingress.nginx import NginxController

if TYPE_CHECKING:
    from devctl.config import Config
    from devctl.context import Context


class IngressController(Protocol):
    name: str

    def is_admitting(self, ctx: Context) -> str | None:
        """A reason when the controller is installed and admits Ingresses (cheap: at most 2 kubectl
        calls, for the warm ``up`` budget), else None. Raises only for a fact no install can fix."""
        ...

    def ensure(self, ctx: Context) -> str:
        """Install (or repair) the controller and wait until it admits Ingresses, within
        ``ctx.cfg.ingress_timeout``; a short note for the report."""
        ...

    def describe(self, ctx: Context) -> list[str]:
        """What ``ensure`` would run, for --dry-run."""
        ...

    def diagnostics(self, ctx: Context) -> list[str]:
        """Lines that help to see why the controller is not ready (pods, recent events)."""
        ...


def controller_for(cfg: Config) -> IngressController:
    """The controller devctl installs (only ingress-nginx today)."""

    return NginxController()
