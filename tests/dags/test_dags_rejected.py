"""Airflow shows what happened to a rejected file (issue 13 item 3), in a real `airflow dags test` run.

Two returns: one good (`dieutra`), one corrupt (`thads`). The rejected file's `process`
task must end `skipped` (not green), its log must give the reason in Vietnamese and
English and the feedback file's path, the run's summary (the `publish` task's XCom)
must list the rejection by reason, and only the loaded source's raw Asset may get an
event. Everything is read from Airflow's own metadata database and the task logs.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest

from tests.conftest import migrate_airflow_home
from tests.dags.airflow_runs import Airflow, _drop_database, _fresh_database

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "returns"
GOOD = "dieutra_CA-TINH_2024-Y.xlsx"
CORRUPT = "thads_THADS-TINH_2024-6M.xlsx"  # the sample's corrupt workbook (samples/expected.json)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow_rejected")
    migrate_airflow_home(home)
    base = tmp_path_factory.mktemp("rejected_run")
    af = Airflow(home, _fresh_database(), base / "inbox", base / "out")
    af.inbox.mkdir()
    for name in (GOOD, CORRUPT):
        shutil.copy(SAMPLES / name, af.inbox / name)
    af.proc = af.run("dags", "test", "pctn_intake")
    yield af
    _drop_database(af.warehouse)


def _db(af: Airflow, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(af.home / "airflow.db") as db:
        return db.execute(sql, args).fetchall()


def _task_log(af: Airflow, task_id: str, map_index: int) -> str:
    """The task's log file, else the `dags test` output (it logs in-process)."""
    logs = list((af.home / "logs").rglob(f"task_id={task_id}/map_index={map_index}/*.log"))
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)
    return text or (af.proc.stdout + af.proc.stderr)


def test_rejected_file_is_skipped_with_its_reason_and_feedback_path(run) -> None:
    af = run
    (state,) = _db(af, "select state from dag_run where dag_id = 'pctn_intake'")[0]
    assert state == "success", af.proc.stdout[-4000:] + af.proc.stderr[-4000:]
    by_file = {
        name: (index, st)
        for index, st, name in _db(
            af,
            "select map_index, state, rendered_map_index from task_instance"
            " where dag_id = 'pctn_intake' and task_id = 'process'",
        )
    }
    assert by_file[CORRUPT][1] == "skipped" and by_file[GOOD][1] == "success", by_file
    log = _task_log(af, "process", by_file[CORRUPT][0])
    with psycopg.connect(af.warehouse) as conn:
        code, reason_vi, reason_en = conn.execute(
            "select reject_code, reject_reason_vi, reject_reason_en from registry.files where file_name = %s",
            (CORRUPT,),
        ).fetchone()
    assert code == "unreadable"
    assert f"Lý do: {reason_vi}" in log  # Vietnamese
    assert f"Reason: {reason_en}" in log  # English
    assert str(af.out / "feedback" / "thads_THADS-TINH_2024-6M.phan-hoi.feedback.xlsx") in log
    assert (af.out / "feedback" / "thads_THADS-TINH_2024-6M.phan-hoi.feedback.xlsx").exists()


def test_run_summary_lists_the_rejection_by_reason(run) -> None:
    af = run
    (value,) = _db(
        af, "select value from xcom where dag_id = 'pctn_intake' and task_id = 'publish' and key = 'return_value'"
    )[0]
    summary = json.loads(value)
    summary = json.loads(summary) if isinstance(summary, str) else summary
    assert summary["files_by_status"] == {"loaded": 1, "rejected": 1}
    assert list(summary["rejected_by_reason"]) == ["unreadable"]
    assert summary["rejected_by_reason"]["unreadable"][0].startswith(f"{CORRUPT}: The Excel (.xlsx) file")
    assert summary["rows_loaded_by_source"]["dieutra"] > 0 and "thads" not in summary["rows_loaded_by_source"]


def test_only_the_loaded_sources_asset_gets_an_event(run) -> None:
    af = run
    events = _db(
        af,
        "select a.name, e.extra from asset_event as e join asset as a on a.id = e.asset_id order by a.name",
    )
    names = [name for name, _ in events]
    assert names == ["pctn.raw.dieutra_cases", "pctn.registry.files"], names
    extra = json.loads(dict(events)["pctn.raw.dieutra_cases"])
    assert extra["rows_loaded"] > 0
