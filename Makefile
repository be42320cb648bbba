# The two set-up commands of a fresh clone: `make up` and `make test` (see README.md).
PYTHON ?= python3
# pip's notice that a newer pip exists, and the like, are not what a newcomer needs to read first.
export PIP_DISABLE_PIP_VERSION_CHECK := 1
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP_RUN  = $(VENV)/.installed-run
STAMP_TEST = $(VENV)/.installed-test

.PHONY: up test test-docker lint typecheck pytest bench e2e docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# devctl is installed as a copy (not editable: setuptools' editable installs print warnings on every
# install), made again whenever a source file changes; the tests import the working tree itself.
SOURCES := pyproject.toml $(shell find devctl -name '*.py' -o -name py.typed 2>/dev/null)

$(STAMP_RUN): $(SOURCES) | $(BIN)/python
	$(BIN)/python -m pip install --quiet .
	@touch $@

$(STAMP_TEST): $(SOURCES) | $(BIN)/python
	$(BIN)/python -m pip install --quiet '.[test]'
	@touch $@ $(STAMP_RUN)

## make up: create .venv if needed, install devctl, run `devctl up` (pass ARGS="--no-dev" etc.)
up: $(STAMP_RUN)
	$(BIN)/devctl up $(ARGS)

## make test: create .venv if needed, install .[test], run ruff, mypy and pytest
test: $(STAMP_TEST) lint typecheck pytest

lint: $(STAMP_TEST)
	$(BIN)/ruff check devctl tests services
	$(BIN)/ruff format --check devctl

typecheck: $(STAMP_TEST)
	$(BIN)/mypy

# The suite on two workers (pytest-xdist), each test file whole on one of them: a journey's steps run in
# order. When asked for (DEVCTL_DOCKER_TESTS=1), the docker tier runs after it in one process: its files
# share one engine and one record of docker calls. Otherwise the main run reports the tier skipped.
DOCKER_TIER_APART = $(if $(filter 1,$(DEVCTL_DOCKER_TESTS)),yes)
pytest: $(STAMP_TEST)
	$(BIN)/pytest -n 2 --dist loadfile $(if $(DOCKER_TIER_APART),--ignore=tests/docker) $(PYTEST_ARGS)
	$(if $(DOCKER_TIER_APART),$(BIN)/pytest tests/docker $(PYTEST_ARGS))

## make test-docker: the docker tier (tests/docker/) against the running Docker engine
test-docker: $(STAMP_TEST)
	DEVCTL_DOCKER_TESTS=1 $(BIN)/pytest tests/docker $(PYTEST_ARGS)

## make bench: ratios for the speed targets (prints, never fails on timing); BENCH="5" runs only those
bench: $(STAMP_TEST)
	$(BIN)/python -m tests.bench $(BENCH)

## make docs: write docs/commands.md again from every command's --help (a test keeps them the same)
docs: $(STAMP_TEST)
	$(BIN)/python -m tests.docs

## make e2e: the scenario tests against the real docker, kind, kubectl and skaffold
e2e: $(STAMP_TEST)
	@$(BIN)/python -m tests.scenarios.e2e_gate
	DEVCTL_E2E=1 $(BIN)/pytest tests/scenarios $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
