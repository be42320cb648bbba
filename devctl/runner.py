"""The one front door for external processes (kind ``pkg/exec``, nox ``command.run``).

Two explicit calls: ``output`` for reads (runs even under --dry-run) and ``run`` for changes
(under --dry-run it only prints the command). Both keep stdout and stderr and raise
``CommandError`` with a pasteable command line on a non-zero exit. ``start`` launches a long-running
process in its own session (process group) for the dev loop and ``kubectl logs -f``.
Only this module and ``devctl.tools`` start processes.

``output``/``run`` and ``start_chunks`` use ``subprocess`` directly: importing ``sh`` costs ~100 ms
(it imports asyncio) and each of its calls ~13 ms more than ``subprocess.run``, and a warm ``devctl up``
or ``devctl status`` is mostly such short calls (the issue 7 speed targets). ``sh`` drives what needs
its line callbacks and foreground handling: ``interactive`` and ``start`` (the dev loop).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from devctl.errors import CommandError, CommandTimeout, DevctlError, ToolNotFound, command_line

if TYPE_CHECKING:
    from devctl import pipes
    from devctl.toolchain.resolve import Resolved, Toolchain

Echo = Callable[[str], None]
LineSink = Callable[[str], None]
ChunkSink = Callable[[bytes], None]


def _stderr_echo(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


# A NamedTuple and a plain class rather than dataclasses: every command imports this module, and a
# dataclass costs ~1 ms to create at import (its methods are exec'd); the issue 7 status target.


class Result(NamedTuple):
    argv: list[str]
    exit_code: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class Runner:
    """Runs external commands; injected everywhere (tests pass their own PATH or a recording runner)."""

    def __init__(
        self,
        verbose: bool = False,
        dry_run: bool = False,
        echo: Echo = _stderr_echo,
        env: Mapping[str, str] | None = None,  # None = inherit os.environ
        install_hints: Mapping[str, str] | None = None,
        # Wraps a foreground run, so progress drawing stops while a sudo prompt owns the terminal.
        pause: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
        # Decides which kind, kubectl and skaffold run (the pinned ones in devctl's store first) and puts
        # the store first on every child's PATH; None: every tool from PATH as it is.
        toolchain: Toolchain | None = None,
    ) -> None:
        self.verbose = verbose
        self.dry_run = dry_run
        self.echo = echo
        self.env = env
        self.install_hints: Mapping[str, str] = install_hints or {}
        self.pause = pause
        self.toolchain = toolchain
        self.planned: list[list[str]] = []  # state-changing commands skipped by --dry-run
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Runner(verbose={self.verbose}, dry_run={self.dry_run}, env={'set' if self.env else 'inherited'})"

    # -- lookup ----------------------------------------------------------------------------------

    def which(self, tool: str) -> str | None:
        if self.toolchain is not None and self.toolchain.manages(tool):
            try:
                return self.resolve(tool).path
            except DevctlError:
                return None
        return shutil.which(tool, path=self._path())

    def resolve(self, tool: str) -> Resolved:
        """A tool the toolchain manages: which executable runs and where it came from (ToolNotFound if none)."""
        assert self.toolchain is not None
        return self.toolchain.resolve(tool, self._path(), self._probe)

    def require(self, tool: str) -> str:
        if self.toolchain is not None and self.toolchain.manages(tool):
            return self.resolve(tool).path
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
            self.echo("would run: " + command_line(argv))
            return Result(argv, 0)
        return self._call(argv, input=input, timeout=timeout, ok_codes=ok_codes, env=env)

    def interactive(self, argv: Sequence[str]) -> int:
        """Run in the foreground with the terminal attached (a sudo password prompt must be visible)."""
        argv = list(argv)
        if self.dry_run:
            self.echo("would run: " + command_line(argv))
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
        """Start a long-running command in a new session (its own process group), streaming lines.

        On Linux the command gets SIGTERM if devctl dies, even by SIGKILL (which runs no cleanup of
        ours), so `skaffold dev` does not outlive it: Skaffold takes SIGTERM as Ctrl-C, cleans up and
        exits (skaffold.md §4). The kernel sends it when the *thread* that started the command ends, so
        call this from a thread that lives as long as the command should (the CLI's main thread).
        """
        import sh

        argv = list(argv)
        exe = self.require(argv[0])
        self._trace(argv)
        proc = sh.Command(exe)(
            *argv[1:],
            _bg=True,
            _bg_exc=False,
            _new_session=True,
            _preexec_fn=_die_with_parent(),
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

    def start_chunks(
        self,
        argv: Sequence[str],
        *,
        on_chunk: ChunkSink,
        on_stderr: LineSink,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> Background:
        """Like ``start``, but stdout arrives as raw byte chunks (up to 64 KiB, as read) for throughput.

        sh splits and decodes line by line in Python (~4 us a line); ``devctl logs`` moves hundreds of
        thousands of lines, so stdout goes to a pipe read in large chunks by ``devctl.pipes`` (one thread for
        all such pipes; ``on_chunk`` runs on it). A chunk may end mid-line. stderr arrives line by line
        (decoded, newline kept), like ``start``'s.
        """
        import subprocess

        argv = list(argv)
        exe = self.require(argv[0])
        self._trace(argv)
        read_fd, write_fd = os.pipe()
        try:
            proc = subprocess.Popen(
                [exe, *argv[1:]],
                stdin=subprocess.DEVNULL,
                stdout=write_fd,  # the child writes straight into our pipe
                stderr=subprocess.PIPE,
                env=self._env(env),
                cwd=cwd,
                start_new_session=True,  # its own process group: signal_group reaches its children too
            )
        except OSError as err:
            os.close(read_fd)
            raise self._not_runnable(argv, exe, err) from err
        finally:
            os.close(write_fd)  # only the child keeps the write end: EOF when it (and its children) exit
        from devctl import pipes

        reader = pipes.read(read_fd, on_chunk)
        errors = threading.Thread(
            target=_lines, args=(proc.stderr, on_stderr), name=f"stderr of {argv[0]}", daemon=True
        )
        errors.start()
        return _PopenBackground(argv, proc, reader, errors)

    # -- internals -------------------------------------------------------------------------------

    def _path(self) -> str | None:
        return (self.env or os.environ).get("PATH")

    def _env(self, extra: Mapping[str, str] | None) -> dict[str, str] | None:
        """The child's environment: ``extra`` if given, else the runner's; None inherits this process's
        as it is (a copy of os.environ would be decoded here and encoded again for every call). The
        toolchain's store directories go first on its PATH, so what the child runs (Skaffold runs
        kubectl) is what devctl itself would run."""
        chosen = extra if extra is not None else self.env
        path = (
            None
            if self.toolchain is None
            else self.toolchain.child_path((os.environ if chosen is None else chosen).get("PATH"))
        )
        if path is None:
            return None if chosen is None else dict(chosen)
        env = dict(os.environ if chosen is None else chosen)
        env["PATH"] = path
        return env

    def _probe(self, exe: str, args: Sequence[str]) -> str:
        """What ``exe args`` prints (its version): the toolchain asks a tool found on PATH once per run."""
        import subprocess

        argv = [exe, *args]
        self._trace(argv)
        try:
            done = subprocess.run(
                argv, stdin=subprocess.DEVNULL, capture_output=True, env=self._env(None), timeout=30, check=False
            )
        except subprocess.TimeoutExpired as err:
            raise CommandTimeout(f"{command_line(argv)!r} did not finish within 30 s") from err
        except OSError as err:
            raise self._not_runnable([Path(exe).name, *args], exe, err) from err
        if done.returncode != 0:
            raise CommandError(argv, done.returncode, _decode(done.stdout), _decode(done.stderr))
        return _decode(done.stdout) + _decode(done.stderr)

    def _trace(self, argv: list[str]) -> None:
        if self.verbose:
            self.echo("+ " + command_line(argv))

    def _not_runnable(self, argv: list[str], exe: str, err: OSError) -> ToolNotFound:
        from devctl.tools.install import install_hint

        if isinstance(err, PermissionError):
            return ToolNotFound(argv[0], f"{exe} is not executable ({err.strerror})")
        return ToolNotFound(argv[0], install_hint(argv[0]))  # raced with an uninstall

    def _call(
        self,
        argv: list[str],
        *,
        input: str | None,
        timeout: float | None,
        ok_codes: Sequence[int],
        env: Mapping[str, str] | None,
    ) -> Result:
        import subprocess

        exe = self.require(argv[0])
        self._trace(argv)
        try:
            # Pipes, never a terminal (tools would colour and paginate); stdin is empty unless given,
            # so a tool that reads it gets EOF instead of the user's terminal. On a timeout the
            # process is killed (SIGKILL) and reaped.
            proc = subprocess.run(
                [exe, *argv[1:]],
                input=None if input is None else input.encode(),
                stdin=subprocess.DEVNULL if input is None else None,
                capture_output=True,
                env=self._env(env),
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as err:
            raise CommandTimeout(f"{command_line(argv)!r} did not finish within {timeout:g} s") from err
        except OSError as err:  # not executable, or raced with an uninstall
            raise self._not_runnable(argv, exe, err) from err
        stdout = _decode(proc.stdout)
        stderr = _decode(proc.stderr)
        code = int(proc.returncode)
        if code not in ok_codes:
            raise CommandError(argv, code, stdout, stderr)
        return Result(argv, code, stdout, stderr)


def _die_with_parent() -> Callable[[], None] | None:
    """What a child runs before exec so that the kernel sends it SIGTERM when its parent ends
    (prctl PR_SET_PDEATHSIG; Linux only: elsewhere None, and a SIGKILLed devctl can orphan the child)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import signal

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child must not import or load
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # devctl died between fork and prctl: no signal will come
            os._exit(128 + signal.SIGTERM)

    return preexec


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _lines(stream: IO[bytes] | None, on_line: LineSink) -> None:
    """Copy a pipe to ``on_line`` line by line (decoded, newline kept) until EOF."""
    if stream is None:
        return
    try:
        for raw in stream:
            on_line(raw.decode("utf-8", errors="replace"))
    except Exception:  # never leave the child blocked on a full pipe because a sink failed
        return
    finally:
        stream.close()


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

    def drain(self, timeout: float | None = 5.0) -> None:
        """Return once every byte the process wrote reached the callbacks.

        ``wait(timeout)`` only polls the pid, so after it the last lines may still be in flight. For
        ``start_chunks`` this waits for stdout's EOF (or the sink's failure) up to ``timeout`` (None: no
        limit). Once the process has ended, its stderr reader is joined, giving up after ~2 s when a
        leftover grandchild still holds the pipe open (as sh does).
        """
        process = getattr(self._proc, "process", None)
        if process is not None and process.exit_code is not None:
            with contextlib.suppress(Exception):
                process.wait()


class _PopenBackground(Background):
    """A ``Background`` for ``Runner.start_chunks``: a ``subprocess.Popen`` and its two pipe readers."""

    def __init__(self, argv: list[str], proc: Any, reader: pipes.Reading, errors: threading.Thread) -> None:
        super().__init__(argv, proc)
        self._reader = reader
        self._errors = errors

    def alive(self) -> bool:
        return bool(self._proc.poll() is None)

    def wait(self, timeout: float | None = None) -> int | None:
        import subprocess

        try:
            return int(self._proc.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            return None

    def drain(self, timeout: float | None = 5.0) -> None:
        self._reader.join(timeout)
        if self._proc.poll() is not None:
            self._errors.join(2.0)
