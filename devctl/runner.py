"""The one front door for external processes (kind ``pkg/exec``, nox ``command.run``).

Two explicit calls: ``output`` for reads (runs even under --dry-run) and ``run`` for changes
(under --dry-run it only prints the command). Both keep stdout and stderr and raise
``CommandError`` with a pasteable command line on a non-zero exit. ``start`` launches a long-running
process in its own session (process group) for the dev loop and ``kubectl logs -f``.
Only this module and ``devctl.tools`` start processes.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from devctl.errors import CommandError, CommandTimeout, ToolNotFound

Echo = Callable[[str], None]
LineSink = Callable[[str], None]


def _stderr_echo(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class Result:
    argv: list[str]
    exit_code: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass
class Runner:
    """Runs external commands; injected everywhere (tests pass their own PATH or a recording runner)."""

    verbose: bool = False
    dry_run: bool = False
    echo: Echo = _stderr_echo
    env: Mapping[str, str] | None = None  # None = inherit os.environ
    install_hints: Mapping[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    planned: list[list[str]] = field(default_factory=list)  # state-changing commands skipped by --dry-run
    # Wraps a foreground run, so progress drawing stops while a sudo prompt owns the terminal.
    pause: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext

    # -- lookup ----------------------------------------------------------------------------------

    def which(self, tool: str) -> str | None:
        path = (self.env or os.environ).get("PATH")
        return shutil.which(tool, path=path)

    def require(self, tool: str) -> str:
        found = self.which(tool)
        if found is None:
            from devctl.tools.install import install_hint

            raise ToolNotFound(tool, install_hint(tool))
        return found

    # -- calls -----------------------------------------------------------------------------------

    def output(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        timeout: float | None = None,
        ok_codes: Sequence[int] = (0,),
        env: Mapping[str, str] | None = None,
    ) -> Result:
        """Run a command that only reads state and return its output."""
        return self._call(list(argv), input=input, timeout=timeout, ok_codes=ok_codes, env=env)

    def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        timeout: float | None = None,
        ok_codes: Sequence[int] = (0,),
        env: Mapping[str, str] | None = None,
    ) -> Result:
        """Run a command that changes state; under --dry-run print it instead."""
        argv = list(argv)
        if self.dry_run:
            with self._lock:
                self.planned.append(argv)
            self.echo("would run: " + shlex.join(argv))
            return Result(argv, 0)
        return self._call(argv, input=input, timeout=timeout, ok_codes=ok_codes, env=env)

    def interactive(self, argv: Sequence[str]) -> int:
        """Run in the foreground with the terminal attached (a sudo password prompt must be visible)."""
        argv = list(argv)
        if self.dry_run:
            self.echo("would run: " + shlex.join(argv))
            return 0
        import sh

        exe = self.require(argv[0])
        self._trace(argv)
        with self.pause():
            try:
                sh.Command(exe)(*argv[1:], _fg=True, _env=self._env(None))
            except sh.ErrorReturnCode as err:
                return int(err.exit_code)
        return 0

    def start(
        self,
        argv: Sequence[str],
        *,
        on_stdout: LineSink,
        on_stderr: LineSink,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> Background:
        """Start a long-running command in a new session (its own process group), streaming lines."""
        import sh

        argv = list(argv)
        exe = self.require(argv[0])
        self._trace(argv)
        proc = sh.Command(exe)(
            *argv[1:],
            _bg=True,
            _bg_exc=False,
            _new_session=True,
            _out=on_stdout,
            _err=on_stderr,
            _tty_out=False,
            _in=None,
            _env=self._env(env),
            _cwd=cwd,
            _ok_code=list(range(256)),
            _encoding="utf-8",
            _decode_errors="replace",
            _out_bufsize=1,
            _err_bufsize=1,
        )
        return Background(argv, proc)

    # -- internals -------------------------------------------------------------------------------

    def _env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        base = dict(self.env if self.env is not None else os.environ)
        if extra is not None:
            base = dict(extra)
        return base

    def _trace(self, argv: list[str]) -> None:
        if self.verbose:
            self.echo("+ " + shlex.join(argv))

    def _call(
        self,
        argv: list[str],
        *,
        input: str | None,
        timeout: float | None,
        ok_codes: Sequence[int],
        env: Mapping[str, str] | None,
    ) -> Result:
        import sh

        exe = self.require(argv[0])
        self._trace(argv)
        kwargs: dict[str, Any] = {
            "_tty_out": False,  # sh allocates a pty by default; tools would colour and paginate
            "_env": self._env(env),
            "_ok_code": list(range(256)),
            "_return_cmd": True,
        }
        if input is not None:
            kwargs["_in"] = input
        if timeout is not None:
            kwargs["_timeout"] = timeout
        try:
            proc = sh.Command(exe)(*argv[1:], **kwargs)
        except sh.TimeoutException as err:
            raise CommandTimeout(f"{shlex.join(argv)!r} did not finish within {timeout:g} s") from err
        except sh.CommandNotFound as err:  # raced with an uninstall, or not executable
            from devctl.tools.install import install_hint

            raise ToolNotFound(argv[0], install_hint(argv[0])) from err
        except PermissionError as err:
            raise ToolNotFound(argv[0], f"{exe} is not executable ({err.strerror})") from err
        stdout = _decode(proc.stdout)
        stderr = _decode(proc.stderr)
        code = int(proc.exit_code)
        if code not in ok_codes:
            raise CommandError(argv, code, stdout, stderr)
        return Result(argv, code, stdout, stderr)


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", errors="replace")


class Background:
    """A running process group started by ``Runner.start``."""

    def __init__(self, argv: list[str], proc: Any) -> None:
        self.argv = argv
        self._proc = proc

    @property
    def pid(self) -> int:
        return int(self._proc.pid)

    def alive(self) -> bool:
        return bool(self._proc.is_alive())

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code, or None if still running after ``timeout`` seconds."""
        import sh

        try:
            self._proc.wait(timeout=timeout)
        except sh.TimeoutException:
            return None
        except sh.ErrorReturnCode as err:
            return int(err.exit_code)
        except sh.SignalException as err:
            return int(err.exit_code)
        code = self._proc.exit_code
        return None if code is None else int(code)
