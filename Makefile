# Two commands do everything on a fresh machine: `make run` and `make test`.
# Both create (or reuse) the virtual environment; with no WAREHOUSE_URL they use an
# embedded PostgreSQL 16 (pgserver) under .data/, started once and reused.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt constraints.txt | sha256sum | cut -c1-12)

export GX_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-fast venv lint format samples suites bench docs up down clean

$(STAMP): requirements.txt constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

## make run: the whole pipeline on the bundled sample returns (RETURNS_INBOX to use yours)
run: venv
	$(PY) -m ingestion --demo-key run

## make test: the test suite against a real PostgreSQL (embedded unless WAREHOUSE_URL is set)
test: venv
	$(PY) -m pytest

## make test-fast: the inner loop, tests not marked slow (no dbt or Airflow runs: tests/run_guard.py)
test-fast: venv
	$(PY) -m pytest -m "not slow"

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/sqlfluff lint dbt_project/models dbt_project/tests dbt_project/macros

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## regenerate the bundled sample returns and the GX suites from the contract
samples: venv
	$(PY) -m ingestion.samples.generate --seed 168 --out samples/returns

suites: venv
	$(PY) -m ingestion.contract.suites

bench: venv
	$(PY) -m bench.intake --rows 1000000
	$(PY) bench/dag_parse.py

## make docs: dbt documentation with lineage, served on http://127.0.0.1:8081
docs: venv
	$(PY) -m ingestion docs

## make up / make down: Airflow on this machine against the make-run warehouse
up: venv
	bash scripts/airflow_up.sh

down:
	bash scripts/airflow_down.sh

clean:
	rm -rf output .data/airflow dbt_project/target
