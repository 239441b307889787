# The template's own tasks. `make test` is what CI (.ci/run and .github/workflows/ci.yml) runs.

PYTHON_VERSION ?= 3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo $(BIN)/uv)
DEMO_DIR := build/demo
export UV_COMPILE_BYTECODE := 1

TOOLKIT_FILES := $(shell find scripts/src schemas -type f -not -name '*.pyc') scripts/pyproject.toml

.PHONY: setup test test-costs test-fast demo lint lock clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's/:.*## /\t/'

setup: $(VENV)/.installed  ## .venv with the toolkit, cookiecutter and the test tools, all pinned

$(VENV)/.installed: requirements-dev.lock scripts/requirements.lock $(TOOLKIT_FILES)
	@if ! command -v uv >/dev/null 2>&1 && [ ! -x $(BIN)/uv ]; then \
		python$(PYTHON_VERSION) -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV); \
		$(BIN)/python -m pip install --quiet uv; \
	fi
	$(UV) venv --quiet --allow-existing --python $(PYTHON_VERSION) $(VENV)
	$(UV) pip install --quiet --python $(BIN)/python -r scripts/requirements.lock -r requirements-dev.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --reinstall-package mlops-toolkit ./scripts
	@touch $@

# Tests run on one pytest-xdist worker per core, plus one: much of the suite waits on servers and jobs it
# started, so a spare worker keeps the cores busy. Their caches live in build/test-cache (tests/conftest.py).
# --dist loadscope keeps each module on one worker: its module fixtures (a rehearsal, a trained repo) are
# built once, and tests that build on an earlier one in the same module keep their order. Modules start
# longest first (tests/timings.py), not in xdist's order (by number of tests).
TEST_WORKERS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 )))
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations=15

# TESTS narrows a run: test files, test ids or @FILE (one id a line, as benchmarks/suite.py passes them).
TESTS ?= tests

test: setup  ## generate every variant with the real cookiecutter and run the whole suite
	$(PYTEST) $(TESTS)

test-costs:  ## commit the last full run's test durations (build/test-cache) as tests/test-durations.json
	cp build/test-cache/test-durations.json tests/test-durations.json

test-fast: setup  ## the suite without the slow tests (those that set up a generated repo, run real jobs, or took 1.5 s or more last time)
	$(PYTEST) -m "not slow" tests

demo: setup  ## generate the default experiment into build/demo and run its `make check`
	@echo "demo 1/2: generating the default experiment with \`cookiecutter --no-input\` into $(DEMO_DIR)"
	@rm -rf $(DEMO_DIR)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	@echo "demo 2/2: running the generated repo's own \`make check\` (what its pull-request workflow runs)"
	$(MAKE) -C $(DEMO_DIR)/iris-classifier check
	@echo "demo: done. The generated repo is $(DEMO_DIR)/iris-classifier; its outputs/ holds the model and metrics."

lint:  setup ## ruff on the toolkit, hooks and tests
	$(BIN)/ruff check scripts/src hooks tests benchmarks

lock:  ## re-pin the toolkit's and the test tools' dependencies
	$(UV) pip compile --quiet scripts/pyproject.toml --extra test --extra lint --extra notebook --universal --python-version $(PYTHON_VERSION) -o scripts/requirements.lock
	$(UV) pip compile --quiet requirements-dev.in -c scripts/requirements.lock --universal --python-version $(PYTHON_VERSION) -o requirements-dev.lock

clean:  ## remove .venv and build output
	rm -rf $(VENV) build
