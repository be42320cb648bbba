"""The docker tier: devctl against a real Docker engine (marker ``docker``; README.md here).

It runs only when ``DEVCTL_DOCKER_TESTS=1`` (``make test-docker`` sets it): a developer's running Docker
Desktop is not touched unless they ask. Then the engine must answer: a tier that was asked for and
cannot run fails, it does not skip.

Only docker is real here. Where a devctl command needs kind, kubectl or skaffold on PATH (the preflight
checks they exist; `status` asks kubectl), the fakes from tests/fakes stand in for them; they are never
what a test looks at.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devctl.devloop.api import free_port
from tests.conftest import FAKES, REPO
from tests.docker import engine as engine_mod
from tests.docker.engine import PREFIX, Engine, real_clients
from tests.docker.images import Images, MissingPackage, build_all

OPT_IN = "DEVCTL_DOCKER_TESTS"
HERE = Path(__file__).resolve().parent
SKIP_REASON = f"docker tier: set {OPT_IN}=1 to run it against the Docker engine (`make test-docker`)"

_partial: list[bool] = []  # set when the run selects only part of the tier


def opted_in() -> bool:
    return os.environ.get(OPT_IN) == "1"


class _NotAskedFor(pytest.Module):
    """A test module of the tier when it was not asked for: skipped whole, one line in the summary."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        pytest.skip(SKIP_REASON)


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if opted_in():
        return None
    return _NotAskedFor.from_parent(parent, path=module_path)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tier's tests ``docker``, and run the argv coverage check after all of them."""
    mine = [i for i in items if HERE in Path(str(i.path)).parents]
    for item in mine:
        item.add_marker(pytest.mark.docker)
    last = [i for i in mine if Path(str(i.path)).name == "test_argv_coverage.py"]
    items[:] = [i for i in items if i not in last] + last


def pytest_deselected(items: list[pytest.Item]) -> None:
    if any(HERE in Path(str(i.path)).parents for i in items):
        _partial.append(True)


def whole_tier_selected(session: pytest.Session) -> bool:
    """Every test module of the tier has tests in this run and none was deselected."""
    ran = {Path(str(i.path)).name for i in session.items if HERE in Path(str(i.path)).parents}
    return not _partial and ran >= {p.name for p in HERE.glob("test_*.py")}


# --- the engine ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The real engine, answering, and everything this run made removed at the end (also after failures)."""
    clients = real_clients()
    if not clients:
        pytest.fail(f"{OPT_IN}=1 but there is no docker client on PATH", pytrace=False)
    eng = Engine(clients[0])
    done = eng.call("info", "--format", "{{.ServerVersion}}")
    if done.returncode != 0 or not done.stdout.strip():
        said = " / ".join((done.stderr or done.stdout).strip().splitlines()) or f"exit {done.returncode}"
        pytest.fail(f"{OPT_IN}=1 but the Docker engine does not answer `{clients[0]} info`: {said}", pytrace=False)
    try:
        yield eng
    finally:
        left = eng.clean_up()
        if left:
            raise AssertionError(f"the docker tier could not remove what it made: {', '.join(left)}")


@pytest.fixture(scope="session")
def images(engine: Engine) -> Images:
    """busybox, registry and ctr images from the Debian packages (imported once, reused by content)."""
    try:
        return build_all(engine)
    except MissingPackage as err:
        pytest.fail(str(err), pytrace=False)


@pytest.fixture(scope="session")
def kind_network(engine: Engine) -> str:
    engine.ensure_kind_network()
    return engine_mod.KIND_NETWORK


# --- devctl's view of it ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def shared_dir() -> Iterator[Path]:
    """A directory every user may read and write (devctl runs as `nobody` in one test)."""
    d = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-"))
    d.chmod(0o777)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def record(shared_dir: Path) -> Path:
    """Where the recording `docker` writes each call devctl makes (test_argv_coverage.py reads it)."""
    path = shared_dir / "docker-calls.jsonl"
    path.touch()
    path.chmod(0o666)
    return path


def _open_to_all(path: Path) -> bool:
    """Whether every user may run ``path``: the file and each directory above it are open to others."""
    real = path.resolve()
    return bool(real.stat().st_mode & 0o005 == 0o005) and all(p.stat().st_mode & 0o001 for p in real.parents)


def everyones_python() -> str | None:
    """A Python of this one's version that every user may run (this one may live in root's home)."""
    candidates = [sys.executable, f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}", "/usr/bin/python3"]
    for cand in candidates:
        path = Path(cand)
        if not path.exists() or not _open_to_all(path):
            continue
        done = subprocess.run(
            [cand, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True, check=False
        )
        if done.returncode == 0 and done.stdout.strip() == str(tuple(sys.version_info[:2])):
            return cand
    return None


@pytest.fixture(scope="session")
def python_for_all() -> str | None:
    return everyones_python()


@pytest.fixture(scope="session")
def tool_bin(shared_dir: Path, python_for_all: str | None) -> Path:
    """The PATH devctl gets: the recording `docker`, and the fakes of kind, kubectl and skaffold."""
    bin_dir = shared_dir / "bin"
    bin_dir.mkdir()
    python = python_for_all or sys.executable  # record.py needs only the standard library
    scripts = {"docker": f'exec "{python}" -S "{HERE / "record.py"}" "$@"'}
    scripts |= {tool: f'exec "{FAKES / tool}" "$@"' for tool in ("kind", "kubectl", "skaffold")}
    for tool, line in scripts.items():
        script = bin_dir / tool
        script.write_text(f"#!/bin/sh\n{line}\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    bin_dir.chmod(0o755)
    return bin_dir


@dataclass
class Devctl:
    """The environment devctl runs in: private names and free ports, PATH with the recording docker."""

    env: dict[str, str]
    cluster: str
    registry: str
    registry_port: int
    http_port: int
    https_port: int
    work: Path
    record: Path
    since: int = 0  # lines of the record before this test

    def docker_calls(self) -> list[list[str]]:
        """The docker argvs devctl ran in this test (since the last ``mark``), in order."""
        return [list(c["argv"]) for c in recorded_calls(self.record)[self.since :]]  # type: ignore[call-overload]

    def mark(self) -> None:
        """Forget the calls so far: docker_calls() starts here."""
        self.since = len(recorded_calls(self.record))


@pytest.fixture
def devctl(
    engine: Engine, images: Images, tool_bin: Path, record: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Devctl:
    """devctl's settings for one test, in os.environ (for in-process runs) and as a dict (for children)."""
    for k in list(os.environ):
        if k.startswith(("DEVCTL_", "SKAFFOLD_")) and k != OPT_IN:
            monkeypatch.delenv(k)
    work = Path(tempfile.mkdtemp(prefix="t-", dir=shared_dir))
    work.chmod(0o777)
    (work / "fake-state").mkdir(mode=0o777)
    (work / "fake-state").chmod(0o777)
    hosts = work / "hosts"
    hosts.write_text("127.0.0.1\tlocalhost\n")
    hosts.chmod(0o644)
    cluster = engine.name("c")
    d = Devctl(
        env={},
        cluster=cluster,
        registry=engine.name("registry"),
        registry_port=free_port(),
        http_port=free_port(),
        https_port=free_port(),
        work=work,
        record=record,
    )
    d.mark()
    settings = {
        "PATH": f"{tool_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "DEVCTL_REAL_DOCKER": engine.docker,
        "DEVCTL_DOCKER_RECORD": str(record),
        "DEVCTL_CLUSTER": cluster,
        "DEVCTL_REGISTRY_NAME": d.registry,
        "DEVCTL_REGISTRY_PORT": str(d.registry_port),
        "DEVCTL_REGISTRY_IMAGE": images.registry,
        "DEVCTL_HTTP_PORT": str(d.http_port),
        "DEVCTL_HTTPS_PORT": str(d.https_port),
        "DEVCTL_HOSTS_FILE": str(hosts),
        "DEVCTL_FAKE_STATE": str(work / "fake-state"),
        "DEVCTL_FAKE_PYTHON": sys.executable,
        "KUBECONFIG": str(work / "kubeconfig"),
        "HOME": str(work),
        "XDG_CACHE_HOME": str(work / "cache"),
        "XDG_STATE_HOME": str(work / "state"),
    }
    for k, v in settings.items():
        monkeypatch.setenv(k, v)
    d.env = {**os.environ}
    monkeypatch.chdir(REPO)
    return d


# Each real client on PATH (devctl runs the first; their texts differ where the tests compare them).
CLIENTS = real_clients() or ["docker"]


@pytest.fixture(params=CLIENTS, ids=[c.strip("/").replace("/", "-") for c in CLIENTS])
def client(request: pytest.FixtureRequest, devctl: Devctl, monkeypatch: pytest.MonkeyPatch) -> str:
    """The real docker client devctl runs (through the recording `docker` on its PATH)."""
    monkeypatch.setenv("DEVCTL_REAL_DOCKER", str(request.param))
    devctl.env["DEVCTL_REAL_DOCKER"] = str(request.param)
    return str(request.param)


def recorded_calls(record: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
