"""devctl.tools.kubectl: the one judge of "kubectl could not talk to the cluster"."""

from __future__ import annotations

import pytest

from devctl.tools.kubectl import NO_CONTEXT, UNREACHABLE, cluster_unreachable


@pytest.mark.parametrize(
    ("stderr", "missing", "unreachable"),
    [
        # kind#3034: what kubectl prints for a --context that is not in the kubeconfig.
        ("Error in configuration: context was not found for specified context: kind-tour", True, False),
        # clientcmd's other wording (and the fake's).
        ('error: context "kind-tour" does not exist', True, False),
        # kind.md §8: a stopped node refuses the connection.
        (
            "The connection to the server 127.0.0.1:40123 was refused - did you specify the right host or port?",
            False,
            True,
        ),
        ("Unable to connect to the server: dial tcp 127.0.0.1:40123: i/o timeout", False, True),
        ('Error from server (Forbidden): configmaps is forbidden: User "x" cannot list resource', False, False),
        # docker-kubectl.md §3: an unreachable `get` prints memcache.go lines before the last one.
        (
            'E1207 10:00:00.000000  1 memcache.go:265] "Unhandled Error" err="couldn\'t get current server API group '
            'list: Get \\"https://127.0.0.1:40123/api\\": dial tcp 127.0.0.1:40123: connect: connection refused"\n'
            "The connection to the server 127.0.0.1:40123 was refused - did you specify the right host or port?",
            False,
            True,
        ),
        ('Error from server (NotFound): pods "auth-1" not found', False, False),
        # ingress-nginx.md §3: the webhook refused; the API server answered and said so.
        (
            'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed '
            'calling webhook "validate.nginx.ingress.kubernetes.io": failed to call webhook: Post '
            '"https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s":'
            " dial tcp 10.96.1.2:443: connect: connection refused",
            False,
            False,
        ),
    ],
    ids=[
        "context not found",
        "context does not exist",
        "refused",
        "timeout",
        "forbidden",
        "memcache",
        "not found",
        "webhook refused",
    ],
)
def test_kubectl_failures_are_told_apart(stderr: str, missing: bool, unreachable: bool) -> None:
    want = NO_CONTEXT if missing else UNREACHABLE if unreachable else None
    assert cluster_unreachable(stderr) == want
