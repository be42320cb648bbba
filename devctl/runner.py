"""The one front door for external processes (kind ``pkg/exec``, nox ``command.run``).

Three ways to run a command, one each for what devctl needs:

- ``output`` (reads; runs even under --dry-run) and ``run`` (changes; under --dry-run it only prints the
  command) run it to the end with its output captured, and raise ``CommandError`` with a pasteable
  command line on a non-zero exit;
- ``interactive`` runs it in the foreground with the terminal attached (a sudo password prompt);
- ``start`` and ``start_chunks`` launch a long-running command in its own session (process group)
  and hand back a ``Background`` that supervises it; its output reaches callbacks as it comes.

Only this module starts processes; the adapters in ``devctl.tools`` build the command lines.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from devctl import pipes
from devctl.errors import CommandError, CommandTimeout, DevctlError, ToolNotFound, command_line
from devctl.tools.install import install_hint

if TYPE_CHECKING:
    from devctl.toolchain.resolve import Resolved, Toolchain

Echo = Callable[[str], None]
LineSink = Callable[[str], None]
ChunkSink = Callable[[bytes], None]


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
    env: Mapping[str, str] | None = None  # None: children inherit this process's environment
    # Wraps a foreground run, so progress drawing stops while a sudo prompt owns the terminal.
    pause: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext
    # Decides which kind, kubectl and skaffold run (the pinned ones in devctl's store first) and puts the
    # store first on every child's PATH; None: every tool from PATH as it is.
    toolchain: Toolchain | None = None
    planned: list[list[str]] = field(default_factory=list, init=False)  # changes skipped by --dry-run
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

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
            raise ToolNotFound(tool, install_hint(tool))
        return found

    # -- to the end, output captured -------------------------------------------------------------

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

    def _call(
        self,
        argv: list[str],
        *,
        input: str | None,
        timeout: float | None,
        ok_codes: Sequence[int],
        env: Mapping[str, str] | None,
    ) -> Result:
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
        except OSError as err:
            raise _not_runnable(argv, exe, err) from err
        stdout = proc.stdout.decode("utf-8", errors="replace")
        stderr = proc.stderr.decode("utf-8", errors="replace")
        if proc.returncode not in ok_codes:
            raise CommandError(argv, proc.returncode, stdout, stderr)
        return Result(argv, proc.returncode, stdout, stderr)

    # -- in the foreground -----------------------------------------------------------------------

    def interactive(self, argv: Sequence[str]) -> int:
        """Run in the foreground with the terminal attached (a sudo password prompt must be visible)."""
        argv = list(argv)
        if self.dry_run:
            self.echo("would run: " + command_line(argv))
            return 0
        exe = self.require(argv[0])
        self._trace(argv)
        with self.pause():
            try:
                return subprocess.run([exe, *argv[1:]], env=self._env(None), check=False).returncode
            except OSError as err:
                raise _not_runnable(argv, exe, err) from err

    # -- in the background -----------------------------------------------------------------------

    def start(
        self,
        argv: Sequence[str],
        *,
        on_stdout: LineSink,
        on_stderr: LineSink,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> Background:
        """Start a long-running command in a new session (its own process group); each line of its stdout
        and stderr (decoded, newline kept) goes to the callbacks, on a thread per stream.

        On Linux the command gets SIGTERM if devctl dies, even by SIGKILL (which runs no cleanup of
        ours), so `skaffold dev` does not outlive it: Skaffold takes SIGTERM as Ctrl-C, cleans up and
        exits (skaffold.md §4). The kernel sends it when the *thread* that started the command ends, so
        call this from a thread that lives as long as the command should (the CLI's main thread).
        """
        argv = list(argv)
        proc = self._spawn(argv, stdout=subprocess.PIPE, env=env, cwd=cwd, preexec_fn=_die_with_parent())
        stdout = _line_reader(proc.stdout, on_stdout, argv[0])
        return Background(argv, proc, stdout, _line_reader(proc.stderr, on_stderr, argv[0]))

    def start_chunks(
        self,
        argv: Sequence[str],
        *,
        on_chunk: ChunkSink,
        on_stderr: LineSink,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> Background:
        """Like ``start``, but stdout arrives as raw byte chunks (up to 64 KiB, as read; a chunk may end
        mid-line), read by ``devctl.pipes``' one thread for all such pipes: ``devctl logs`` moves
        hundreds of thousands of lines, which line-by-line decoding in Python would hold back."""
        argv = list(argv)
        read_fd, write_fd = os.pipe()
        try:
            proc = self._spawn(argv, stdout=write_fd, env=env, cwd=cwd)
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)  # only the child keeps the write end: EOF when it (and its children) exit
        return Background(argv, proc, pipes.read(read_fd, on_chunk), _line_reader(proc.stderr, on_stderr, argv[0]))

    def _spawn(
        self,
        argv: list[str],
        *,
        stdout: int,
        env: Mapping[str, str] | None,
        cwd: str | None,
        preexec_fn: Callable[[], None] | None = None,
    ) -> subprocess.Popen[bytes]:
        exe = self.require(argv[0])
        self._trace(argv)
        try:
            return subprocess.Popen(
                [exe, *argv[1:]],
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.PIPE,
                env=self._env(env),
                cwd=cwd,
                start_new_session=True,  # its own process group: signal_group reaches its children too
                preexec_fn=preexec_fn,
            )
        except OSError as err:
            raise _not_runnable(argv, exe, err) from err

    # -- internals -------------------------------------------------------------------------------

    def _path(self) -> str | None:
        return (self.env or os.environ).get("PATH")

    def _env(self, extra: Mapping[str, str] | None) -> dict[str, str] | None:
        """The child's environment: ``extra`` if given, else the runner's; None inherits this process's.
        The toolchain's store directories go first on its PATH, so what the child runs (Skaffold runs
        kubectl) is what devctl itself would run."""
        chosen = extra if extra is not None else self.env
        path = None if self.toolchain is None else self.toolchain.child_path((chosen or os.environ).get("PATH"))
        if path is None:
            return None if chosen is None else dict(chosen)
        return {**(os.environ if chosen is None else chosen), "PATH": path}

    def _probe(self, exe: str, args: Sequence[str]) -> str:
        """What ``exe args`` prints (its version): the toolchain asks a tool found on PATH once per run."""
        argv = [exe, *args]
        self._trace(argv)
        try:
            done = subprocess.run(
                argv, stdin=subprocess.DEVNULL, capture_output=True, env=self._env(None), timeout=30, check=False
            )
        except subprocess.TimeoutExpired as err:
            raise CommandTimeout(f"{command_line(argv)!r} did not finish within 30 s") from err
        except OSError as err:
            raise _not_runnable([Path(exe).name, *args], exe, err) from err
        stdout = done.stdout.decode("utf-8", errors="replace")
        stderr = done.stderr.decode("utf-8", errors="replace")
        if done.returncode != 0:
            raise CommandError(argv, done.returncode, stdout, stderr)
        return stdout + stderr

    def _trace(self, argv: list[str]) -> None:
        if self.verbose:
            self.echo("+ " + command_line(argv))


def _not_runnable(argv: list[str], exe: str, err: OSError) -> ToolNotFound:
    if isinstance(err, PermissionError):
        return ToolNotFound(argv[0], f"{exe} is not executable ({err.strerror})")
    return ToolNotFound(argv[0], install_hint(argv[0]))  # raced with an uninstall


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent() -> Callable[[], None] | None:
    """What a child runs before exec so that the kernel sends it SIGTERM when its parent ends
    (prctl PR_SET_PDEATHSIG; Linux only: elsewhere None, and a SIGKILLed devctl can orphan the child)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child must not import or load
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # devctl died between fork and prctl: no signal will come
            # subprocess ends the child without exec'ing when preexec_fn raises
            raise ChildProcessError("devctl ended before the command started")

    return preexec


class _Reader(Protocol):
    def join(self, timeout: float | None = None) -> None: ...


def _line_reader(stream: IO[bytes] | None, on_line: LineSink, tool: str) -> threading.Thread:
    """A thread copying a pipe to ``on_line`` line by line (decoded, newline kept) until EOF."""

    def copy() -> None:
        if stream is None:
            return
        try:
            for raw in stream:
                on_line(raw.decode("utf-8", errors="replace"))
        except Exception:  # never leave the child blocked on a full pipe because a sink failed
            return
        finally:
            stream.close()

    thread = threading.Thread(target=copy, name=f"output of {tool}", daemon=True)
    thread.start()
    return thread


class Background:
    """A running process group started by ``Runner.start`` or ``Runner.start_chunks``."""

    def __init__(self, argv: list[str], proc: subprocess.Popen[bytes], stdout: _Reader, stderr: _Reader) -> None:
        self.argv = argv
        self._proc = proc
        self._stdout = stdout
        self._stderr = stderr

    @property
    def pid(self) -> int:
        return self._proc.pid

    def alive(self) -> bool:
        return self._proc.poll() is None

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code (negative: killed by that signal), or None if still running after ``timeout`` s."""
        try:
            return self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def drain(self, timeout: float | None = 5.0) -> None:
        """Return once every byte the process wrote reached the callbacks.

        ``wait`` only reaps the process, so after it the last lines may still be in flight. This waits for
        stdout's EOF (or its sink's failure) up to ``timeout`` (None: no limit); once the process has
        ended, stderr's reader is given ~2 s more, as a leftover grandchild may still hold that pipe.
        """
        self._stdout.join(timeout)
        if self._proc.poll() is not None:
            self._stderr.join(2.0)
