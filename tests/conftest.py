"""Shared fixtures: the fake tools on PATH, a private kubeconfig, and a CLI runner.

``fake_tools`` gives every test its own fake world (state dir, call log, kubeconfig) and puts
tests/fakes first on PATH, so devctl runs its real code against executables that behave like kind,
kubectl, docker and skaffold. Nothing here needs Docker, a cluster, the network or root.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FAKES = REPO / "tests" / "fakes"
# The steering repo's shared folder (reference texts, Skaffold's schemas): next to the clone, or where
# DEVCTL_SHARED_DIR says (CI sets it when its clone lives elsewhere). Test data only, never copied in.
SHARED = Path(os.environ.get("DEVCTL_SHARED_DIR") or REPO.parent / "shared")

# ingress-nginx.md §7: the worked request table for the tour Ingress (request path, backend service).
SECTION7_REQUESTS: list[tuple[str, str]] = [
    ("/api/v1/tours/42/reviews", "review"),
    ("/api/v1/tours/42/bookings", "booking"),
    ("/api/v1/tours/42", "tour"),
    ("/api/v1/tours", "tour"),
    ("/api/v1/toursfoo", "tour"),
    ("/api/v1/users/me", "auth"),
    ("/API/V1/AUTH/login", "auth"),
    ("/api/v1/admin/tours/5", "tour"),
    ("/", "client"),
    ("/index.html", "client"),
    ("/api/v1/unknown", "client"),
    ("/api/v1/tours/reviews", "review"),
    ("/api/v1/tours/42/bookings/reviews", "booking"),
    ("/api/v1/admin/tours/5/reviews", "tour"),
    ("/api/v1//tours/42/reviews", "review"),
    ("/api/v1/x/../tours/1", "tour"),
    ("/api/v1/tours/42/reviews?x=1", "review"),
]


# What devctl.toolchain.resolve runs to check a tool found on PATH (devctl.toolchain.catalog version_args).
VERSION_PROBES = {"kind": ["version"], "kubectl": ["version", "--client"], "skaffold": ["version"]}


def is_version_probe(call: dict[str, Any]) -> bool:
    return bool(VERSION_PROBES.get(call["tool"]) == call["argv"])


@dataclass
class FakeWorld:
    root: Path
    state_dir: Path
    kubeconfig: Path
    bin_dir: Path

    # -- state -------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        p = self.state_dir / "state.json"
        return json.loads(p.read_text()) if p.exists() else {"docker": {"containers": {}}, "clusters": {},
                                                            "knobs": {}}

    def _write(self, data: dict[str, Any]) -> None:
        (self.state_dir / "state.json").write_text(json.dumps(data, indent=1))

    def _mutate(self, fn: Any) -> None:
        import fcntl

        with open(self.state_dir / "state.lock", "a+") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            data = self.state()
            data.setdefault("docker", {}).setdefault("containers", {})
            data["docker"].setdefault("daemon", "up")
            data["docker"].setdefault("networks", ["bridge", "host", "none"])
            data["docker"].setdefault("images", [])
            data.setdefault("clusters", {})
            data.setdefault("knobs", {})
            fn(data)
            self._write(data)

    def set_knob(self, name: str, value: Any) -> None:
        self._mutate(lambda d: d["knobs"].__setitem__(name, value))

    def docker_down(self) -> None:
        self._mutate(lambda d: d["docker"].__setitem__("daemon", "down"))

    def play_engine(self, info: dict[str, Any], context: str = "", contexts: dict[str, str] | None = None) -> None:
        """The fake docker answers `docker info` with these fields (a recorded engine's, tests/engine/shapes.py)
        and `docker context inspect` with ``context`` among ``contexts`` (name -> host)."""

        def change(d: dict[str, Any]) -> None:
            d["docker"]["info"] = info
            d["docker"]["context"] = context
            d["docker"]["contexts"] = contexts or {}

        self._mutate(change)

    def docker_denied(self) -> None:
        """The daemon runs, but this user may not open its socket (not in the `docker` group)."""
        self._mutate(lambda d: d["docker"].__setitem__("daemon", "denied"))

    def docker_engine(self, flavour: str) -> None:
        """Which engine's texts the fake docker gives where they differ: "28" (default), "20.10", "desktop"."""
        self._mutate(lambda d: d["docker"].__setitem__("engine", flavour))

    def stop_container(self, name: str) -> None:
        self._mutate(lambda d: d["docker"]["containers"][name].__setitem__("state", "exited"))

    def set_logs(self, logs: dict[str, list[str]]) -> None:
        self._mutate(lambda d: d.__setitem__("logs", logs))

    def containers(self) -> dict[str, Any]:
        return dict(self.state()["docker"]["containers"])

    def objects(self, context: str) -> dict[str, Any]:
        return dict(self.state()["clusters"].get(context, {}).get("objects", {}))

    # -- calls -------------------------------------------------------------------------------------
    def calls(self, tool: str | None = None, *, probes: bool = True) -> list[dict[str, Any]]:
        """Every call, in order. ``probes=False`` leaves out the version probes: devctl asks a kind,
        kubectl or skaffold it found on PATH (not in its tool store) for its version once per run."""
        p = self.state_dir / "calls.jsonl"
        if not p.exists():
            return []
        out = [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
        return [c for c in out if (tool is None or c["tool"] == tool) and (probes or not is_version_probe(c))]

    def argvs(self, tool: str, *, probes: bool = True) -> list[list[str]]:
        return [c["argv"] for c in self.calls(tool, probes=probes)]

    def assert_pinned(self, cluster: str = "tour") -> int:
        """Every kubectl call carried --context kind-<cluster>, every cluster-facing skaffold call
        --kube-context kind-<cluster>. Returns how many calls were checked (so a test can insist on > 0)."""
        ctx = f"kind-{cluster}"
        checked = 0
        for argv in self.argvs("kubectl"):
            if argv == VERSION_PROBES["kubectl"]:
                continue  # devctl asks a kubectl found on PATH its version; it talks to no cluster
            assert argv[:2] == ["--context", ctx], f"kubectl call not pinned to {ctx}: {argv}"
            checked += 1
        for argv in self.argvs("skaffold"):
            if argv[:1] == ["version"]:
                continue  # `skaffold version` takes no cluster flags and talks to no cluster
            i = argv.index("--kube-context") if "--kube-context" in argv else -1
            assert i > 0 and argv[i + 1] == ctx, f"skaffold call not pinned to {ctx}: {argv}"
            checked += 1
        return checked

    def clear_calls(self) -> None:
        (self.state_dir / "calls.jsonl").unlink(missing_ok=True)

    # -- kubeconfig --------------------------------------------------------------------------------
    def add_foreign_context(self, name: str = "prod", current: bool = True) -> None:
        """A context that is not devctl's (e.g. a production cluster), optionally made current."""
        import yaml

        kc: dict[str, Any] = {}
        if self.kubeconfig.exists():
            kc = yaml.safe_load(self.kubeconfig.read_text()) or {}
        for key in ("clusters", "contexts", "users"):
            kc[key] = [e for e in (kc.get(key) or []) if e.get("name") != name]
        kc["clusters"].append({"name": name, "cluster": {"server": "https://prod.example.invalid"}})
        kc["users"].append({"name": name, "user": {"token": "x"}})
        kc["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
        if current:
            kc["current-context"] = name
        kc.setdefault("apiVersion", "v1")
        kc.setdefault("kind", "Config")
        self.kubeconfig.write_text(yaml.safe_dump(kc))

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "DEVCTL_FAKE_STATE": str(self.state_dir),
            "DEVCTL_FAKE_PYTHON": sys.executable,
            "KUBECONFIG": str(self.kubeconfig),
            "XDG_STATE_HOME": str(self.root / "state-home"),
        }


@pytest.fixture(autouse=True)
def _this_working_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `python -m devctl` a test starts runs this working tree's devctl, wherever its cwd is (the
    venv holds an installed copy, which may be older than the tree under test)."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))


@pytest.fixture(autouse=True)
def _private_tool_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the developer's tool store (devctl.toolchain's, in ~/.local/share/devctl/
    tools): each test starts with an empty one."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))


@pytest.fixture
def fake_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWorld]:
    """The fake kind/kubectl/docker/skaffold first on PATH, with a fresh world and kubeconfig."""
    world = FakeWorld(
        root=tmp_path,
        state_dir=tmp_path / "fake-state",
        kubeconfig=tmp_path / "kube" / "config",
        bin_dir=FAKES,
    )
    world.state_dir.mkdir()
    world.kubeconfig.parent.mkdir()
    for k, v in world.env().items():
        monkeypatch.setenv(k, v)
    # Isolate from the developer's own settings.
    for k in list(os.environ):
        if k.startswith(("DEVCTL_", "SKAFFOLD_")) and k not in ("DEVCTL_FAKE_STATE", "DEVCTL_FAKE_PYTHON"):
            monkeypatch.delenv(k)
    # ... and from the developer's Docker context and proxy, which devctl reads (devctl.engine, devctl.proxy).
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", *PROXY_VARIABLES):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("DEVCTL_HOSTS_FILE", str(tmp_path / "hosts"))
    # The fakes on PATH are this world's tools: `up` must not download the real ones into the store.
    monkeypatch.setenv("DEVCTL_NO_TOOL_INSTALL", "1")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state-home"))  # dev-loop pid files
    (tmp_path / "hosts").write_text("127.0.0.1\tlocalhost\n::1\tlocalhost\n")
    yield world


@pytest.fixture
def repo_cwd(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repo root, so [tool.devctl], k8s/ and skaffold.yaml are found as a user would."""
    monkeypatch.chdir(REPO)
    return REPO


def load_standin(module_name: str) -> Any:
    """The stand-in server's code (services/standin/server.py) as a module, to run real stand-ins in tests."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(module_name, REPO / "services" / "standin" / "server.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in the image context
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = before
    return module


PROXY_VARIABLES = tuple(n for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY") for n in (name, name.lower()))


def run_cli(*args: str, input: str | None = None) -> Any:
    """Invoke the devctl CLI in-process (typer's CliRunner); returns the Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from devctl.cli import app

    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
