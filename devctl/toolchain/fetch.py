"""HTTP downloads of release files: through DEVCTL_TOOLS_MIRROR when set, through the proxies the standard
variables name (urllib's ProxyHandler reads HTTP(S)_PROXY and NO_PROXY), hashed while they stream.

Every failure is one ``ToolInstallError`` naming the URL, what went wrong (an HTTP status, a refused
connection, a body cut short) and the mirror setting, since a wrong mirror is the usual cause.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import ssl
import urllib.error
import urllib.request
from typing import BinaryIO
from urllib.parse import urlsplit, urlunsplit

from devctl import __version__
from devctl.errors import ToolInstallError
from devctl.toolchain.progress import DownloadProgress

MIRROR_VAR = "DEVCTL_TOOLS_MIRROR"
CHUNK = 64 * 1024
TIMEOUT = 30.0  # seconds without a byte before a download counts as failed
MAX_TEXT = 64 * 1024  # a checksum file is one line


def check_mirror(value: str) -> str:
    """A mirror base URL: http(s), a host, optionally a path prefix (ValueError otherwise)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("must be an http(s) base URL such as https://mirror.example.com (a path prefix is kept)")
    return value.rstrip("/")


def with_mirror(url: str, mirror: str) -> str:
    """``url`` with its scheme and host replaced by the mirror's; the path is kept (after the mirror's own
    path prefix, if it has one)."""
    if not mirror:
        return url
    m, u = urlsplit(mirror), urlsplit(url)
    return urlunsplit((m.scheme, m.netloc, m.path.rstrip("/") + u.path, u.query, ""))


class Fetcher:
    def __init__(self, mirror: str = "", timeout: float = TIMEOUT) -> None:
        self.mirror = mirror
        self.timeout = timeout
        # Its own opener, whose ProxyHandler reads the proxy variables now (urlopen's shared one keeps
        # whatever they were at the process's first download).
        self._opener = urllib.request.build_opener()

    def download(self, url: str, out: BinaryIO, progress: DownloadProgress, label: str) -> str:
        """Stream ``url`` (through the mirror) into ``out``; return the SHA-256 of what arrived."""
        where = with_mirror(url, self.mirror)
        digest = hashlib.sha256()
        received = 0
        with self._open(where) as response:
            total = _length(response)
            progress.begin(label, where, total)
            ok = False
            try:
                while True:
                    chunk = self._read(response, where, received, total)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    progress.advance(len(chunk))
                # http.client returns b"" when the connection closes early instead of raising.
                if total is not None and received < total:
                    raise self._error(where, f"the connection closed after {received} of {total} bytes")
                ok = True
            finally:
                progress.end(ok)
        return digest.hexdigest()

    def text(self, url: str, *, via_mirror: bool) -> str:
        """A small text file (a published checksum), from the mirror or, with ``via_mirror=False``, from
        the URL's own origin whatever the mirror setting."""
        where = with_mirror(url, self.mirror) if via_mirror else url
        with self._open(where, mirrored=via_mirror) as response:
            data = b""
            while len(data) <= MAX_TEXT:
                chunk = self._read(response, where, len(data), None)
                if not chunk:
                    break
                data += chunk
        if len(data) > MAX_TEXT:
            raise self._error(where, f"more than {MAX_TEXT} bytes: not a checksum file", mirrored=via_mirror)
        return data.decode("utf-8", errors="replace")

    # -- internals -------------------------------------------------------------------------------

    def _open(self, url: str, *, mirrored: bool = True) -> http.client.HTTPResponse:
        request = urllib.request.Request(url, headers={"User-Agent": f"devctl/{__version__}"})
        try:
            response: http.client.HTTPResponse = self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            err.close()
            raise self._error(url, f"HTTP {err.code} {err.reason}", mirrored=mirrored) from None
        except urllib.error.URLError as err:
            raise self._error(url, _reason(err.reason), mirrored=mirrored) from None
        except (OSError, http.client.HTTPException) as err:
            raise self._error(url, _reason(err), mirrored=mirrored) from None
        return response

    def _read(self, response: http.client.HTTPResponse, url: str, received: int, total: int | None) -> bytes:
        try:
            return response.read(CHUNK)
        except http.client.IncompleteRead as err:  # a chunked body cut short
            got = received + len(err.partial)
            of = f" of {total}" if total else ""
            raise self._error(url, f"the connection closed after {got}{of} bytes") from None
        except (OSError, http.client.HTTPException) as err:
            raise self._error(url, f"{_reason(err)} after {received} bytes") from None

    def _error(self, url: str, what: str, *, mirrored: bool = True) -> ToolInstallError:
        if not mirrored:
            setting = f"fetched from the upstream origin, not through {MIRROR_VAR}"
        elif self.mirror:
            setting = f"{MIRROR_VAR}={self.mirror}"
        else:
            setting = f"{MIRROR_VAR} not set"
        if not mirrored:
            hint = "check the network or proxy (HTTPS_PROXY, NO_PROXY): a published checksum is read from upstream only"
        elif self.mirror:
            hint = f"check that the mirror serves the upstream paths, or unset {MIRROR_VAR}"
        else:
            hint = f"check the network or proxy (HTTPS_PROXY, NO_PROXY), or set {MIRROR_VAR} to a mirror of the files"
        return ToolInstallError(f"download of {url} failed: {what} ({setting})", hint=hint)


def _length(response: http.client.HTTPResponse) -> int | None:
    value = response.getheader("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve the host ({reason.strerror})"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error ({reason.reason or reason})"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "the server closed the connection without a response"
    if isinstance(reason, ConnectionResetError):
        return "the connection was reset"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__
