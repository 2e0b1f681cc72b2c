# The two README commands: `make demo` (set up, then run the main job) and
# `make test` (set up, then run the whole test suite). `.ci/run` calls `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

# Every process we start (tests, demo, Ray workers) sees the same Ray settings.
export RAY_AUTH_MODE ?= disabled
export RAY_USAGE_STATS_ENABLED := 0

.PHONY: setup demo test lint bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/hasivu demo

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check hasivu_compute tests benchmarks
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python -m benchmarks.run

bench-quick: setup
	$(BIN)/python -m benchmarks.run --quick

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
