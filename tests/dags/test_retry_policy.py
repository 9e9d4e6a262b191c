"""The documented retry policy, on the objects every real DAG task carries (no DAG run: fast).

README, "What happens on errors": a transient error (warehouse or network gone, a failed
delivery) is retried 3 times, 30 s then doubling, at most 10 min; anything else fails at
once. `tests/dags/test_error_paths.py` watches the same policy act in Airflow runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
sys.path.insert(0, str(REPO / "bench"))

import dag_parse  # noqa: E402  (bench/dag_parse.py: the environment a DAG parse needs)

_TASK_SETTINGS = r"""
import json, sys
from airflow.dag_processing.dagbag import BundleDagBag
bag = BundleDagBag(sys.argv[1], bundle_path=sys.argv[1])
print(json.dumps({"errors": bag.import_errors, "tasks": {f"{d}.{t.task_id}": {
    "retries": t.retries, "retry_delay": t.retry_delay.total_seconds(),
    "backoff": float(t.retry_exponential_backoff), "max_retry_delay": t.max_retry_delay.total_seconds(),
    "policy": type(t.retry_policy).__name__, "callback": bool(t.on_failure_callback)}
    for d, dag in bag.dags.items() for t in dag.tasks}}))
"""


def test_every_task_of_every_dag_has_the_documented_backoff() -> None:
    with tempfile.TemporaryDirectory(prefix="pctn-retry-") as home:
        proc = subprocess.run(
            [sys.executable, "-c", _TASK_SETTINGS, str(DAGS)],
            env=dag_parse.parse_env(home), capture_output=True, text=True, cwd=REPO, timeout=300,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["errors"] == {}
    assert len(out["tasks"]) >= 10, sorted(out["tasks"])
    documented = {"retries": 3, "retry_delay": 30.0, "backoff": 2.0, "max_retry_delay": 600.0}
    for task, settings in out["tasks"].items():
        assert {k: settings[k] for k in documented} == documented, task
        assert settings["policy"] == "ExceptionRetryPolicy" and settings["callback"], task


def _refused() -> psycopg.OperationalError:
    try:
        psycopg.connect("postgresql://nobody@127.0.0.1:1/none", connect_timeout=2)
    except psycopg.OperationalError as exc:
        return exc
    raise AssertionError("something listens on 127.0.0.1:1")


@pytest.fixture(scope="module")
def policy():
    sys.path.insert(0, str(DAGS))
    import _common

    return _common


def test_transient_errors_are_retried(policy) -> None:
    from ingestion.extract import DeliveryError

    errors = [
        _refused(),  # a real refused connection
        psycopg.InterfaceError("the cursor is closed"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        ConnectionRefusedError(),
        ConnectionResetError(),
        TimeoutError("timed out"),
        policy.TransientError(f"2025-Y on sftp: {DeliveryError('connection refused')}"),  # how deliver wraps it
    ]
    for exc in errors:
        assert policy.RETRY_POLICY.evaluate(exc, 1, 4).action.value == "retry", repr(exc)


def test_bugs_and_bad_data_fail_at_once(policy) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from ingestion.extract import DeliveryError

    errors = [
        ValueError("Unknown period_code '2031-Y'"),
        KeyError("file_id"),
        LookupError("file_id 7 is not registered"),
        psycopg.errors.UndefinedTable('relation "marts.fct_indicator_values" does not exist'),
        psycopg.errors.RaiseException("a failing check"),
        RuntimeError("dbt build failed: 2 tests"),
        AirflowFailException("at least one file's task failed"),
        DeliveryError("connection refused"),  # only after the DAG wrapped it (TransientError) is it retried
    ]
    for exc in errors:
        assert policy.RETRY_POLICY.evaluate(exc, 1, 4).action.value == "fail", repr(exc)
