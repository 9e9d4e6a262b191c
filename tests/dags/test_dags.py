"""The DAG files import cleanly, cheaply and say who owns them (no database, no Airflow DB).

Parsing happens in a subprocess with its own AIRFLOW_HOME, as the dag-processor does
it, so these tests neither depend on nor change the Airflow settings of other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
sys.path.insert(0, str(REPO / "bench"))
import dag_parse  # noqa: E402

EXPECTED = {"pctn_intake", "pctn_models", "pctn_extract", "pctn_missing_returns"}

_INSPECT = r"""
import json, sys
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.serialization.serialized_objects import DagSerialization
bag = BundleDagBag(sys.argv[1], bundle_path=sys.argv[1])
out = {"errors": bag.import_errors, "dags": {}, "heavy": [m for m in
       ("pandas", "great_expectations", "dbt.cli", "polars", "ingestion.intake.pipeline") if m in sys.modules]}
for dag_id, dag in bag.dags.items():
    DagSerialization.to_dict(dag)  # what the dag-processor stores; fails on unserialisable args
    out["dags"][dag_id] = {
        "fileloc": dag.fileloc,
        "tags": sorted(dag.tags),
        "doc_md": dag.doc_md or "",
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "timetable": type(dag.timetable).__name__,
        "schedule_assets": sorted(a.name for a in getattr(dag.timetable.asset_condition, "objects", [])
            ) if getattr(dag.timetable, "asset_condition", None) is not None else [],
        "tasks": {t.task_id: {
            "owner": t.owner, "retries": t.retries, "type": type(t).__name__,
            "retry_policy": type(t.retry_policy).__name__ if t.retry_policy else None,
            "failure_callback": bool(t.on_failure_callback),
            "outlets": sorted(getattr(o, "name", str(o)) for o in t.outlets),
            "exclude": getattr(t, "exclude", None),
            "upstream": sorted(t.upstream_task_ids),
        } for t in dag.tasks},
    }
import psycopg
from _common import RETRY_POLICY, TransientError
out["policy"] = {type(e).__name__: RETRY_POLICY.evaluate(e, 1, 4).action.value for e in (
    psycopg.OperationalError("server closed the connection"), ConnectionError(), TransientError("sftp down"),
    ValueError("bad value"), KeyError("x"))}
from airflow.sdk import Connection
from _common import connection_url
from ingestion.platform.airflow_env import connection_json
from ingestion.platform.warehouse import libpq_params
out["urls"] = {}
for url in ("postgresql://pctn:p%40ss@warehouse:5432/pctn", "postgresql://postgres:@/pctn?host=/tmp/pg/socket"):
    conn = Connection.from_json(connection_json(url), conn_id="warehouse")  # AIRFLOW_CONN_WAREHOUSE as make up sets it
    out["urls"][url] = [connection_url(conn), libpq_params(connection_url(conn)) == libpq_params(url)]
print(json.dumps(out))
"""


def _inspect(**env_overrides: str) -> dict:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pctn-dagbag-") as home:
        env = dag_parse.parse_env(home)
        env.update(env_overrides)
        proc = subprocess.run(
            [sys.executable, "-c", _INSPECT, str(DAGS)], env=env, capture_output=True, text=True, cwd=REPO
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def manifest() -> Path:
    """`dbt parse` of the project as it is now (cosmos renders pctn_models from it; no database)."""
    from ingestion.platform.airflow_env import DBT_MANIFEST
    from ingestion.platform.transform import run_dbt

    run_dbt("postgresql://postgres@localhost/unused", ["parse"])  # parse never connects
    return DBT_MANIFEST


@pytest.fixture(scope="module")
def bag(manifest) -> dict:
    return _inspect()


def test_no_import_errors_and_every_dag_present(bag):
    assert bag["errors"] == {}
    assert set(bag["dags"]) == EXPECTED


def test_no_dag_file_is_named_like_a_dbt_plugin():
    """cosmos 1.15 imports files named dbt_*.py during dbt's plugin discovery."""
    assert not list(DAGS.glob("dbt_*.py"))


def test_parsing_imports_nothing_heavy(bag):
    assert bag["heavy"] == [], "pandas/GX/dbt/the pipeline must be imported inside tasks only"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_every_dag_has_owner_tags_retries_docs(bag, dag_id):
    dag = bag["dags"][dag_id]
    assert "pctn" in dag["tags"] and len(dag["tags"]) >= 2
    assert len(dag["doc_md"]) > 200, "doc_md says what the DAG does and how to rerun it"
    assert dag["catchup"] is False and dag["max_active_runs"] == 1
    for task_id, task in dag["tasks"].items():
        assert task["owner"] == "pctn-data", task_id
        assert task["retries"] >= 1, task_id
        assert task["retry_policy"] == "ExceptionRetryPolicy", task_id  # transient errors only
        if task["type"] != "EmptyOperator":
            assert task["failure_callback"], task_id


def test_retries_only_transient_errors(bag):
    """Back-off retries for a lost connection or a failed send; a bug or bad data fails at once."""
    assert bag["policy"] == {
        "OperationalError": "retry",
        "ConnectionError": "retry",
        "TransientError": "retry",
        "ValueError": "fail",
        "KeyError": "fail",
    }


def test_warehouse_connection_round_trips_to_the_same_libpq_url(bag):
    """TCP and unix-socket (embedded PostgreSQL) warehouses survive AIRFLOW_CONN_WAREHOUSE and back."""
    for url, (rebuilt, same) in bag["urls"].items():
        assert same, (url, rebuilt)


def test_intake_maps_one_task_per_file_and_publishes_raw_assets(bag):
    tasks = bag["dags"]["pctn_intake"]["tasks"]
    assert tasks["register"]["upstream"] == ["scan_inbox"]
    assert tasks["distinct_files"]["upstream"] == ["register"]  # a file offered twice is processed once
    assert tasks["process"]["upstream"] == ["distinct_files"]
    # an alias: at run time it resolves to the raw Assets of the sources that loaded rows only
    assert tasks["publish"]["outlets"] == ["pctn.raw.loaded"]
    assert tasks["publish"]["upstream"] == ["distinct_files", "process"]


def test_models_run_on_raw_assets(bag):
    models = bag["dags"]["pctn_models"]
    assert models["timetable"] == "AssetTriggeredTimetable"
    intake = bag["dags"]["pctn_intake"]["tasks"]
    raw = {f"pctn.raw.{t}" for t in ("thanhtra_inspections", "dieutra_cases", "truyto_cases", "xetxu_cases")}
    raw.add("pctn.raw.thads_matters")
    assert set(models["schedule_assets"]) == {*raw, *intake["publish_registry"]["outlets"]}
    assert intake["publish_registry"]["outlets"] == ["pctn.registry.files"]
    assert models["tasks"]["marts_ready"]["outlets"] == ["pctn.marts.fct_indicator_values"]


def test_models_render_each_model_with_its_tests_and_no_unit_tests(bag):
    tasks = bag["dags"]["pctn_models"]["tasks"]
    runs = [t for t in tasks if t.startswith("dbt.") and t.endswith(".run")]
    assert len(runs) >= 10, "cosmos rendered (almost) no model"
    for run in runs:
        assert tasks[run]["type"] == "DbtRunWatcherOperator"  # a watcher of the one build, not a dbt run
        test = run[: -len(".run")] + ".test"
        if test in tasks:
            assert run in tasks[test]["upstream"]  # TestBehavior.AFTER_EACH
            assert "resource_type:unit_test" in (tasks[test]["exclude"] or "")


def test_models_run_one_build_that_every_model_task_watches(bag):
    """ExecutionMode.WATCHER: one producer runs `dbt build`; every other dbt task follows it."""
    tasks = bag["dags"]["pctn_models"]["tasks"]
    producer = "dbt.dbt_producer_watcher"
    assert tasks[producer]["type"] == "DbtProducerWatcherOperator"
    assert tasks[producer]["exclude"] == "resource_type:unit_test"
    producers = [t for t, v in tasks.items() if v["type"] == "DbtProducerWatcherOperator"]
    assert producers == [producer], "more than one dbt build per run"
    watchers = {t for t, v in tasks.items() if v["type"].endswith("WatcherOperator") and t != producer}
    assert len(watchers) >= 40
    roots = {t for t in watchers if not any(u.startswith("dbt.") and u != producer for u in tasks[t]["upstream"])}
    assert roots and all(tasks[t]["upstream"] == [producer] for t in roots)  # no watcher waits on an unstarted build


def test_models_without_manifest_still_import():
    bag = _inspect(PCTN_DBT_MANIFEST=str(REPO / "does-not-exist.json"))
    assert bag["errors"] == {}
    tasks = bag["dags"]["pctn_models"]["tasks"]
    assert set(tasks) == {"dbt_build", "marts_ready"}


def test_calendar_dags_run_the_morning_after_each_deadline(bag):
    for dag_id in ("pctn_extract", "pctn_missing_returns"):
        assert bag["dags"][dag_id]["timetable"] == "CronTriggerTimetable"


def test_parse_time_benchmark(manifest):
    """One line per DAG file with its parse time (bench/dag_parse.py); each well under a second."""
    with __import__("tempfile").TemporaryDirectory(prefix="pctn-dagparse-") as home:
        env = dag_parse.parse_env(home)
        results = [dag_parse.measure(p, env, repeat=1) for p in dag_parse.dag_files()]
    print("\ndag_parse: " + ", ".join(f"{r['file']} {r['seconds']:.2f}s" for r in results))
    for r in results:
        assert r["errors"] == {}
        assert r["seconds"] < 5, r


def test_dag_files_only_wire_calls():
    """No SQL and no HTML in `dags/`: the queries and the e-mails belong to the product modules (issue 14)."""
    import re

    sql = re.compile(r"\b(select|insert\s+into|update|delete\s+from)\s[^\"'`]{0,200}?\b(from|values|set|where)\s", re.I)
    html = re.compile(r"<(p|b|table|tr|td|th|br|div)\b[^>]*>", re.I)
    for path in sorted(DAGS.glob("*.py")):
        code = path.read_text(encoding="utf-8")
        assert not sql.search(code), f"{path.name} holds SQL: {sql.search(code)[0]!r}"
        assert not html.search(code), f"{path.name} holds HTML: {html.search(code)[0]!r}"
