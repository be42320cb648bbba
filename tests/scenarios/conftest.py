"""The `toolbox` fixture: the frame every scenario runs in, against the fakes or against the real tools.

Without ``DEVCTL_E2E`` (the default, part of `make test`) the toolbox puts tests/fakes first on PATH with a
private fake world (``tests.conftest.FakeWorld``), the cluster ``tour`` and free loopback ports. With
``DEVCTL_E2E=1`` (`make e2e`) it uses the real docker, kind, kubectl and skaffold, a throw-away cluster
``devctl-e2e-<6 hex>``, ports 18080/18443/15001 and a registry container of its own, and always runs
``devctl down --registry --hosts`` at the end, also after a failure or a Ctrl-C of pytest (pytest tears
fixtures down on KeyboardInterrupt). Both modes use a temp hosts file and a temp kubeconfig, so neither
the system hosts file nor ~/.kube/config is touched; requests carry the Host header instead.

The scenarios call ``toolbox.run(...)`` / ``toolbox.start(...)``, which start ``python -m devctl --cluster
<c> ...`` as a real subprocess from the repo root with ``toolbox.env``: the same test code in both modes.
``toolbox.call([...])`` runs any other command (kubectl, docker) in that same environment.
Every run is written to ``toolbox.log_dir`` (``$DEVCTL_E2E_LOGS/<module>`` when set; CI uploads it).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import pytest

from tests.conftest import FAKES, REPO, FakeWorld
from tests.scenarios import e2e_gate

Mode = Literal["fake", "real"]

E2E_VAR = "DEVCTL_E2E"
LOGS_VAR = "DEVCTL_E2E_LOGS"
FAKE_CLUSTER = "tour"
# A registry container name of its own: the container name is shared by the whole machine, and a
# developer's own `kind-registry` (devctl's default) must survive `make e2e`.
E2E_REGISTRY_NAME = "devctl-e2e-registry"
HOSTS_SEED = "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
FAKE_INGRESS_MANIFEST = REPO / "tests" / "data" / "ingress-nginx-kind-v1.15.1.yaml"
# The longest a single devctl command may take: a real `up` creates a cluster and waits up to 180 s for
# ingress-nginx (config.py ingress_timeout), image pulls included.
DEFAULT_TIMEOUT: dict[Mode, float] = {"fake": 60.0, "real": 900.0}
STOP_TIMEOUT = 60.0  # after SIGINT, before SIGKILL (devctl's own cleanup_timeout is 30 s)


class Ports(NamedTuple):
    http: int
    https: int
    registry: int


# Non-default ports, so a real run does not collide with a developer's own `devctl up` on 80/443/5001.
REAL_PORTS = Ports(http=18080, https=18443, registry=15001)


class Run(NamedTuple):
    """One finished devctl command; unpacks as ``code, stdout, stderr``."""

    code: int
    stdout: str
    stderr: str


# --- decisions (pure, tested in test_toolbox.py) ---------------------------------------------------


def e2e_requested(env: Mapping[str, str]) -> bool:
    """DEVCTL_E2E=1 (any value but empty, 0, false, no) switches the scenarios to the real tools."""
    return env.get(E2E_VAR, "").strip().lower() not in ("", "0", "false", "no")


def resolve_mode(env: Mapping[str, str]) -> tuple[Mode, str | None]:
    """The mode the scenarios run in, and why they cannot (the gate's one line) when real tools are missing."""
    if not e2e_requested(env):
        return "fake", None
    return "real", e2e_gate.refusal(e2e_gate.with_devctl_store(env.get("PATH", "")))


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (all bound at once, so they differ)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def throwaway_cluster_name() -> str:
    """kind.md §2's name rule (^[a-z0-9.-]+$), unique per run so parallel or leftover runs never clash."""
    return f"devctl-e2e-{secrets.token_hex(3)}"


def real_ports(env: Mapping[str, str]) -> Ports:
    """18080/18443/15001, each overridable (DEVCTL_E2E_HTTP_PORT, ..._HTTPS_PORT, ..._REGISTRY_PORT)."""
    return Ports(
        *(int(env.get(f"DEVCTL_E2E_{name.upper()}_PORT") or default) for name, default in REAL_PORTS._asdict().items())
    )


def isolated_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment without the settings that would steer devctl, Skaffold or kind elsewhere."""
    keep_fake = ("DEVCTL_FAKE_STATE", "DEVCTL_FAKE_PYTHON")
    return {
        k: v
        for k, v in environ.items()
        if (k in keep_fake or not k.startswith(("DEVCTL_", "SKAFFOLD_")))
        and k not in ("KUBECONFIG", "KIND_CLUSTER_NAME")
    }


# --- the toolbox -----------------------------------------------------------------------------------


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _stop(proc: subprocess.Popen[Any], group: bool) -> None:
    """SIGKILL the process (and its process group when it leads one) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    proc.wait()


@dataclass
class Started:
    """A long-running devctl command (e.g. `devctl dev`) in its own process group, output in log files."""

    proc: subprocess.Popen[bytes]
    argv: list[str]
    stdout_path: Path
    stderr_path: Path

    def output(self) -> tuple[str, str]:
        """Everything it printed so far: (stdout, stderr)."""
        return (
            self.stdout_path.read_text(errors="replace"),
            self.stderr_path.read_text(errors="replace"),
        )

    def wait_for(self, expect: str | Callable[[str, str], bool], timeout: float, interval: float = 0.2) -> None:
        """Poll until ``expect`` (a text in stdout or stderr, or a predicate on both) holds; fail on exit or timeout."""
        check = expect if callable(expect) else (lambda out, err: expect in out or expect in err)
        deadline = time.monotonic() + timeout
        while True:
            out, err = self.output()
            if check(out, err):
                return
            code = self.proc.poll()
            if code is not None:
                out, err = self.output()  # what it printed just before exiting counts too
                if check(out, err):
                    return
                pytest.fail(f"`{' '.join(self.argv[2:])}` exited with {code} before {expect!r}:\n{_tail(out + err)}")
            if time.monotonic() >= deadline:
                pytest.fail(
                    f"no {expect!r} from `{' '.join(self.argv[2:])}` within {timeout:.0f}s:\n{_tail(out + err)}"
                )
            time.sleep(interval)

    def interrupt(self, timeout: float = STOP_TIMEOUT) -> int:
        """Ctrl-C as a terminal sends it (SIGINT to the process group); the exit code. SIGKILL and fail on timeout."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"`{' '.join(self.argv[2:])}` still running {timeout:.0f}s after Ctrl-C; killed")

    def kill(self) -> None:
        _stop(self.proc, group=True)


@dataclass
class Toolbox:
    """Where and with what the scenarios run devctl; see the module docstring."""

    mode: Mode
    cluster: str
    ports: Ports
    registry_name: str
    hosts_file: Path
    kubeconfig: Path
    log_dir: Path
    env: dict[str, str]
    world: FakeWorld | None = None  # the fake world (fake mode only): calls(), objects(), knobs
    _started: list[Started] = field(default_factory=list, repr=False)
    _count: int = field(default=0, repr=False)

    @property
    def context(self) -> str:
        return f"kind-{self.cluster}"

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "devctl", "--cluster", self.cluster, *args]

    def which(self, tool: str) -> str | None:
        """The binary ``tool`` resolves to for devctl in this toolbox (its PATH)."""
        return shutil.which(tool, path=self.env["PATH"])

    def run(self, *args: str, timeout: float | None = None, input: str | None = None) -> Run:
        """``python -m devctl --cluster <c> *args`` to completion; fails the test if it outlives ``timeout``."""
        return self.call(self.argv(*args), timeout=timeout, input=input)

    def start(self, *args: str) -> Started:
        """``python -m devctl --cluster <c> *args`` in the background, for journeys that end with Ctrl-C."""
        return self.spawn(self.argv(*args), label=args)

    def spawn(self, argv: list[str], label: tuple[str, ...] | list[str] = ()) -> Started:
        """Any command in the background with the toolbox's env, in its own process group; stopped at teardown."""
        base = self._log_base(label or [Path(argv[0]).name])
        out, err = base.with_suffix(".stdout"), base.with_suffix(".stderr")
        with out.open("wb") as fo, err.open("wb") as fe:
            proc = subprocess.Popen(
                argv,
                env=self.env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=fo,
                stderr=fe,
                start_new_session=True,  # its own process group, so interrupt() reaches it and its children
            )
        started = Started(proc, argv, out, err)
        self._started.append(started)
        return started

    def close(self, failed: bool) -> None:
        """Stop what is still running; in real mode keep kind's logs on failure and delete everything."""
        for started in self._started:
            if started.proc.poll() is None:
                # interrupt() kills and fails when Ctrl-C is ignored; here that only means it is gone now.
                with contextlib.suppress(pytest.fail.Exception):
                    started.interrupt()
        if self.mode != "real":
            return  # the fake world lives in a temp dir and goes with it
        if failed:
            self._tool("kind", "export", "logs", str(self.log_dir / "kind"), "--name", self.cluster, timeout=300)
        outcome = "timed out"
        with contextlib.suppress(pytest.fail.Exception):  # timed out: the leftovers below still go
            down = self.call(self.argv("down", "--registry", "--hosts"), timeout=DEFAULT_TIMEOUT["real"], detached=True)
            outcome = f"exit {down.code}"
        leftovers = self._delete_leftovers()
        if leftovers:
            warnings.warn(
                f"`devctl down --registry --hosts` ({outcome}) left {', '.join(leftovers)} behind; "
                "the toolbox deleted them",
                stacklevel=1,
            )

    # -- internals -----------------------------------------------------------------------------------

    def _log_base(self, args: tuple[str, ...] | list[str]) -> Path:
        self._count += 1
        words = [re.sub(r"[^A-Za-z0-9._]+", "_", Path(a).name) for a in args if not a.startswith("-")][:2]
        return self.log_dir / f"{self._count:03d}-{'-'.join(words) or 'devctl'}"

    def call(
        self, argv: list[str], timeout: float | None = None, input: str | None = None, detached: bool = False
    ) -> Run:
        """Any command (e.g. ``[toolbox.which("kubectl"), "--context", toolbox.context, ...]``) with the toolbox's
        env, to completion, logged; fails the test if it outlives ``timeout``. ``detached``: its own process
        group, and one extra Ctrl-C is waited out (the teardown's `down` must outlive the Ctrl-C that stopped
        the tests)."""
        timeout = timeout or DEFAULT_TIMEOUT[self.mode]
        base = self._log_base(argv[5:] if argv[:3] == [sys.executable, "-m", "devctl"] else argv)
        began = time.monotonic()
        proc = subprocess.Popen(
            argv,
            env=self.env,
            cwd=REPO,
            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=detached,
        )
        patience = 1 if detached else 0
        try:
            while True:
                try:
                    out, err = proc.communicate(input, timeout=max(0.0, began + timeout - time.monotonic()))
                    break
                except KeyboardInterrupt:
                    input = None  # already sent
                    if patience == 0:
                        raise
                    patience -= 1
                    sys.stderr.write(f"\nwaiting for `{' '.join(argv[2:])}` to clean up; Ctrl-C again to abandon it\n")
        except subprocess.TimeoutExpired:
            _stop(proc, detached)
            out, err = proc.communicate()
            self._write_log(base, argv, None, time.monotonic() - began, out, err)
            pytest.fail(f"`{' '.join(argv[2:])}` did not finish within {timeout:.0f}s:\n{_tail(out + err)}")
        except KeyboardInterrupt:
            # The terminal's Ctrl-C reached devctl too (same process group): let it clean up, then go.
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                _stop(proc, detached)
            raise
        result = Run(proc.returncode, out, err)
        self._write_log(base, argv, result.code, time.monotonic() - began, out, err)
        return result

    def _write_log(self, base: Path, argv: list[str], code: int | None, secs: float, out: str, err: str) -> None:
        status = "timed out" if code is None else f"exit {code}"
        base.with_suffix(".log").write_text(
            f"$ {' '.join(argv)}\n# {status} after {secs:.1f}s\n--- stdout\n{out}\n--- stderr\n{err}\n"
        )

    def _tool(self, *argv: str, timeout: float) -> Run | None:
        """A direct call of kind/docker for teardown; None when it could not run at all."""
        binary = self.which(argv[0])
        if binary is None:
            return None
        try:
            return self.call([binary, *argv[1:]], timeout=timeout, detached=True)
        except pytest.fail.Exception:
            return None

    def _delete_leftovers(self) -> list[str]:
        """Whatever `down` should have removed and did not: deleted here, named for the warning."""
        left: list[str] = []
        clusters = self._tool("kind", "get", "clusters", timeout=60)
        if clusters is not None and self.cluster in clusters.stdout.split():
            left.append(f"cluster {self.cluster}")
            self._tool("kind", "delete", "cluster", "--name", self.cluster, timeout=300)
        registry = self._tool("docker", "inspect", "--format", "{{.Name}}", self.registry_name, timeout=60)
        if registry is not None and registry.code == 0:
            left.append(f"registry container {self.registry_name}")
            self._tool("docker", "rm", "-f", self.registry_name, timeout=120)
        return left


def build_toolbox(mode: Mode, root: Path, environ: Mapping[str, str], label: str = "toolbox") -> Toolbox:
    """A toolbox for ``mode`` whose files live under ``root`` (a fresh temp dir)."""
    hosts_file = root / "hosts"
    hosts_file.write_text(HOSTS_SEED)
    logs_root = environ.get(LOGS_VAR)
    log_dir = (Path(logs_root) if logs_root else root / "logs") / label
    log_dir.mkdir(parents=True, exist_ok=True)
    env = isolated_env(environ)
    world: FakeWorld | None = None
    if mode == "fake":
        world = FakeWorld(root=root, state_dir=root / "fake-state", kubeconfig=root / "kube" / "config", bin_dir=FAKES)
        world.state_dir.mkdir()
        world.kubeconfig.parent.mkdir()
        env.update(world.env())
        # The fake kubectl reads no URLs (no network on a test machine): the pinned upstream manifest's
        # local copy; real mode keeps devctl's default, the pinned upstream URL.
        env["DEVCTL_INGRESS_MANIFEST"] = str(FAKE_INGRESS_MANIFEST)
        # The fakes on PATH are this world's tools: `up` must not download the real ones into the store.
        env["DEVCTL_NO_TOOL_INSTALL"] = "1"
        kubeconfig, cluster, ports = world.kubeconfig, FAKE_CLUSTER, Ports(*free_ports(3))
    else:
        kubeconfig = root / "kube" / "config"
        kubeconfig.parent.mkdir()
        env["KUBECONFIG"] = str(kubeconfig)
        # What `toolbox.call` runs is what devctl runs: the store of `devctl tools install` first.
        env["PATH"] = e2e_gate.with_devctl_store(env.get("PATH", ""))
        cluster, ports = throwaway_cluster_name(), real_ports(environ)
    env.update(
        {
            "DEVCTL_HOSTS_FILE": str(hosts_file),
            "DEVCTL_HTTP_PORT": str(ports.http),
            "DEVCTL_HTTPS_PORT": str(ports.https),
            "DEVCTL_REGISTRY_PORT": str(ports.registry),
            "DEVCTL_REGISTRY_NAME": E2E_REGISTRY_NAME,
            "DEVCTL_MANIFESTS_DIR": str(REPO / "k8s"),
        }
    )
    return Toolbox(
        mode=mode,
        cluster=cluster,
        ports=ports,
        registry_name=E2E_REGISTRY_NAME,
        hosts_file=hosts_file,
        kubeconfig=kubeconfig,
        log_dir=log_dir,
        env=env,
        world=world,
    )


# --- pytest wiring ---------------------------------------------------------------------------------

_FAILED = pytest.StashKey[bool]()


def earlier_failure(item: pytest.Item) -> bool:
    """True once a test of ``item``'s module has failed: a journey's later steps build on its earlier ones."""
    module = item.getparent(pytest.Module)
    return module is not None and module.stash.get(_FAILED, False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember that a scenario module had a failure, so its teardown keeps kind's logs."""
    report: pytest.TestReport = yield
    module = item.getparent(pytest.Module)
    if report.failed and module is not None:
        module.stash[_FAILED] = True
    return report


@pytest.fixture(scope="session")
def toolbox_mode() -> Mode:
    """fake, or real when DEVCTL_E2E=1; with DEVCTL_E2E=1 and a tool missing, the run stops with the gate's line."""
    mode, refusal = resolve_mode(os.environ)
    if refusal is not None:
        pytest.exit(refusal, returncode=1)
    return mode


@pytest.fixture(scope="module")
def toolbox(
    request: pytest.FixtureRequest, toolbox_mode: Mode, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Toolbox]:
    """One toolbox (and in real mode one cluster) per scenario module, torn down whatever happens."""
    label = request.module.__name__.rsplit(".", 1)[-1]
    box = build_toolbox(toolbox_mode, tmp_path_factory.mktemp("toolbox"), os.environ, label=label)
    try:
        yield box
    finally:
        box.close(failed=request.node.stash.get(_FAILED, False))
