"""`devctl tools install` (and the first step of `devctl up`): put each pinned tool that is missing from
the store there, verified against the lock.

Only a binary whose SHA-256 the lock names is installed. Where the lock has none for this platform, the
install is refused, unless the user passes ``trust_published``: then the checksum file upstream publishes
next to the binary is fetched from the upstream origin, never through the mirror (a mirror that served
both the binary and its checksum would vouch for itself), and a warning says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from devctl.errors import ToolInstallError
from devctl.toolchain.catalog import TOOLS, parse_checksum_file
from devctl.toolchain.fetch import MIRROR_VAR, Fetcher, with_mirror
from devctl.toolchain.platforms import current_platform
from devctl.toolchain.progress import DownloadProgress
from devctl.toolchain.resolve import Toolchain, Wanted
from devctl.toolchain.store import StoreEntry

Say = Callable[[str], None]


class MissingChecksum(ToolInstallError):
    """The lock has no checksum for a pinned tool on this platform, and the user did not trust upstream's."""


@dataclass(frozen=True)
class Installed:
    tool: str
    version: str
    binary: str
    sha256: str
    downloaded: bool


def missing(tc: Toolchain) -> list[Wanted]:
    """The pinned tools not in the store yet (reads only)."""
    out = []
    for tool in tc.pins.pinned():
        wanted = tc.wanted(tool)
        if wanted is not None and tc.store.find(tool, wanted.version, wanted.sha256) is None:
            out.append(wanted)
    return out


def install(
    tc: Toolchain,
    fetcher: Fetcher,
    progress: DownloadProgress,
    say: Say,
    warn: Say,
    *,
    tools: Sequence[str] | None = None,
    trust_published: bool = False,
    remember: bool = True,
) -> list[Installed]:
    """Install each pinned tool (or each of ``tools``) that the store lacks; report each as it goes.

    Stops at the first failure (nothing of that tool is left behind; tools installed before it stay).
    ``remember`` notes this clone's lock in the store (for `tools prune`) even when nothing was downloaded.
    """
    if tc.platform is None:
        current_platform()  # raises UnsupportedPlatform, saying which machine this is
    names = list(tc.pins.pinned()) if tools is None else list(tools)
    done = []
    for tool in names:
        wanted = tc.wanted(tool)
        if wanted is None:
            continue
        done.append(install_one(tc, wanted, fetcher, progress, say, warn, trust_published=trust_published))
    if remember or any(i.downloaded for i in done):
        tc.store.remember_lock(tc.lock_path)
    return done


def install_one(
    tc: Toolchain,
    wanted: Wanted,
    fetcher: Fetcher,
    progress: DownloadProgress,
    say: Say,
    warn: Say,
    *,
    trust_published: bool = False,
) -> Installed:
    tool, version, store = wanted.tool, wanted.version, tc.store
    label = f"{tool} {version} ({wanted.platform})"
    entry = store.find(tool, version, wanted.sha256)
    if entry is not None:
        say(f"{label}: in the store, {entry.binary}")
        return _installed(entry, downloaded=False)
    expected = wanted.sha256
    if expected is None:
        if not trust_published:
            raise MissingChecksum(
                f"{label}: {wanted.missing}; devctl installs only a binary whose checksum the lock names",
                hint="run `devctl tools lock` on a machine that reaches the download site and commit the lock, "
                "or pass --trust-published to check it against the checksum upstream publishes",
            )
        expected = published_checksum(fetcher, wanted)
        warn(
            f"{label}: the lock has no checksum; trusting {TOOLS[tool].checksum_url(wanted.url)} as published "
            f"by upstream (not a reviewed checksum) — complete the lock with `devctl tools lock`"
        )
        entry = store.find(tool, version, expected)
        if entry is not None:
            say(f"{label}: in the store, {entry.binary}")
            return _installed(entry, downloaded=False)
    with store.staging(tool, version) as staging:
        entry = staging.existing(expected)  # another devctl installed it while this one waited
        if entry is None:
            digest = fetcher.download(wanted.url, staging.file, progress, label)
            if digest != expected:
                raise ToolInstallError(
                    f"checksum mismatch for {tool} {version}: {with_mirror(wanted.url, fetcher.mirror)} has "
                    f"sha256 {digest}, expected {expected}"
                    + (f" ({MIRROR_VAR}={fetcher.mirror})" if fetcher.mirror else ""),
                    hint="nothing was installed: the download is not the binary the lock names (a corrupt "
                    "download, or a mirror or proxy serving another file)",
                )
            entry = staging.commit(digest)
            say(f"{label}: installed {entry.binary} (sha256 {digest}, as the lock says)")
            return _installed(entry, downloaded=True)
    say(f"{label}: in the store, {entry.binary}")
    return _installed(entry, downloaded=False)


def published_checksum(fetcher: Fetcher, wanted: Wanted) -> str:
    """The SHA-256 upstream publishes next to the binary, fetched from the URL's own origin."""
    url = TOOLS[wanted.tool].checksum_url(wanted.url)
    text = fetcher.text(url, via_mirror=False)
    name = PurePosixPath(urlsplit(wanted.url).path).name
    try:
        return parse_checksum_file(text, name)
    except ValueError as err:
        raise ToolInstallError(
            f"{url} is not a checksum file for {name}: {err}",
            hint="run `devctl tools lock` on a machine that reaches the download site and commit the lock",
        ) from None


def _installed(entry: StoreEntry, *, downloaded: bool) -> Installed:
    return Installed(entry.tool, entry.version, str(entry.binary), entry.sha256, downloaded)
