# openai-usage-warehouse: every target works from a fresh clone (it installs what is missing).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv installs from the committed lock, with this machine's Python (never a downloaded one).
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export UV_PYTHON_DOWNLOADS := never
# Postgres storage for Dagster (DAGSTER_POSTGRES_URL) gets a home of its own: the tracked
# .dagster_home/dagster.yaml is the SQLite default (scripts/instance.py).
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home$(if $(DAGSTER_POSTGRES_URL),/postgres)
# A run over many days records one materialization per asset and day (about 23,700 for a year).
# With this set, Dagster writes each asset's events of a step in batches; dagster-postgres
# inserts a batch in one statement, SQLite storage still writes one event at a time.
export DAGSTER_EVENT_BATCH_SIZE ?= 1000
RUN := $(UV) run --frozen --no-sync
PY := $(RUN) python

.PHONY: help install demo dev backfill report test bench reliability lint format docs clean

help:
	@echo "make demo                          run the pipeline end to end on the simulator"
	@echo "make test                          run the whole test suite"
	@echo "make dev                           Dagster UI + daemon (simulator unless OPENAI_ADMIN_KEY is set)"
	@echo "make backfill START=... END=...    every asset for an inclusive range of UTC days"
	@echo "make report [START=...] [END=...]  render SERVING_DIR/report.html (default: last 30 days)"
	@echo "make bench                         benchmarks on the simulator (BENCH_QUICK=1: smoke)"
	@echo "make reliability                   faults, crashes, concurrency, secrets, endurance"
	@echo "make lint                          ruff + sqlfluff"
	@echo "make docs                          dbt docs (every model and column) into SERVING_DIR/dbt_docs"

install: .venv/.installed
	@$(PY) -m scripts.instance

.venv/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

demo: install
	$(PY) scripts/demo.py

dev: install
	$(PY) scripts/dev.py

backfill: install
	@if [ -z "$(START)" ] || [ -z "$(END)" ]; then \
		echo "usage: make backfill START=YYYY-MM-DD END=YYYY-MM-DD" >&2; exit 2; fi
	$(PY) -m scripts.backfill --start "$(START)" --end "$(END)"

report: install
	$(PY) -m serving.report $(if $(START),--start "$(START)") $(if $(END),--end "$(END)")

# Two workers (the machines have 2 cores); a test module stays on one worker, so its shared
# fixtures (one simulator, one reference run) are built once.
TEST_WORKERS ?= 2
test: install
	$(PY) -m assets.dbt
	$(RUN) pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The whole reliability suite (long); writes RELIABILITY.md and reliability/results.json.
reliability: install
	$(PY) -m reliability $(RELIABILITY_ARGS)

bench: install
	$(PY) -m bench

# dbt docs from the YAML descriptions, built on the in-memory `lint` target so it never opens
# (or waits for) the working file; one self-contained page: dbt_docs/static_index.html.
DOCS_DIR = $${SERVING_DIR:-$${WAREHOUSE_PATH:+$$(dirname "$$WAREHOUSE_PATH")/serving}}
docs: install
	@dir="$(DOCS_DIR)"; dir="$${dir:-$(CURDIR)/warehouse/serving}"; \
	case "$$dir" in /*) ;; *) dir="$(CURDIR)/$$dir" ;; esac; \
	WAREHOUSE_PATH=$${WAREHOUSE_PATH:-$(CURDIR)/warehouse/openai_usage.duckdb} \
		$(RUN) dbt docs generate --quiet --project-dir "$(CURDIR)/dbt_models" \
		--profiles-dir "$(CURDIR)/dbt_models" \
		--target lint --empty-catalog --static --target-path "$$dir/dbt_docs" \
		&& echo "dbt docs: $$dir/dbt_docs/static_index.html (or: cd $$dir/dbt_docs && python -m http.server)"

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	DBT_TARGET_PATH=$(CURDIR)/dbt_models/target/sqlfluff $(RUN) sqlfluff lint dbt_models

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .
	DBT_TARGET_PATH=$(CURDIR)/dbt_models/target/sqlfluff $(RUN) sqlfluff fix dbt_models

clean:
	rm -rf .venv warehouse/*.duckdb warehouse/serving warehouse/.dlt dbt_models/target
