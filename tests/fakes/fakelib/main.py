"""Entry point of every fake tool: `main.py <tool> <args...>`.

Each call is appended to $DEVCTL_FAKE_STATE/calls.jsonl before it runs, so tests can count and
inspect every external command devctl made (tool, argv, the current kube context, pid).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fakelib import state


def _main() -> int:
    tool, argv = sys.argv[1], sys.argv[2:]
    state.log_call(tool, argv)
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
