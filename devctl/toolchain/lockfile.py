"""The tool lock: for each pinned tool, its version and, per platform, the download URL and the SHA-256
that `devctl tools install` accepts. It is committed and reviewed like code: it is what devctl trusts.

JSON, read and written by the standard library (``tomllib`` cannot write TOML and a TOML writer would be
a new dependency), with sorted keys and one field per line, so that a version bump is a small diff.

A ``sha256`` of null marks an entry still to be completed by `devctl tools lock` (its ``source`` says
so); an entry with a digest names in ``source`` the published checksum file it came from.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devctl.errors import ConfigError
from devctl.toolchain.catalog import PLATFORMS, TOOLS, check_pin, is_sha256

LOCK_NAME = "devctl-tools.lock.json"
FORMAT = 1
ABOUT = (
    "devctl's tool lock: the download URL and SHA-256 of each pinned tool per platform. "
    "`devctl tools install` installs only a binary whose SHA-256 is written here. Regenerate it with "
    "`devctl tools lock` after changing [tool.devctl.tools] in pyproject.toml, and review the diff like code."
)
TO_COMPLETE = "to complete: run `devctl tools lock` on a machine that reaches the download site"


@dataclass(frozen=True)
class LockEntry:
    url: str
    sha256: str | None  # None: not known yet (see ``source``)
    source: str  # where the checksum came from, or why there is none


@dataclass(frozen=True)
class LockedTool:
    version: str
    platforms: Mapping[str, LockEntry]


@dataclass(frozen=True)
class Lock:
    tools: Mapping[str, LockedTool]

    def entry(self, tool: str, version: str, platform: str) -> LockEntry | None:
        """The entry for this tool at this version on this platform (None when the lock has another
        version or no entry for the platform)."""
        locked = self.tools.get(tool)
        if locked is None or locked.version != version:
            return None
        return locked.platforms.get(platform)

    def missing(self, pins: Mapping[str, str]) -> list[str]:
        """``tool platform`` for every pinned tool and platform without a checksum, in a stable order."""
        out = []
        for tool, version in pins.items():
            for platform in PLATFORMS:
                entry = self.entry(tool, version, platform)
                if entry is None or entry.sha256 is None:
                    out.append(f"{tool} {platform}")
        return out

    def digests(self) -> set[tuple[str, str, str]]:
        """(tool, version, sha256) of every entry with a checksum (what the store may keep)."""
        return {
            (tool, locked.version, entry.sha256)
            for tool, locked in self.tools.items()
            for entry in locked.platforms.values()
            if entry.sha256 is not None
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "about": ABOUT,
            "format": FORMAT,
            "tools": {
                tool: {
                    "version": locked.version,
                    "platforms": {
                        platform: {"url": e.url, "sha256": e.sha256, "source": e.source}
                        for platform, e in sorted(locked.platforms.items())
                    },
                }
                for tool, locked in sorted(self.tools.items())
            },
        }


def read_lock(path: Path) -> Lock | None:
    """The lock at ``path``; None when there is no such file; ConfigError when it is not a valid lock."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise _invalid(path, f"not JSON ({err})") from None
    return parse_lock(data, path)


def parse_lock(data: Any, path: Path) -> Lock:
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("tools"), dict):
        raise _invalid(path, f'expected an object with "format": {FORMAT} and "tools"')
    tools: dict[str, LockedTool] = {}
    for tool, raw in data["tools"].items():
        where = f"tools.{tool}"
        if tool not in TOOLS:
            raise _invalid(path, f"{where}: devctl installs only {', '.join(TOOLS)}")
        if not isinstance(raw, dict) or not isinstance(raw.get("platforms"), dict):
            raise _invalid(path, f'{where}: expected an object with "version" and "platforms"')
        try:
            version = check_pin(tool, raw.get("version"))
        except ValueError as err:
            raise _invalid(path, f"{where}.version {raw.get('version')!r} {err}") from None
        platforms: dict[str, LockEntry] = {}
        for platform, entry in raw["platforms"].items():
            platforms[platform] = _entry(path, f"{where}.platforms.{platform}", platform, entry)
        tools[tool] = LockedTool(version, platforms)
    return Lock(tools)


def _entry(path: Path, where: str, platform: str, raw: Any) -> LockEntry:
    if platform not in PLATFORMS:
        raise _invalid(path, f"{where}: devctl runs on {', '.join(PLATFORMS)}")
    if not isinstance(raw, dict):
        raise _invalid(path, f"{where}: expected an object with url, sha256 and source")
    url, sha256, source = raw.get("url"), raw.get("sha256"), raw.get("source")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise _invalid(path, f"{where}.url must be an http(s) URL")
    if sha256 is not None and not is_sha256(sha256):
        raise _invalid(path, f"{where}.sha256 must be 64 lower-case hex digits, or null while to be completed")
    if not isinstance(source, str) or not source:
        raise _invalid(path, f"{where}.source must say where the checksum came from")
    return LockEntry(url, sha256, source)


def _invalid(path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"{path} is not a valid tool lock: {why}",
        hint="restore it from git, or regenerate it with `devctl tools lock`",
    )


def write_lock(path: Path, lock: Lock) -> None:
    """Replace the lock atomically (a temp file next to it, then rename): a reader never sees half."""
    text = json.dumps(lock.to_json(), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
