"""The intake DAG maps over batches, not files: more files than `max_map_length` still run (issue 11, item 4).

Airflow refuses to expand a mapped task over more than `[core] max_map_length` items
(1,024 by default; a national inbox has 15,000–20,000 files a year). Here the limit is 4
and the inbox holds 13 files, in batches of at most 5: a DAG mapping one task per file
would fail; this one must load every file, in a real `airflow dags test` run.
"""

from __future__ import annotations

import shutil

import psycopg
import pytest

from tests.conftest import migrate_airflow_home
from tests.dags.airflow_runs import CORRUPT, SAMPLES, Airflow, _drop_database, _fresh_database

pytestmark = pytest.mark.slow

FILES = [
    *(f"dieutra_CA-TINH_2024-{p}.xlsx" for p in ("Q1", "Q2", "Q3", "Q4", "6M", "9M")),
    *(f"dieutra_CA-TINH_2023-{p}.xlsx" for p in ("Q1", "Q2", "Q3")),
    "dieutra_CA-HUYEN-HOANGHOA_2023-Y.csv",
    "dieutra_CA-HUYEN-TPTHANHHOA_2023-Y.csv",
    "dieutra_CA-HUYEN-TPTHANHHOA_2024-Y.csv",
    CORRUPT,
]


def test_more_files_than_max_map_length_all_run(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "4")
    monkeypatch.setenv("PCTN_INTAKE_BATCH_FILES", "5")
    home = tmp_path / "airflow"
    home.mkdir()
    migrate_airflow_home(home)
    af = Airflow(home, _fresh_database(), tmp_path / "inbox", tmp_path / "out")
    af.inbox.mkdir()
    for name in FILES:
        shutil.copy(SAMPLES / name, af.inbox / name)
    try:
        state = af.dags_test("pctn_intake")
        tasks = af.task_states("pctn_intake")
        with psycopg.connect(af.warehouse) as conn:
            statuses = dict(conn.execute("select file_name, status from registry.files").fetchall())
    finally:
        _drop_database(af.warehouse)
    assert len(FILES) > 4 * 3  # more files than the limit, three times over
    assert state == "success", tasks
    assert 2 <= len(tasks["process"]) <= 4 and 2 <= len(tasks["register"]) <= 4, tasks
    assert set(statuses) == set(FILES)
    assert statuses[CORRUPT] == "rejected"
    assert sorted({s for n, s in statuses.items() if n != CORRUPT}) == ["loaded"]
    # the corrupt thads return is alone in its source's batch: all rejected, so that batch is skipped
    assert sorted(tasks["process"]) == ["skipped"] + ["success"] * (len(tasks["process"]) - 1)
