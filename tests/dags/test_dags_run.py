"""The DAGs run for real: `airflow dags test` (dag.test()) against a real PostgreSQL.

Each DAG runs in a subprocess with its own AIRFLOW_HOME (SQLite metadata, migrated
once per module) and the warehouse as the Airflow connection `warehouse`, exactly as
`make up` wires it. The assertions read the warehouse, not Airflow's logs.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from ingestion.platform.airflow_env import airflow_env, connection_json
from tests.conftest import _fresh_database_url, drop_database, migrate_airflow_home

pytestmark = pytest.mark.slow

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


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("airflow")
    migrate_airflow_home(home)
    return home


def _fresh_database() -> str:
    return _fresh_database_url("pctn_af")


def make_inbox(inbox: Path) -> None:
    """A copy of the sample inbox (it has a corrupt workbook and ten other bad files of its own)."""
    shutil.copytree(SAMPLES, inbox, dirs_exist_ok=True)


def _drop_database(url: str) -> None:
    drop_database(url)


@pytest.fixture(scope="module")
def intake(airflow_home, tmp_path_factory) -> Iterator[Airflow]:
    """One warehouse taken through `pctn_intake` once; the tests below build on it in order."""
    base = tmp_path_factory.mktemp("dags_run")
    af = Airflow(airflow_home, _fresh_database(), base / "inbox", base / "out")
    make_inbox(af.inbox)
    af.first_state = af.dags_test("pctn_intake")
    af.first_tasks = af.task_states("pctn_intake")
    yield af
    _drop_database(af.warehouse)  # this module's own database only


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


def test_intake_loads_every_file_marks_each_bad_one_and_reruns_idempotently(intake):
    af = intake
    assert af.first_state == "success"
    n_files = sum(1 for p in SAMPLES.rglob("*") if p.is_file())
    # one mapped task per batch of files (issue 11): the sample's 114 files fit in one batch to register
    assert af.first_tasks["register"] == ["success"] * -(-n_files // 200)
    # bad data is an outcome, not a failure; the byte-identical resend (same name) is processed once
    statuses = file_statuses(af.warehouse)
    # one batch per source (plus the names that do not parse): a batch whose files were all
    # rejected ends skipped (not green, issue 13); every other batch succeeds
    assert "success" in af.first_tasks["process"] and len(af.first_tasks["process"]) <= 7
    assert set(af.first_tasks["process"]) <= {"success", "skipped"}
    assert af.first_tasks["publish"] == af.first_tasks["publish_registry"] == ["success"]
    assert af.first_tasks["fail_run"] == ["skipped"]
    assert statuses[CORRUPT] == "rejected" and "received" not in statuses.values()
    assert assert_sample_outcomes(af.warehouse) == n_files - 1  # all but the byte-identical resend
    assert not (af.out / "rejected" / CORRUPT).exists()  # no clear copy of an original outside the sealed archive
    assert (af.out / "rejected" / (CORRUPT + ".report.txt")).exists()

    before = snapshot(af.warehouse, ("registry", "raw", "audit"))
    assert af.dags_test("pctn_intake") == "success"  # rerun: nothing new in the inbox
    assert snapshot(af.warehouse, ("registry", "raw", "audit")) == before
    states = af.task_states("pctn_intake")
    assert states["publish"] == states["publish_registry"] == ["skipped"]  # nothing new: models not triggered


def xcom(home: Path, dag_id: str, task_id: str):
    with sqlite3.connect(home / "airflow.db") as db:
        row = db.execute(
            "select value from xcom where dag_id = ? and task_id = ? and key = 'return_value' order by dag_run_id desc",
            (dag_id, task_id),
        ).fetchone()
    value = json.loads(row[0]) if row else None
    return json.loads(value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    """A manifest of the dbt project as it is now (cosmos renders the models DAG from it)."""
    from ingestion.platform.airflow_env import DBT_MANIFEST
    from ingestion.platform.transform import run_dbt

    run_dbt("postgresql://postgres@localhost/unused", ["parse"])  # parse never connects
    return DBT_MANIFEST


def test_chain_gives_the_marts_of_make_run_and_reruns_change_nothing(intake, manifest, sample_warehouse):
    """intake → models → extract under Airflow = `make run` (conftest's sample_warehouse); reruns add nothing."""
    af = intake
    assert af.dags_test("pctn_models") == "success"
    states = af.task_states("pctn_models")
    assert any(t.endswith(".test") for t in states), "cosmos rendered tests after the models"
    assert all(s == ["success"] for s in states.values()), states
    with psycopg.connect(af.warehouse) as conn:  # one build, under the marts lock, recorded complete
        builds = conn.execute(
            "select status, is_full, origin from audit.marts_builds where origin like 'airflow pctn_models.%'"
        ).fetchall()
    assert [(s, f) for s, f, _ in builds] == [("complete", True)], builds
    assert builds[0][2].startswith("airflow pctn_models.dbt.dbt_producer_watcher ")

    marts = ("marts", "intermediate", "reference")
    airflow_marts = snapshot(af.warehouse, marts)
    assert airflow_marts["marts.fct_indicator_values"], "no indicator values: nothing to compare"
    assert airflow_marts == snapshot(sample_warehouse.url, marts)

    # extract on the calendar: the run for the last deadline with loaded returns, as a backfill would make it
    # (later deadlines have only "missing" rows: nothing is built or delivered for them, test_calendar_dags)
    with psycopg.connect(af.warehouse) as conn:
        period, due = conn.execute(
            "select s.period_code, p.due_date from marts.fct_return_submissions s"
            " join marts.dim_reporting_periods p using (period_code)"
            " where s.status in ('on_time', 'late') and s.rows_loaded > 0"
            " order by p.due_date desc, s.period_code limit 1"
        ).fetchone()
    logical = f"{due.isoformat()}T23:00:00+00:00"  # = 06:00 the next morning in Hà Nội
    assert af.dags_test("pctn_extract", logical) == "success"
    assert period in xcom(af.home, "pctn_extract", "due_periods")
    delivered = snapshot(af.warehouse, ("delivery",))
    assert delivered["delivery.deliveries"] and delivered["delivery.extract_files"]
    assert any(p.suffix == ".xlsx" for p in (af.out / "outbox" / period).iterdir())

    assert af.dags_test("pctn_extract", logical) == "success"  # the same run again (rerun / backfill)
    assert snapshot(af.warehouse, ("delivery",)) == delivered  # no new extract, no second delivery
    assert af.dags_test("pctn_extract", conf={"period_code": period}) == "success"  # that period, by hand
    assert snapshot(af.warehouse, ("delivery",)) == delivered

    # missing returns for the same deadline: exactly the mart's missing rows
    assert af.dags_test("pctn_missing_returns", logical) == "success"
    result = xcom(af.home, "pctn_missing_returns", "list_missing")
    assert period in result["periods"]
    with psycopg.connect(af.warehouse) as conn:
        (expected,) = conn.execute(
            "select count(*) from marts.fct_return_submissions"
            " where period_code = any(%s) and expected and status = 'missing'",
            (result["periods"],),
        ).fetchone()
    assert len(result["missing"]) == expected
