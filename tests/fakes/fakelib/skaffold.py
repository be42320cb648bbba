"""Fake `skaffold` (v2.24.0): version, build; `dev` is simulated in fakelib/skaffold_dev.py.

Facts: skaffold.md §1 (version output, apiVersions), §2 (flags; unknown flag -> exit 127), §3 (console lines).
"""

from __future__ import annotations

import sys

from fakelib import state

VERSION = "v2.24.0"
CONFIG_VERSION = "skaffold/v4beta14"


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write("A tool that facilitates continuous development for Kubernetes applications.\n")
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "version":
        if "-o" in rest or any(a.startswith("--output") for a in rest):
            fmt = rest[rest.index("-o") + 1] if "-o" in rest else rest[0].split("=", 1)[1]
            sys.stdout.write(fmt.replace("{{.ConfigVersion}}", CONFIG_VERSION).replace("{{.Version}}", VERSION) + "\n")
        else:
            sys.stdout.write(VERSION + "\n")  # skaffold.md §1
        return 0
    if cmd == "dev":
        from fakelib import skaffold_dev

        return skaffold_dev.main(rest)
    if cmd == "build":
        return build(rest)
    sys.stderr.write(f'unknown command "{cmd}" for "skaffold"\n')
    return 127  # skaffold.md §4: unknown command/flag -> 127


def build(args: list[str]) -> int:
    state.sleep_knob("image_build_delay")
    sys.stdout.write("Generating tags...\nChecking cache...\nStarting build...\n")
    with state.txn() as s:
        s["docker"]["images"] = sorted(set(s["docker"]["images"]) | {"built"})
    return 0
