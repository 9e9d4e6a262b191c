"""What the real DAG runs share: an Airflow home and warehouse per test module, `airflow dags test`, XComs.

Used by every module in tests/dags/ and by tests/platform/test_celery.py; the fixtures are in
tests/dags/conftest.py. Each DAG runs in a subprocess with its own AIRFLOW_HOME (SQLite
metadata) and the warehouse as the Airflow connection `warehouse`, exactly as `make up` wires it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ingestion.platform.airflow_env import airflow_env, connection_json
from tests.conftest import _fresh_database_url, drop_database

REPO = Path(__file__).resolve().parents[2]


SAMPLES = REPO / "samples" / "returns"


CORRUPT = "thads_THADS-TINH_2024-6M.xlsx"  # the sample's corrupt workbook (samples/expected.json)


@dataclass
class Airflow:
    """`airflow dags test` against one warehouse, in one AIRFLOW_HOME."""

    home: Path
    warehouse: str
    inbox: Path
    out: Path

    def env(self) -> dict[str, str]:
        env = {**os.environ, **airflow_env(self.home, self.warehouse, f"sqlite:///{self.home}/airflow.db")}
        env.update(
            {
                "AIRFLOW_CONN_WAREHOUSE": connection_json(self.warehouse),
                "RETURNS_INBOX": str(self.inbox),
                "PCTN_OUTPUT_DIR": str(self.out),
                "PCTN_OUTBOX_DIR": str(self.out / "outbox"),
                "PCTN_DELIVERY_CHANNELS": "outbox",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
            }
        )
        env.pop("WAREHOUSE_URL", None)  # the connection is the only way in, as under Airflow
        return env

    def run(self, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env(), capture_output=True, text=True, timeout=timeout, cwd=REPO,
        )  # fmt: skip

    def dags_test(self, dag_id: str, logical_date: str | None = None, conf: dict | None = None) -> str:
        """Run one DagRun to its end; return its final state."""
        args = ["dags", "test", dag_id]
        if logical_date:
            args.append(logical_date)
        if conf:
            args += ["--conf", json.dumps(conf)]
        proc = self.run(*args)
        with sqlite3.connect(self.home / "airflow.db") as db:
            row = db.execute(
                "select state from dag_run where dag_id = ? order by id desc limit 1", (dag_id,)
            ).fetchone()
        state = row[0] if row else None
        if proc.returncode != 0 or state != "success":
            print(proc.stdout[-6000:], proc.stderr[-6000:])
        return state

    def task_states(self, dag_id: str) -> dict[str, list[str]]:
        with sqlite3.connect(self.home / "airflow.db") as db:
            run_id = db.execute(
                "select run_id from dag_run where dag_id = ? order by id desc limit 1", (dag_id,)
            ).fetchone()[0]
            rows = db.execute(
                "select task_id, state from task_instance where dag_id = ? and run_id = ? order by task_id, map_index",
                (dag_id, run_id),
            ).fetchall()
        states: dict[str, list[str]] = {}
        for task_id, state in rows:
            states.setdefault(task_id, []).append(state)
        return states


def _fresh_database() -> str:
    return _fresh_database_url("pctn_af")


def make_inbox(inbox: Path) -> None:
    """A copy of the sample inbox (it has a corrupt workbook and ten other bad files of its own)."""
    shutil.copytree(SAMPLES, inbox, dirs_exist_ok=True)


def _drop_database(url: str) -> None:
    drop_database(url)


def assert_sample_outcomes(url: str) -> int:
    """Each sample file ended as `samples/expected.json` says (status, reject code, rows loaded)."""
    expected_path = SAMPLES.parent / "expected.json"
    if not expected_path.exists():
        return 0
    with psycopg.connect(url, autocommit=True) as conn:
        got = {
            name: (status, reject_code, rows_loaded)
            for name, status, reject_code, rows_loaded in conn.execute(
                "select file_name, status, reject_code, rows_loaded from registry.files"
            )
        }
    checked = 0
    for f in json.loads(expected_path.read_text(encoding="utf-8"))["files"]:
        if f["status"] == "duplicate":  # same bytes as another file: one registry row
            continue
        name = Path(f["path"]).name
        status, reject_code, rows_loaded = got[name]
        assert (status, reject_code) == (f["status"], f.get("reject_code")), name
        if status in ("loaded", "superseded"):
            assert rows_loaded == f["rows_loaded"], name
        checked += 1
    return checked


def snapshot(url: str, schemas: tuple[str, ...]) -> dict[str, list]:
    """Every table of `schemas`, rows sorted, without timestamps (which say *when*, not *what*).

    File ids are left out too: the mapped tasks register files in any order, so the ids
    (not the files they stand for) may differ from a sequential `make run`.
    """
    out: dict[str, list] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1, 2",
            (list(schemas),),
        ).fetchall()
        for schema, table in tables:
            cols = conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                " and data_type not like 'timestamp%%' and data_type <> 'bytea' and column_name not like '%%file_id'"
                " order by ordinal_position",
                (schema, table),
            ).fetchall()
            names = ", ".join(f'"{c[0]}"' for c in cols)
            rows = conn.execute(f'select {names} from "{schema}"."{table}"').fetchall()
            out[f"{schema}.{table}"] = sorted(rows, key=repr)
    return out


def file_statuses(url: str) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return dict(conn.execute("select file_name, status from registry.files").fetchall())


def xcom(home: Path, dag_id: str, task_id: str):
    with sqlite3.connect(home / "airflow.db") as db:
        row = db.execute(
            "select value from xcom where dag_id = ? and task_id = ? and key = 'return_value' order by dag_run_id desc",
            (dag_id, task_id),
        ).fetchone()
    value = json.loads(row[0]) if row else None
    return json.loads(value) if isinstance(value, str) else value
