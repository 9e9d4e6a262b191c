"""A failed build under Airflow: per-model tasks say which nodes failed, the extract refuses the marts.

`airflow dags test pctn_models` on a warehouse without the intake's schemas: every
staging model fails in the producer's one `dbt build`, the seeds still build. The
watchers end as their nodes ended (seeds green, staging red), the build is recorded
`failed` in `audit.marts_builds`, and `build_extract` refuses the marts.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ingestion.platform.airflow_env import airflow_env, connection_json
from tests.conftest import _fresh_database_url, drop_database

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def test_a_failed_build_shows_per_model_and_leaves_marts_the_extract_refuses(tmp_path):
    from ingestion.extract import MartsIncomplete, build_extract
    from ingestion.platform.transform import run_dbt

    url = _fresh_database_url("pctn_afail")
    try:
        run_dbt(url, ["parse"], quiet=True)  # the manifest cosmos renders from (parse never connects)
        env = {**os.environ, **airflow_env(tmp_path, url, f"sqlite:///{tmp_path}/airflow.db")}
        env["AIRFLOW_CONN_WAREHOUSE"] = connection_json(url)
        env.pop("WAREHOUSE_URL", None)
        airflow = [sys.executable, "-m", "airflow"]
        migrate = subprocess.run([*airflow, "db", "migrate"], env=env, capture_output=True, text=True)
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        run = subprocess.run(
            [*airflow, "dags", "test", "pctn_models"], env=env, capture_output=True, text=True, cwd=REPO, timeout=900
        )
        with sqlite3.connect(tmp_path / "airflow.db") as db:
            (dag_state,) = db.execute("select state from dag_run where dag_id = 'pctn_models'").fetchone()
            states = dict(db.execute("select task_id, state from task_instance where dag_id = 'pctn_models'"))
        assert dag_state == "failed", run.stdout[-4000:]
        assert states["dbt.dbt_producer_watcher"] == "failed"
        assert states["dbt.agencies.seed"] == "success"  # what dbt built is shown built
        assert states["dbt.stg_registry__files.run"] == "failed"  # the node that failed, by name
        assert states["marts_ready"] == "upstream_failed"  # no marts Asset event

        with psycopg.connect(url) as conn:
            builds = conn.execute("select status, is_full, origin from audit.marts_builds").fetchall()
        assert [(s, f) for s, f, _ in builds] == [("failed", True)]
        assert builds[0][2].startswith("airflow pctn_models.dbt.dbt_producer_watcher ")
        with pytest.raises(MartsIncomplete, match="failed"):
            build_extract(url, "2025-Y")
    finally:
        drop_database(url)
