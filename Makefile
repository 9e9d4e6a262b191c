# Two commands do everything on a fresh machine: `make run` and `make test`.
# Both create (or reuse) the virtual environment; with no WAREHOUSE_URL they use an
# embedded PostgreSQL 16 (pgserver) under .data/, started once and reused.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt constraints.txt pyproject.toml | sha256sum | cut -c1-12)

export GX_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help run test test-fast venv lint format samples suites bench docs up down stop clean office pictures bench-national bench-national-full

.DEFAULT_GOAL := help

help: ## list the targets (this text)
	@echo "make <target>   (environment variables: python -m ingestion --help)"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  \1\t\2/' | expand -t 12

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP) ## create/refresh .venv from requirements.txt + constraints.txt

run: venv ## the whole pipeline on the bundled sample returns (RETURNS_INBOX to use yours)
	$(PY) -m ingestion --demo-key run

test: venv ## the test suite against a real PostgreSQL (embedded unless WAREHOUSE_URL is set)
	$(PY) -m pytest

test-fast: venv ## the inner loop: tests not marked slow (no dbt or Airflow runs, see tests/run_guard.py)
	$(PY) -m pytest -m "not slow"

lint: venv ## ruff + mypy + sqlfluff, as the tests run them
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/sqlfluff lint dbt_project/models dbt_project/tests dbt_project/macros

format: venv ## ruff format and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

samples: venv ## regenerate the bundled sample returns (samples/returns, expected.json)
	$(PY) -m ingestion_samples.generate --seed 168 --out samples/returns

suites: venv ## regenerate the GX suites (expectations/) from the contract
	$(PY) -m ingestion.contract.suites

bench: venv ## intake benchmark on 1M rows, hostile files and isolation overhead, DAG parse times
	$(PY) -m bench.intake --rows 1000000
	$(PY) -m bench.hostile
	$(PY) bench/dag_parse.py

bench-national: venv ## national scale, small form (3 provinces, 2 years): intake, dbt full + incremental, models DAG, extract
	$(PY) -m bench.national --provinces 3 --years 2024-2025 --name national-small

bench-national-full: venv ## national scale, full form by hand (34 provinces, 2016-2025; long)
	$(PY) -m bench.national --provinces 34 --years 2016-2025 --large-csv-rows 1000000 --name national --inbox-cache bench/results/national-cache-data

office: ## LibreOffice, poppler and the print fonts (Debian packages) the PDF checks and pictures use
	bash scripts/install_office.sh

pictures: office run ## README images of the extract's and the yearly draft's first pages, from the sample
	bash scripts/pictures.sh "$${PCTN_OUTPUT_DIR:-output}/extract/$$(ls "$${PCTN_OUTPUT_DIR:-output}/extract" | sort | tail -n 1)" docs/img
	$(PY) scripts/feedback_picture.py

docs: venv ## dbt documentation with lineage, served on http://127.0.0.1:8081
	$(PY) -m ingestion docs

up: venv ## Airflow on this machine (UI on :8080) against the make-run warehouse
	bash scripts/airflow_up.sh

down: ## stop the Airflow of make up
	bash scripts/airflow_down.sh

stop: ## stop Airflow (make down) and the embedded PostgreSQL under .data/pg
	@bash scripts/airflow_down.sh
	@if test -x $(PY); then $(PY) -m ingestion stop; else echo "no .venv: no embedded PostgreSQL to stop"; fi

clean: ## remove output/, Airflow state and dbt artefacts (keeps the warehouse)
	rm -rf output .data/airflow dbt_project/target
