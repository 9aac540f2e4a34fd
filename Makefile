# openai-usage-warehouse: every target works from a fresh clone (it installs what is missing).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv installs from the committed lock, with this machine's Python (never a downloaded one).
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export UV_PYTHON_DOWNLOADS := never
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
RUN := $(UV) run --frozen --no-sync
PY := $(RUN) python

.PHONY: help install demo dev backfill test lint format docs clean

help:
	@echo "make demo                          run the pipeline end to end on the simulator"
	@echo "make test                          run the whole test suite"
	@echo "make dev                           Dagster UI + daemon (simulator unless OPENAI_ADMIN_KEY is set)"
	@echo "make backfill START=... END=...    every asset for an inclusive range of UTC days"
	@echo "make lint                          ruff + sqlfluff"

install: .venv/.installed $(DAGSTER_HOME)/dagster.yaml

.venv/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv
	$(UV) sync --frozen
	WAREHOUSE_PATH=$${WAREHOUSE_PATH:-$(CURDIR)/warehouse/openai_usage.duckdb} \
		$(RUN) dbt parse --quiet --project-dir dbt_models --profiles-dir dbt_models
	@touch $@

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p "$(DAGSTER_HOME)"
	cp .dagster_home/dagster.yaml "$@"

demo: install
	$(PY) scripts/demo.py

dev: install
	$(PY) scripts/dev.py

backfill: install
	@if [ -z "$(START)" ] || [ -z "$(END)" ]; then \
		echo "usage: make backfill START=YYYY-MM-DD END=YYYY-MM-DD" >&2; exit 2; fi
	$(PY) -m assets.backfill --start "$(START)" --end "$(END)"

test: install
	$(RUN) pytest $(PYTEST_ARGS)

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) sqlfluff lint dbt_models

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .
	$(RUN) sqlfluff fix dbt_models

clean:
	rm -rf .venv warehouse/*.duckdb warehouse/serving warehouse/.dlt dbt_models/target
