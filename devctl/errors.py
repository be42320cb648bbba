"""devctl's error types and the exit codes they map to.

Domain code raises these, adding context on the way up (``raise ClusterError("...") from err``);
only the CLI edge (``devctl.cli.main``) turns them into one ``ERROR:`` line and an exit code.
Anything that is not a ``DevctlError`` is a bug and keeps its traceback.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

# Documented in the README ("Exit codes").
EXIT_FAILURE = 1  # an operation or a required check failed (tool error, Docker down, busy port, timeout)
EXIT_USAGE = 2  # bad flag or configuration value, unknown name, unreadable input file
EXIT_INTERRUPTED = 130  # Ctrl-C before anything could be cleaned up gracefully


class DevctlError(Exception):
    """An error the user can act on: printed as one line plus an optional hint."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(DevctlError):
    """The user asked for something that cannot be (bad value, unknown name, unreadable input)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration value is invalid; the message names the field and where the value came from."""


class Verdict(DevctlError):
    """What a checking command exists to find did not hold (status not healthy, a doctor check failed, a
    route that does not route): its findings were shown; this is the one line that sums them up."""


class NotInRepo(UsageError):
    """A command that needs the tour repo (its k8s/, skaffold.yaml) ran outside it."""

    def __init__(self, cwd: Path) -> None:
        super().__init__(
            f"not inside the tour repo: no pyproject.toml with [tool.devctl] in {cwd} or a folder above it",
            hint="cd into your clone of the tour repo and run the command there",
        )


class ToolNotFound(DevctlError):
    """An external tool devctl drives is not on PATH (or, for a pinned tool, none usable was found)."""

    def __init__(self, tool: str, hint: str, message: str | None = None) -> None:
        super().__init__(message or f"{tool} is not installed (not found on PATH)", hint=hint)
        self.tool = tool


class ToolInstallError(DevctlError):
    """Installing a pinned tool failed: a download, a checksum, or a lock without the checksum needed."""


def command_line(argv: Sequence[str]) -> str:
    """argv as a line a user can paste into a shell."""
    return shlex.join(argv)


class CommandError(DevctlError):
    """An external command exited non-zero. Carries a pasteable command line and its output."""

    show_output = True  # whether the CLI edge prints the tool's own last lines below the ERROR line

    def __init__(self, argv: Sequence[str], exit_code: int, stdout: str = "", stderr: str = "") -> None:
        self.argv = list(argv)
        self.returncode = exit_code
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(f"command {command_line(self.argv)!r} failed with exit code {exit_code}")

    def output_tail(self, lines: int = 15) -> str:
        """The last lines the tool said, stderr first (where tools put their reasons)."""
        text = self.stderr.strip() or self.stdout.strip()
        return "\n".join(text.splitlines()[-lines:])


class CommandTimeout(DevctlError):
    """An external command did not finish within its deadline."""


def chain(err: BaseException) -> list[str]:
    """Messages of a chain of errors (outermost first), for the one-line report at the CLI edge."""
    out: list[str] = []
    seen: set[int] = set()
    cur: BaseException | None = err
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        msg = str(cur)
        if msg and msg not in out:
            out.append(msg)
        cur = cur.__cause__
    return out


def find_command_error(err: BaseException) -> CommandError | None:
    cur: BaseException | None = err
    while cur is not None:
        if isinstance(cur, CommandError):
            return cur
        cur = cur.__cause__
    return None
