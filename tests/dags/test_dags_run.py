"""The DAGs run for real: `airflow dags test` (dag.test()) against a real PostgreSQL.

Each DAG runs in a subprocess with its own AIRFLOW_HOME (SQLite metadata, migrated
once per module) and the warehouse as the Airflow connection `warehouse`, exactly as
`make up` wires it. The assertions read the warehouse, not Airflow's logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.dags.airflow_runs import (
    CORRUPT,
    SAMPLES,
    Airflow,
    _drop_database,
    _fresh_database,
    assert_sample_outcomes,
    file_statuses,
    make_inbox,
    snapshot,
    xcom,
)

pytestmark = pytest.mark.slow


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
