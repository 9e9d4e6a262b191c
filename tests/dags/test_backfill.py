"""`airflow backfill create` as the README writes it, run for real on a migrated metadata DB.

Airflow 3 backfills are executed by the scheduler: the command records a backfill and
creates its runs (`run_type = backfill`, one per cron tick in the range), which the
scheduler of `make up` then runs. Without a scheduler here, the test checks what the
command creates: one run per reporting deadline of the year, each with the logical date
whose periods (`dags/_common.periods_due`) are the ones the scheduled run would extract.
The runs themselves are exercised by `tests/dags/test_dags_run.py` (`dags test` at the same
logical dates).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.platform.airflow_env import airflow_env

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
README_COMMAND = "airflow backfill create --dag-id pctn_extract --from-date 2025-01-01 --to-date 2025-12-31"


def _airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True, timeout=600, cwd=REPO
    )
    assert proc.returncode == 0, (args, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def test_backfill_create_makes_one_run_per_deadline(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert README_COMMAND in readme, "README, 'Rerun and backfill': the command tested here"
    env = {**os.environ, **airflow_env(tmp_path, "postgresql://unused/x", f"sqlite:///{tmp_path}/airflow.db")}
    _airflow(env, "db", "migrate")
    _airflow(env, "dags", "reserialize")
    _airflow(env, *README_COMMAND.split()[1:])

    with sqlite3.connect(tmp_path / "airflow.db") as db:
        backfills = db.execute("select dag_id, from_date, to_date from backfill").fetchall()
        runs = db.execute(
            "select logical_date, state from dag_run where dag_id = 'pctn_extract' and run_type = 'backfill'"
            " order by logical_date"
        ).fetchall()
    assert [b[0] for b in backfills] == ["pctn_extract"]
    logical = [dt.datetime.fromisoformat(d).replace(tzinfo=dt.UTC) for d, _ in runs]
    # 07:00 Asia/Ho_Chi_Minh on 21 Mar/Jun/Sep/Dec = 00:00 UTC, the morning after each deadline
    assert [d.strftime("%Y-%m-%dT%H:%M") for d in logical] == [
        "2025-03-21T00:00",
        "2025-06-21T00:00",
        "2025-09-21T00:00",
        "2025-12-21T00:00",
    ]
    assert {state for _, state in runs} <= {"queued", "running"}  # waiting for the scheduler

    sys.path.insert(0, str(REPO / "dags"))
    from _common import periods_due

    assert [periods_due(d) for d in logical] == [
        ["2025-Q1"],
        ["2025-6M", "2025-Q2"],
        ["2025-9M", "2025-Q3"],
        ["2025-Q4", "2025-Y"],
    ]
