# Two commands do everything: `make demo` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
PIPELINE := .venv-pipeline
DASHBOARDS := .venv-dashboards
PYTHON := python3.11

export OUTCOME_MONITOR_HOME ?= $(CURDIR)/data
export GX_ANALYTICS_ENABLED := False
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
# Let Python cache bytecode: without it every process recompiles Airflow, GX and Superset on import.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup demo stop test test-unit lint lock chromium postgresql bench

help:
	@echo "make demo   set up, start Airflow and Superset, ingest the sample region, print the dashboard URL"
	@echo "make stop   stop the servers started by make demo"
	@echo "make test   set up and run the whole test suite"
	@echo "make bench  BENCH_SCALE=region|large|national: pipeline against bare DuckDB -> bench/results.json"
	@echo "make lock   re-resolve locks/*.txt from requirements/*.in (needs the registry; never in CI)"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# Environments are only ever synced from the committed locks: nothing resolves here.
$(PIPELINE)/.synced: locks/pipeline.txt pyproject.toml | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(PIPELINE)
	VIRTUAL_ENV=$(PIPELINE) $(UV) pip sync --quiet locks/pipeline.txt
	VIRTUAL_ENV=$(PIPELINE) $(UV) pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(DASHBOARDS)/.synced: locks/dashboards.txt | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(DASHBOARDS)
	VIRTUAL_ENV=$(DASHBOARDS) $(UV) pip sync --quiet locks/dashboards.txt
	touch $@

setup: $(PIPELINE)/.synced $(DASHBOARDS)/.synced

chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# Debian's PostgreSQL server binaries (/usr/lib/postgresql/<major>/bin) for tests/postgres, which starts
# its own server on a free port: the package's default cluster is not used.
postgresql:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

demo: setup
	$(PIPELINE)/bin/outcome-monitor demo

stop:
	@if [ -x $(PIPELINE)/bin/outcome-monitor ]; then $(PIPELINE)/bin/outcome-monitor stop; fi

# The PostgreSQL-backed suite (tests/postgres) must run here, never skip: hence REQUIRE_POSTGRES.
test: setup chromium postgresql
	OUTCOME_MONITOR_REQUIRE_POSTGRES=1 $(PIPELINE)/bin/python -m pytest -q -p no:cacheprovider

BENCH_SCALE ?= region
BENCH_ARGS ?=
# Pipeline against bare DuckDB, then event latency and chart queries (BENCH_ARGS=--skip-latency leaves those out).
bench: setup
	$(PIPELINE)/bin/python -m outcome_monitor.bench.pipeline --scale $(BENCH_SCALE) --out bench/results.json $(BENCH_ARGS)

test-unit: setup
	$(PIPELINE)/bin/python -m pytest -q -p no:cacheprovider tests/unit

lint: setup
	$(PIPELINE)/bin/ruff check src dags tests

lock: | $(UV)
	$(UV) pip compile --quiet --python-version 3.11 --no-build requirements/pipeline.in -o locks/pipeline.txt
	$(UV) pip compile --quiet --python-version 3.11 --only-binary :all: --no-binary odfpy --no-binary wtforms-json \
		requirements/dashboards.in -o locks/dashboards.txt
