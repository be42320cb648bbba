"""Which kubectl errors around the admission webhook are worth retrying (style.md Avoid 4: the only
place where the ingress install matches kubectl's error texts).

ingress-nginx.md §3: while ingress-nginx starts, the webhook configuration already exists with
``failurePolicy: Fail`` and the API server does not retry, so creating an Ingress fails with
``failed calling webhook ...`` and one of: connection refused, no endpoints available, context
deadline exceeded, x509 (caBundle not yet patched). Those pass; a *denial* (``denied the request``:
invalid paths, host+path already defined, §4) is a fact about the manifest and never passes by waiting.
"""

from __future__ import annotations

WEBHOOK_CALL_FAILED = "failed calling webhook"
DENIED = "denied the request"

# ingress-nginx.md §3: the variants of a webhook that cannot answer yet.
_WEBHOOK_NOT_READY = (
    "connection refused",
    "no endpoints available for service",
    "context deadline exceeded",
    "x509:",
)
# The API server itself not answering (kubectl's "The connection to the server <host:port> was refused";
# "dial tcp ...: connect: connection refused" from client-go), e.g. right after the node restarted.
_API_REFUSED = ("was refused - did you specify the right host or port?", "connect: connection refused")
# ingress-nginx.md §3 "Stale webhook configuration": the webhook's Service is gone for good.
_STALE = 'service "ingress-nginx-controller-admission" not found'


def is_denial(stderr: str) -> bool:
    """The webhook answered and rejected the object (ingress-nginx.md §4)."""
    return DENIED in stderr


def is_transient(stderr: str) -> bool:
    """True for errors that go away once the controller is up; never for a denial."""
    if is_denial(stderr):
        return False
    if WEBHOOK_CALL_FAILED in stderr:
        return any(marker in stderr for marker in _WEBHOOK_NOT_READY)
    return any(marker in stderr for marker in _API_REFUSED)


def is_stale_webhook(stderr: str) -> bool:
    """The webhook configuration points at a Service that no longer exists (a left-over install)."""
    return WEBHOOK_CALL_FAILED in stderr and _STALE in stderr


def is_not_found(stderr: str) -> bool:
    """kubectl's ``Error from server (NotFound): <resource> "<name>" not found``."""
    return "Error from server (NotFound)" in stderr


def is_wait_timeout(stderr: str) -> bool:
    """``rollout status --timeout`` ran out (ingress-nginx.md §3 item 2)."""
    return "timed out waiting for the condition" in stderr
