"""Which kubectl errors around ingress-nginx's admission webhook are retried: the texts of
ingress-nginx.md §3 (start-up race) pass, the denials of §4 never do."""

from __future__ import annotations

import pytest

from devctl.ingress.transient import is_denial, is_not_found, is_stale_webhook, is_transient, is_wait_timeout

_CALL = (
    'Error from server (InternalError): error when creating "x.yaml": Internal error occurred: failed calling '
    'webhook "validate.nginx.ingress.kubernetes.io": failed to call webhook: Post '
    '"https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s": '
)

# ingress-nginx.md §3: the symptom and its variants while the controller starts.
STARTING = {
    "connection refused": _CALL + "dial tcp 10.96.12.34:443: connect: connection refused",
    "no endpoints": _CALL + 'no endpoints available for service "ingress-nginx-controller-admission"',
    "deadline": _CALL + "context deadline exceeded",
    "x509": _CALL + "tls: failed to verify certificate: x509: certificate signed by unknown authority",
    "x509 short": _CALL + "x509: certificate signed by unknown authority",
    # The API server itself not answering (kubectl's own text; e.g. the node is still starting).
    "api refused": "The connection to the server 127.0.0.1:40123 was refused - did you specify the right host or port?",
    "api dial refused": 'Unable to connect to the server: dial tcp 127.0.0.1:40123: connect: connection refused',
}

# ingress-nginx.md §4 (texts as kubectl prints them, kind PR #3764, ingress-nginx#8216).
DENIALS = {
    "invalid path": (
        "Warning: path /foo(/|$)(.*) cannot be used with pathType Prefix\n"
        'Error from server (BadRequest): error when creating "usage.yaml": admission webhook '
        '"validate.nginx.ingress.kubernetes.io" denied the request: ingress contains invalid paths: '
        "path /foo(/|$)(.*) cannot be used with pathType Prefix\npath /bar(/|$)(.*) cannot be used with pathType Prefix"
    ),
    "overlap": (
        'Error from server (BadRequest): error when creating "STDIN": admission webhook '
        '"validate.nginx.ingress.kubernetes.io" denied the request: host "tour.xyz" and path "/?(.*)" is already '
        "defined in ingress default/other"
    ),
    # A denial whose reason happens to mention a transient word is still a denial.
    "denial mentioning x509": (
        'Error from server (BadRequest): admission webhook "validate.nginx.ingress.kubernetes.io" denied the '
        "request: failed calling webhook x509: connection refused"
    ),
}

STALE = _CALL + 'service "ingress-nginx-controller-admission" not found'


@pytest.mark.parametrize("text", STARTING.values(), ids=STARTING.keys())
def test_startup_errors_of_the_webhook_are_transient(text: str) -> None:
    assert is_transient(text)
    assert not is_denial(text)


@pytest.mark.parametrize("text", DENIALS.values(), ids=DENIALS.keys())
def test_denials_are_never_transient(text: str) -> None:
    assert is_denial(text)
    assert not is_transient(text)


def test_a_stale_webhook_configuration_is_not_waited_for_but_recognised() -> None:
    # §3: its Service is gone for good; waiting cannot help, removing the configuration does.
    assert not is_transient(STALE)
    assert is_stale_webhook(STALE)
    assert not any(is_stale_webhook(t) for t in STARTING.values())


@pytest.mark.parametrize(
    "text",
    [
        # kubectl cannot even talk to the API server: a kubeconfig problem, not the webhook starting.
        "Unable to connect to the server: x509: certificate signed by unknown authority",
        'Error from server (NotFound): deployments.apps "ingress-nginx-controller" not found',
        'error: error validating "STDIN": error validating data: [apiVersion not set, kind not set]',
        "",
    ],
)
def test_other_errors_are_not_transient(text: str) -> None:
    assert not is_transient(text)


def test_rollout_timeout_and_not_found_are_recognised() -> None:
    assert is_wait_timeout("error: timed out waiting for the condition")
    assert not is_wait_timeout(STARTING["deadline"])
    assert is_not_found('Error from server (NotFound): deployments.apps "ingress-nginx-controller" not found')
    assert not is_not_found(STALE), "a webhook's missing Service is not the object itself missing"
