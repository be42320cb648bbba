"""Entry point of every fake tool: `main.py <tool> <args...>`.

Each call is appended to $DEVCTL_FAKE_STATE/calls.jsonl before it runs, so tests can count and
inspect every external command devctl made (tool, argv, the current kube context, pid).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _SiteOnDemand:
    """The stubs start Python with -S: site's work (site-packages, .pth files, editable-install finders)
    is ~60 ms of every call on this machine, four times what a fake needs to answer. The fakes use the
    standard library, except for PyYAML in a few places; the first import nothing else finds runs
    site once and is retried, so those calls pay for it and the others do not."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        if path is not None:  # a submodule: its package was already found
            return None
        sys.meta_path.remove(self)
        import importlib.util
        import site

        site.main()
        return importlib.util.find_spec(name)


if sys.flags.no_site:
    sys.meta_path.append(_SiteOnDemand())  # type: ignore[arg-type]

from fakelib import state  # noqa: E402


class _Tee:
    """Copies what a fake writes, for DEVCTL_FAKE_RECORD (the benchmark's replay fakes)."""

    def __init__(self, stream: object) -> None:
        self.stream = stream
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return self.stream.write(text)  # type: ignore[attr-defined,no-any-return]

    def flush(self) -> None:
        self.stream.flush()  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def _record(tool: str, argv: list[str], code: int, out: _Tee, err: _Tee) -> None:
    import hashlib

    key = hashlib.md5("\0".join([tool, *argv, ""]).encode()).hexdigest()
    base = os.path.join(os.environ["DEVCTL_FAKE_RECORD"], key)
    with open(base + ".out", "w") as f:
        f.write("".join(out.parts))
    with open(base + ".err", "w") as f:
        f.write("".join(err.parts))
    with open(base + ".code", "w") as f:
        f.write(str(code))


def _main() -> int:
    tool, argv = sys.argv[1], sys.argv[2:]
    state.log_call(tool, argv)
    if os.environ.get("DEVCTL_FAKE_RECORD"):
        out, err = _Tee(sys.stdout), _Tee(sys.stderr)
        sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
        code = _dispatch(tool, argv)
        _record(tool, argv, code, out, err)
        return code
    return _dispatch(tool, argv)


def _dispatch(tool: str, argv: list[str]) -> int:
    if tool == "kind":
        from fakelib import kind as mod
    elif tool == "kubectl":
        from fakelib import kubectl as mod  # type: ignore[no-redef]
    elif tool == "docker":
        from fakelib import docker as mod  # type: ignore[no-redef]
    elif tool == "skaffold":
        from fakelib import skaffold as mod  # type: ignore[no-redef]
    else:
        sys.stderr.write(f"fake: unknown tool {tool}\n")
        return 127
    try:
        return int(mod.main(argv) or 0)
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    sys.exit(_main())
