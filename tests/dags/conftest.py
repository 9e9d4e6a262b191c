"""Fixtures of the real DAG runs (helpers in tests/dags/airflow_runs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import migrate_airflow_home


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("airflow")
    migrate_airflow_home(home)
    return home
