"""`devctl tools lock`: the lock rebuilt from the checksum files upstream publishes next to each binary, for
every pinned tool on every platform devctl runs on. This is how a maintainer bumps a version; the diff
of the lock is what a reviewer checks.

The checksum files are fetched through DEVCTL_TOOLS_MIRROR when it is set (a machine may reach only the
mirror); each entry's ``source`` then says so, for the reviewer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from devctl.errors import ToolInstallError
from devctl.toolchain.catalog import PLATFORMS, TOOLS, parse_checksum_file
from devctl.toolchain.fetch import MIRROR_VAR, Fetcher
from devctl.toolchain.lockfile import TO_COMPLETE, Lock, LockedTool, LockEntry


def generate(pins: Mapping[str, str], fetcher: Fetcher, say: Callable[[str], None]) -> Lock:
    """A complete lock for ``pins``; ToolInstallError (naming the URL) when a checksum file cannot be read."""
    tools: dict[str, LockedTool] = {}
    for tool, version in pins.items():
        spec = TOOLS[tool]
        platforms: dict[str, LockEntry] = {}
        for platform in PLATFORMS:
            url = spec.url(version, platform)
            checksum_url = spec.checksum_url(url)
            text = fetcher.text(checksum_url, via_mirror=True)
            name = PurePosixPath(urlsplit(url).path).name
            try:
                digest = parse_checksum_file(text, name)
            except ValueError as err:
                where = f" ({MIRROR_VAR}={fetcher.mirror})" if fetcher.mirror else ""
                raise ToolInstallError(
                    f"{checksum_url} is not a checksum file for {name}{where}: {err}",
                    hint="the lock was left as it was",
                ) from None
            source = f"published: {checksum_url}"
            if fetcher.mirror:
                source += f" (fetched through {MIRROR_VAR}={fetcher.mirror})"
            platforms[platform] = LockEntry(url, digest, source)
            say(f"{tool} {version} {platform}: sha256 {digest}")
        tools[tool] = LockedTool(version, platforms)
    return Lock(tools)


def skeleton(pins: Mapping[str, str]) -> Lock:
    """A lock with every URL and no checksum: each entry marked to be completed by `devctl tools lock`."""
    return Lock(
        {
            tool: LockedTool(
                version,
                {platform: LockEntry(TOOLS[tool].url(version, platform), None, TO_COMPLETE) for platform in PLATFORMS},
            )
            for tool, version in pins.items()
        }
    )
