"""Every docker argv devctl builds ran against the real engine in this tier (tests/docker/shapes.py).

The recording `docker` on devctl's PATH logged each call devctl made in the tests before this one (it runs
last). Every shape the adapter can build must have run, and succeeded, at least once; and devctl ran
nothing the adapter does not build. A new adapter method or a new form of an argv fails here until a
real-engine test runs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docker.conftest import recorded_calls, whole_tier_selected
from tests.docker.engine import Engine
from tests.docker.shapes import matches, shapes


def test_every_docker_argv_of_the_adapter_ran_against_the_real_engine(
    request: pytest.FixtureRequest, engine: Engine, record: Path
) -> None:
    if not whole_tier_selected(request.session):
        pytest.skip("the argv check needs the whole docker tier in one run (`make test-docker`)")
    calls = recorded_calls(record)
    ran = [list(c["argv"]) for c in calls]  # type: ignore[call-overload]
    succeeded = [list(c["argv"]) for c in calls if c["exit"] == 0]  # type: ignore[call-overload]
    every = [(method, shape) for method, built in shapes().items() for shape in built]

    never = [f"{method}: {' '.join(shape)}" for method, shape in every if not any(matches(shape, a) for a in succeeded)]
    assert not never, "built by the adapter but never run successfully against the engine:\n" + "\n".join(never)

    strays = [a for a in ran if not any(matches(shape, a) for _, shape in every)]
    assert not strays, f"devctl ran docker argvs the adapter's shapes do not cover: {strays}"
