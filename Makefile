# Two commands on a fresh clone: `make demo` and `make test`. Everything installs into .venv.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAKE ?= data/lake
DB ?= data/smcost.duckdb
SEED ?= 42
MONTHS ?= 3
SCALE ?= 1
FOCUS_VERSION ?= 1.2

export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export SMCOST_LAKE_ROOT := $(abspath $(LAKE))
export SMCOST_DUCKDB_PATH := $(abspath $(DB))

.PHONY: help install demo test test-python test-dbt lint athena-check bench bench-growth clean chromium

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP) profiles.yml ## Create .venv and install smcost, dbt and the test tools

# The FinOps Foundation's focus-validator, for tests/python/test_focus_validator.py (the demo bill
# against the FOCUS 1.2 rules; docs/export.md). A venv of its own: it needs Python >= 3.12 and numpy
# < 2, whose wheels stop at Python 3.12 (3.13 would compile numpy for many minutes), and pyarrow < 26
# (26 no longer imports with numpy 1). So Python 3.12: python3.12, else pyenv's (the machine image
# has one); FV_PYTHON overrides. The '*' .gitignore keeps the venv out of git.
FV_VENV := .venv-focus-validator
FV_STAMP := $(FV_VENV)/.installed
FV_PYTHON ?= $(shell for p in python3.12 $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.12*/bin/python3 2>/dev/null | sort -rV); do \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done)

$(FV_STAMP):
	@test -n "$(FV_PYTHON)" || { echo "focus-validator needs Python 3.12 and none was found: set FV_PYTHON" >&2; exit 1; }
	$(FV_PYTHON) -m venv $(FV_VENV)
	echo '*' > $(FV_VENV)/.gitignore
	$(FV_VENV)/bin/pip install --quiet 'focus-validator==2.2.1' 'pyarrow<26'
	touch $@

# A real MLflow tracking server for tests/python/extractor/test_mlflow_source.py (`smcost extract
# --mlflow-tracking-uri`, docs/lineage.md). A venv of its own: MLflow caps pyarrow below the version
# .venv has, and smcost itself reads MLflow over REST without it.
MLFLOW_VENV := .venv-mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed

$(MLFLOW_STAMP):
	$(PYTHON) -m venv $(MLFLOW_VENV)
	echo '*' > $(MLFLOW_VENV)/.gitignore
	$(MLFLOW_VENV)/bin/pip install --quiet 'mlflow==3.17.2'
	touch $@

# The local default needs no copying by hand: the example already holds the DuckDB target, and
# dbt reads profiles.yml from the project folder (DBT_PROFILES_DIR above).
profiles.yml: profiles.yml.example
	cp $< $@

# --full-refresh: the demo rewrites every month it generates (another SEED or MONTHS included), so the
# build rebuilds them all, not the incremental window around today's date.
demo: install ## Generate the demo account, build every model on DuckDB, print the summary, explain the last month, write the report
	$(BIN)/smcost demo --out $(LAKE) --seed $(SEED) --months $(MONTHS) --scale $(SCALE) --focus-version $(FOCUS_VERSION)
	$(BIN)/dbt build --target local --full-refresh --vars '{focus_version: "$(FOCUS_VERSION)"}'
	$(BIN)/smcost summary --database $(DB)
	$(BIN)/smcost explain --database $(DB)
	$(BIN)/smcost report --database $(DB)

test: install lint athena-check test-python ## Run every check (lint, offline Athena compile, pytest incl. dbt builds)

# The report's browser test (tests/python/test_report.py) drives Debian's chromium, never a browser
# download of its own: installed here when missing (make test runs as root); where apt cannot install
# it, the test skips and says why.
CHROMIUM := /usr/bin/chromium

chromium: ## Install Debian's chromium for the report's browser test, when missing
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends chromium >/dev/null; } || echo "chromium could not be installed: the report's browser test will skip" >&2

test-python: install $(FV_STAMP) $(MLFLOW_STAMP) chromium
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=15

PY_SOURCES := extract tests/python scripts

lint: install ## sqlfluff (athena dialect) on every model; ruff (lint + format) and mypy on the Python
	$(BIN)/sqlfluff lint models
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy

athena-check: install ## dbt parse + compile for Athena (Hive/FOCUS 1.2 and Iceberg/FOCUS 1.0), offline
	$(BIN)/dbt parse --target athena
	$(BIN)/dbt compile --target athena --no-populate-cache --quiet
	$(BIN)/dbt compile --target athena --no-populate-cache --quiet --vars '{athena_table_type: iceberg, focus_version: "1.0"}'

BENCH_ROWS ?= 1000000
BENCH_MONTHS ?= 12

bench: install ## Benchmarks (print figures; not part of `make test`): BENCH_ROWS=10000000 for the 10 M-row table
	$(BIN)/python scripts/bench_build.py --rows $(BENCH_ROWS) --months $(BENCH_MONTHS)
	$(BIN)/python scripts/bench_demo.py --quick
	$(BIN)/python scripts/bench_extract.py

GROWTH_ROWS ?= 1000000,3000000,10000000

bench-growth: install ## How build time and memory grow with rows: one full build per size in GROWTH_ROWS (3 months each)
	$(BIN)/python scripts/bench_build.py --months 3 --growth $(GROWTH_ROWS)

clean: ## Remove generated data and dbt artefacts (keeps .venv)
	rm -rf data target logs
