"""A DAG whose tasks fail on purpose, under the project's own retry policy and failure notice.

Used by tests/dags/test_error_paths.py only (its folder is the DAGS_FOLDER of that test). Every
task takes `dags/_common.default_args()` as the real DAGs do, with one change: the first
retry delay is 1 s instead of 30 s so the doubling back-off can be watched in a test run.
The errors are real: a refused PostgreSQL connection (psycopg.OperationalError), an
query on a closed cursor (psycopg.InterfaceError), a timeout, and a bad value,
which must not be retried.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "dags"))

import _common as c  # the project's DAG helpers, from dags/
from airflow.sdk import dag, task

FIRST_RETRY_DELAY = dt.timedelta(seconds=1)


@dag(
    dag_id="pctn_error_paths",
    schedule=None,
    start_date=c.START_DATE,
    catchup=False,
    default_args=c.default_args(retry_delay=FIRST_RETRY_DELAY),
    tags=["pctn", "test"],
)
def pctn_error_paths():
    @task
    def warehouse_refused() -> None:
        import psycopg

        psycopg.connect("postgresql://nobody@127.0.0.1:1/none", connect_timeout=2)  # nothing listens on port 1

    @task
    def cursor_closed() -> None:
        import psycopg

        with psycopg.connect(c.warehouse_url(), autocommit=True) as conn:
            cursor = conn.cursor()
            cursor.close()
            cursor.execute("select 1")  # psycopg.InterfaceError: the cursor is closed

    @task
    def timed_out() -> None:
        raise TimeoutError("the warehouse did not answer in time")

    @task
    def bad_value() -> None:
        raise ValueError("Unknown period_code '2031-Y'")

    warehouse_refused()
    cursor_closed()
    timed_out()
    bad_value()


pctn_error_paths()
