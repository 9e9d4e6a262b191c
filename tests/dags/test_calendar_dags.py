"""The calendar DAGs (missing returns, extract) on the run's date, and never an empty delivery.

Real runs: `airflow dags test` against a real PostgreSQL (helpers of test_dags_run), a
warehouse that holds some loaded 2025 returns and none for 2026. The chase list for the
morning after the 2026-Q1 deadline must list every expected unit (the seeds say which),
although the marts were last built the day before and the last file arrived in January;
the extract of that deadline must deliver nothing. The timetable check reads the DAGs as
the dag-processor does and asks Airflow when each would first run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.dags.airflow_runs import SAMPLES, Airflow, _drop_database, _fresh_database, xcom

REPO = Path(__file__).resolve().parents[2]
# Loaded returns of 2025 only (one police, one enforcement), none of 2026.
RETURNS_2025 = ("dieutra_CA-TINH_2025-Y.xlsx", "thads_THADS-KV1_2025-Y.csv")
MORNING_AFTER_Q1 = "2026-03-21T00:00:00+00:00"  # 07:00 in Hà Nội, the cron's own time
MORNING_AFTER_2025Y = "2025-12-21T00:00:00+00:00"


def expected_units(period_end: dt.date) -> set[tuple[str, str]]:
    """(source, unit) expected for a period ending on `period_end`: the calendar's rule over the seeds."""
    from ingestion.calendar import expected_units as units_on

    return units_on(period_end)


@pytest.fixture(scope="module")
def calendar(airflow_home, tmp_path_factory) -> Iterator[Airflow]:
    """Two 2025 returns loaded in January 2026; marts last built on 20/03/2026 (deadline day)."""
    from ingestion.intake.pipeline import run_intake
    from ingestion.intake.schema import ensure_schema
    from ingestion.platform.transform import run_dbt

    base = tmp_path_factory.mktemp("calendar")
    af = Airflow(airflow_home, _fresh_database(), base / "inbox", base / "out")
    af.inbox.mkdir()
    for name in RETURNS_2025:
        shutil.copy(SAMPLES / name, af.inbox / name)
    with psycopg.connect(af.warehouse, autocommit=True) as conn:
        ensure_schema(conn)
    outcomes = run_intake(af.warehouse, af.inbox, base / "intake-out")
    assert sorted(o.status for o in outcomes) == ["loaded", "loaded"]
    with psycopg.connect(af.warehouse, autocommit=True) as conn:  # they came in January
        conn.execute("update registry.files set received_at = '2026-01-10 09:00+07'")
    run_dbt(
        af.warehouse,
        ["build", "--exclude", "resource_type:unit_test", "--vars", "{as_of_date: '2026-03-20'}"],
        target_path=base / "dbt",
        quiet=True,
    )
    yield af
    _drop_database(af.warehouse)


def delivered(af: Airflow) -> tuple[list, list, list[Path]]:
    """Delivery log, stored extracts and outbox files (the schema exists once anything was built)."""
    with psycopg.connect(af.warehouse, autocommit=True) as conn:
        (exists,) = conn.execute("select to_regclass('delivery.deliveries') is not null").fetchone()
        log = conn.execute("select period_code, channel, outcome from delivery.deliveries").fetchall() if exists else []
        extracts = conn.execute("select period_code from delivery.extracts").fetchall() if exists else []
    outbox = af.out / "outbox"
    return log, extracts, sorted(p for p in outbox.rglob("*") if p.is_file()) if outbox.exists() else []


@pytest.mark.slow
def test_chase_list_the_morning_after_a_deadline_lists_every_expected_unit(calendar):
    af = calendar
    with psycopg.connect(af.warehouse, autocommit=True) as conn:  # built the day before: Q1 not due yet
        (before,) = conn.execute(
            "select count(*) from marts.fct_return_submissions where period_code = '2026-Q1'"
        ).fetchone()
    assert before == 0

    assert af.dags_test("pctn_missing_returns", MORNING_AFTER_Q1) == "success"
    result = xcom(af.home, "pctn_missing_returns", "list_missing")
    assert result["periods"] == ["2026-Q1"] and result["as_of"] == "2026-03-21"
    listed = {(m["source"], m["unit_code"]) for m in result["missing"]}
    assert listed == expected_units(dt.date(2026, 3, 14))  # 2026-Q1 ends on 14/03/2026
    assert {m["due_date"] for m in result["missing"]} == {"2026-03-20"}

    # the marts now agree with the list (the extract reads them)
    with psycopg.connect(af.warehouse, autocommit=True) as conn:
        rows = conn.execute(
            "select source, unit_code from marts.fct_return_submissions"
            " where period_code = '2026-Q1' and expected and status = 'missing'"
        ).fetchall()
        (as_of,) = conn.execute("select distinct as_of_date from intermediate.int_return_submissions").fetchone()
    assert set(rows) == listed and as_of == dt.date(2026, 3, 21)


@pytest.mark.slow
def test_extract_on_a_deadline_without_returns_delivers_nothing(calendar):
    af = calendar
    assert af.dags_test("pctn_extract", MORNING_AFTER_Q1) == "success"
    states = af.task_states("pctn_extract")
    assert states["due_periods"] == ["success"] and states["reportable_periods"] == ["success"]
    assert states["build"] == ["skipped"] and states["deliver"] == ["skipped"]
    log, extracts, outbox = delivered(af)
    assert log == [] and extracts == [] and outbox == []

    # a pinned period without returns is refused the same way
    assert af.dags_test("pctn_extract", conf={"period_code": "2026-Q1"}) == "success"
    assert af.task_states("pctn_extract")["build"] == ["skipped"]
    assert delivered(af) == ([], [], [])

    assert xcom(af.home, "pctn_extract", "reportable_periods") == []

    # control: on the 2025-Y deadline (also 2025-Q4's, which has no return) 2025-Y alone is delivered
    assert af.dags_test("pctn_extract", MORNING_AFTER_2025Y) == "success"
    assert xcom(af.home, "pctn_extract", "reportable_periods") == ["2025-Y"]
    log, extracts, outbox = delivered(af)
    assert log == [("2025-Y", "outbox", "delivered")] and extracts == [("2025-Y",)]
    assert {p.parent.name for p in outbox} == {"2025-Y"} and any(p.suffix == ".xlsx" for p in outbox)


_FIRST_RUN = r"""
import json, sys
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.serialization.serialized_objects import DagSerialization
from airflow.utils import timezone
bag = BundleDagBag(sys.argv[1], bundle_path=sys.argv[1])
out = {}
for dag_id in ("pctn_extract", "pctn_missing_returns"):
    dag = DagSerialization.from_dict(DagSerialization.to_dict(bag.dags[dag_id]))  # as the scheduler sees it
    info = dag.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=dag._time_restriction)
    out[dag_id] = {"first_run": info.run_after.isoformat(), "now": timezone.utcnow().isoformat()}
print(json.dumps(out))
"""


def test_calendar_dags_never_run_at_once_when_first_unpaused(tmp_path):
    """`make up` unpauses every DAG: the calendar's first run is the next deadline, not the last one."""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "false"}
    proc = subprocess.run(
        [sys.executable, "-c", _FIRST_RUN, str(REPO / "dags")], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for dag_id, when in json.loads(proc.stdout.strip().splitlines()[-1]).items():
        first, now = dt.datetime.fromisoformat(when["first_run"]), dt.datetime.fromisoformat(when["now"])
        assert first > now, f"{dag_id} would run at once for the past deadline {first}"
        assert first.astimezone(dt.timezone(dt.timedelta(hours=7))).strftime("%d %H:%M") == "21 07:00"
