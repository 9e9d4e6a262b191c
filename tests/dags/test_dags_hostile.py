"""A file that kills its reader ends only that file, in a real `airflow dags test` run (issue 10 item 1).

The inbox holds a good return, a workbook whose lone far cell makes calamine abort
the process (SIGABRT, with the dimension removed so the pre-check cannot see it),
and a link to a file outside the inbox. The run must complete, `publish` must run,
the good file must load, the crashing file must be rejected `reader_crashed` with
its task skipped, and the link must be left unread with a receipt.
"""

from __future__ import annotations

import os
import shutil
import sqlite3

import psycopg
import pytest

from tests import hostile_files as h
from tests.conftest import migrate_airflow_home
from tests.dags.airflow_runs import Airflow, _drop_database, _fresh_database
from tests.dags.test_dags_rejected import GOOD, SAMPLES

pytestmark = pytest.mark.slow

CRASHING = "thanhtra_TT-TINH_2024-Y.xlsx"
LINK = "thanhtra_TT-HUYEN-SAMSON_2024-Y.csv"


def test_reader_crash_ends_only_its_file_and_the_run_completes(tmp_path):
    home = tmp_path / "airflow"
    home.mkdir()
    migrate_airflow_home(home)
    af = Airflow(home, _fresh_database(), tmp_path / "inbox", tmp_path / "out")
    af.inbox.mkdir()
    shutil.copy(SAMPLES / GOOD, af.inbox / GOOD)
    (af.inbox / CRASHING).write_bytes(h.far_cell(dimension=False))
    secret = tmp_path / "outside.csv"
    secret.write_text("not a return\n", encoding="utf-8")
    (af.inbox / LINK).symlink_to(secret)
    os.environ["PCTN_READER_MEMORY_MB"] = "1024"
    try:
        af.proc = af.run("dags", "test", "pctn_intake")
    finally:
        os.environ.pop("PCTN_READER_MEMORY_MB")
    try:
        with sqlite3.connect(home / "airflow.db") as db:
            (state,) = db.execute("select state from dag_run where dag_id = 'pctn_intake'").fetchone()
            tasks = dict(
                db.execute(
                    "select coalesce(rendered_map_index, task_id), state from task_instance"
                    " where dag_id = 'pctn_intake' and task_id in ('process', 'publish')"
                ).fetchall()
            )
        assert state == "success", af.proc.stdout[-4000:] + af.proc.stderr[-4000:]
        assert tasks == {GOOD: "success", CRASHING: "skipped", "publish": "success"}, tasks
        with psycopg.connect(af.warehouse) as conn:
            files = dict(
                conn.execute("select file_name, status || ':' || coalesce(reject_code, '') from registry.files")
            )
            receipts = conn.execute("select entry_path, reason_code from registry.receipts where outcome = 'not_read'")
            not_read = receipts.fetchall()
        assert files == {GOOD: "loaded:", CRASHING: "rejected:reader_crashed"}
        assert not_read == [(LINK, "symlink")]
    finally:
        _drop_database(af.warehouse)
