"""What one look at the cluster says of its Ingress controller, whichever controller it is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngressState:
    installed: bool
    controller_ready: bool
    admitting: bool  # ready, and its admission webhook can answer: Ingresses can be applied
    detail: str = ""  # what stands between it and admitting Ingresses
    leftover_webhook: bool = False  # a webhook configuration outlived its controller: every Ingress apply fails
