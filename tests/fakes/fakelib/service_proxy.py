"""The API server's service proxy as `kubectl get --raw /api/v1/namespaces/NS/services/SVC[:PORT]/proxy/PATH`.

The fake cluster has no pods, so a test says where a Service's endpoints are: the knob
``service_proxy`` maps a Service name to a local base URL (``{"auth": "http://127.0.0.1:PORT"}``)
and the fake does the HTTP GET itself. What it models (general knowledge of the Kubernetes API
server, pkg/registry/core/service/proxy ResourceLocation, and of kubectl/client-go, cited per line):

- a Service that does not exist: NotFound; a port number the Service does not declare:
  `no service port N found for service "SVC"`; no registered backend (no ready endpoints):
  `no endpoints available for service "SVC"` — all ServiceUnavailable Status errors of the API server;
- a backend that refuses the connection: `error trying to reach service: dial tcp ...: connect:
  connection refused` (apimachinery util/proxy transport);
- a 2xx answer: its body on stdout (kubectl rawhttp.RawGet copies the stream);
- any other answer: kubectl drops the body and prints client-go's generic message for the status
  (rest/request.go newUnstructuredResponseError -> errors.NewGenericServerResponse); the body is
  shown only for text/* answers of codes whose message quotes it.
"""

from __future__ import annotations

import http.client
import json
import re
import sys
from typing import Any
from urllib.parse import urlsplit

from fakelib import cluster_objects as co
from fakelib import state

PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/services/([^/]+)/proxy(/.*)?$")

# errors.NewGenericServerResponse: status -> (reason, message); "" reason prints "Error from server: ...".
_GENERIC = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "the server has asked for the client to provide credentials"),
    404: ("NotFound", "the server could not find the requested resource"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    409: ("Conflict", "the server reported a conflict"),
    422: ("Invalid", "the server rejected our request due to an error in our request"),
    429: ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, but may still be "
                     "processing the request"),
}


class ProxyError(Exception):
    pass


def _unavailable(message: str) -> ProxyError:
    return ProxyError(f"Error from server (ServiceUnavailable): {message}")


def _generic(code: int, content_type: str, body: bytes) -> ProxyError:
    # isTextResponse: no Content-Type, or text/*; otherwise the server message is "unknown".
    text = not content_type or content_type.split(";")[0].strip().lower().startswith("text/")
    server_message = body[:2048].decode("utf-8", "replace").strip() if text else "unknown"
    if code in _GENERIC:
        reason, message = _GENERIC[code]
    elif code >= 500:  # Go's %q of the server message
        reason = "InternalError"
        message = f"an error on the server ({json.dumps(server_message)}) has prevented the request from succeeding"
    else:
        reason, message = "", f"the server responded with the status code {code} but did not return more information"
    return ProxyError(f"Error from server ({reason}): {message}" if reason else f"Error from server: {message}")


def _service(objs: dict[str, Any], namespace: str, ident: str) -> tuple[str, str]:
    # utilnet.SplitSchemeNamePort: "name", "name:port" or "scheme:name:port".
    parts = ident.split(":")
    if len(parts) == 3:
        parts = parts[1:]
    if not 1 <= len(parts) <= 2 or not parts[0]:
        raise ProxyError(f'Error from server (BadRequest): invalid service request "{ident}"')
    name, port = parts[0], (parts[1] if len(parts) == 2 else "")
    svc = objs.get(co.key("Service", namespace, name))
    if svc is None:
        raise ProxyError(f'Error from server (NotFound): services "{name}" not found')
    if port.isdigit() and not any(int(port) == p.get("port") for p in svc.get("spec", {}).get("ports") or []):
        raise _unavailable(f'no service port {port} found for service "{name}"')
    return name, port


def get(raw: str, objs: dict[str, Any], timeout: float = 10.0) -> str:
    """The body kubectl prints for service-proxy path `raw`; raises ProxyError where kubectl fails."""
    m = PATH.match(raw)
    if m is None:
        raise ValueError(f"not a service proxy path: {raw}")
    namespace, ident, path = m.group(1), m.group(2), m.group(3) or "/"
    name, _ = _service(objs, namespace, ident)
    backends = state.knob("service_proxy", {}) or {}
    base = backends.get(name)
    if not base:
        raise _unavailable(f'no endpoints available for service "{name}"')
    target = urlsplit(base)
    conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
    except ConnectionRefusedError:
        raise _unavailable(f"error trying to reach service: dial tcp {target.netloc}: connect: connection refused") \
            from None
    except OSError as err:
        raise _unavailable(f"error trying to reach service: dial tcp {target.netloc}: {err}") from None
    finally:
        conn.close()
    if not 200 <= resp.status < 300:
        raise _generic(resp.status, resp.getheader("Content-Type") or "", body)
    return body.decode("utf-8", "replace")


def write_or_fail(raw: str, objs: dict[str, Any]) -> int:
    """`kubectl get --raw RAW` for a service-proxy path: the body and 0, or kubectl's error and 1."""
    try:
        body = get(raw, objs)
    except ProxyError as err:
        sys.stderr.write(f"{err}\n")
        return 1
    sys.stdout.write(body)
    return 0
