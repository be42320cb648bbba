"""Every docker argv devctl's adapter (devctl/tools/docker.py) can build, as shapes to match real calls.

``CALLS`` makes each public method of ``Docker`` build its argv(s) once, with placeholders for the
arguments; ``shapes`` runs them against a runner that only captures. tests/test_tools_docker.py checks
that ``CALLS`` names every public method (a new method must be added here), and the docker tier's
test_argv_coverage.py that every shape ran against the real engine (a new shape needs a real-engine test).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from devctl.runner import Result, Runner
from devctl.tools.docker import Docker

ONE = "⟨arg⟩"  # any one argument that is not a flag (a name, a label, a network)
REST = "⟨args…⟩"  # one or more arguments of any kind, to the end

CALLS: dict[str, list[Callable[[Docker], object]]] = {
    "client_version": [lambda d: d.client_version()],
    "info": [lambda d: d.info()],
    "server_version": [lambda d: d.server_version()],
    "inspect": [lambda d: d.inspect(ONE)],
    "containers": [lambda d: d.containers(ONE)],
    "run_detached": [lambda d: d.run_detached([REST])],
    "start": [lambda d: d.start([REST])],
    "remove": [lambda d: d.remove(ONE)],
    "network_connect": [lambda d: d.network_connect(ONE, ONE)],
    "exec": [lambda d: d.exec(ONE, [REST]), lambda d: d.exec(ONE, [REST], input="")],
    "context_inspect": [lambda d: d.context_inspect()],
    "network_subnets": [lambda d: d.network_subnets(ONE)],
}


class _Capture(Runner):
    """Captures argvs and answers each with the least output its method parses."""

    def __init__(self) -> None:
        super().__init__()
        self.argvs: list[list[str]] = []

    def output(self, argv: Sequence[str], **kw: Any) -> Result:
        self.argvs.append(list(argv))
        answer = {"info": "{}", "inspect": "[]", "context": '[{"Name": "default"}]', "network": "[]"}.get(argv[1], "")
        return Result(list(argv), 0, answer)

    def run(self, argv: Sequence[str], **kw: Any) -> Result:
        return self.output(argv, **kw)


def public_methods() -> set[str]:
    return {n for n, v in vars(Docker).items() if callable(v) and not n.startswith("_")}


def shapes() -> dict[str, list[tuple[str, ...]]]:
    """method -> the argv shapes it builds."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for method, calls in CALLS.items():
        for call in calls:
            capture = _Capture()
            call(Docker(capture))
            out.setdefault(method, []).extend(tuple(a) for a in capture.argvs)
    return out


def _word(pattern: str) -> re.Pattern[str]:
    return re.compile("".join("[^-].*" if part == ONE else re.escape(part) for part in re.split(f"({ONE})", pattern)))


def matches(shape: Sequence[str], argv: Sequence[str]) -> bool:
    """Whether a real argv has this shape."""
    if shape and shape[-1] == REST:
        head = shape[:-1]
        if len(argv) <= len(head):
            return False
    else:
        head = shape
        if len(argv) != len(head):
            return False
    return all(_word(p).fullmatch(a) for p, a in zip(head, argv[: len(head)], strict=True))
