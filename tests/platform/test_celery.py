"""The intake under a real CeleryExecutor on this machine, end to end.

Subprocesses, as in production but without containers: the api-server (tasks reach
the metadata through its execution API), the scheduler, the dag-processor and one
Celery worker. The broker is the Redis server on 127.0.0.1:6379, on a queue of this
test's own. The metadata is in a fresh database on the PostgreSQL server at
127.0.0.1:5432 (SQLite cannot serve several processes). The warehouse is the test's
fresh database, reached only through the connection `warehouse`. The intake DAG is
triggered on the sample inbox plus one corrupt file. The test waits (bounded),
checks the warehouse, and stops every process it started.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from ingestion.platform.airflow_env import airflow_env, connection_json, sqlalchemy_url
from ingestion.platform.warehouse import ensure_database, with_database
from tests.dags.airflow_runs import CORRUPT, assert_sample_outcomes, file_statuses, make_inbox

REPO = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("PCTN_AIRFLOW_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = ("127.0.0.1", 6379)
EXPECTED = REPO / "samples" / "expected.json"
RUN_TIMEOUT = int(os.environ.get("PCTN_CELERY_TEST_TIMEOUT", "900"))


def _executor_import_error() -> str | None:
    """Why the CeleryExecutor cannot start with the installed celery, or None."""
    proc = subprocess.run(
        [sys.executable, "-c", "import airflow.providers.celery.executors.celery_executor_utils"],
        capture_output=True, text=True, env={**os.environ, "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"},
    )  # fmt: skip
    return None if proc.returncode == 0 else proc.stderr[-1500:]


def test_celery_provider_imports_with_the_pinned_celery():
    """celery 5.7 dropped `celery.backends.database.retry`, which apache-airflow-providers-celery
    3.26.0 imports: the scheduler and workers die on start. Pin celery==5.6.3 in constraints.txt."""
    error = _executor_import_error()
    assert error is None, "CeleryExecutor cannot start with this celery:\n" + error


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _server_up() -> bool:
    try:
        with psycopg.connect(SERVER, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    env: dict[str, str]
    home: Path
    metadata: str  # libpq URL of the metadata database
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def cli(self, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env, capture_output=True, text=True, timeout=timeout, cwd=REPO,
        )  # fmt: skip
        assert proc.returncode == 0, f"airflow {' '.join(args)}: {proc.stderr[-3000:]}"
        return proc

    def start(self, name: str, *args: str) -> None:
        log = (self.home / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True,
        )  # fmt: skip

    def stop(self) -> None:
        """SIGTERM each process group this test started, then SIGKILL what is left."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def query(self, sql: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.metadata, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in sorted(self.home.glob("*.log")))


@pytest.fixture()
def cluster(tmp_path: Path, fresh_warehouse_url: str) -> Iterator[Cluster]:
    if not _redis_up():
        pytest.skip(f"Redis is not reachable at {REDIS[0]}:{REDIS[1]}: the CeleryExecutor test needs it")
    if not _server_up():
        pytest.skip(f"PostgreSQL is not reachable at {SERVER}: Celery needs a metadata DB that allows concurrency")
    if _executor_import_error():
        pytest.skip("the installed celery cannot run the CeleryExecutor: see test_celery_provider_imports_*")
    tag = uuid.uuid4().hex[:8]
    meta_db = f"pctn_airflow_celery_{tag}"
    ensure_database(SERVER, meta_db)
    metadata = with_database(SERVER, meta_db)
    home = tmp_path / "airflow"
    home.mkdir()
    inbox = tmp_path / "inbox"
    env = {
        **os.environ,
        **airflow_env(
            home,
            fresh_warehouse_url,
            sqlalchemy_url(metadata),
            executor="CeleryExecutor",
            port=_free_port(),
            broker_url=f"redis://{REDIS[0]}:{REDIS[1]}/0",
            queue=f"pctn_test_{tag}",  # only this test's worker takes these tasks
        ),
        "AIRFLOW_CONN_WAREHOUSE": connection_json(fresh_warehouse_url),
        "RETURNS_INBOX": str(inbox),
        "PCTN_OUTPUT_DIR": str(tmp_path / "out"),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        # small batches, so the mapped `process` tasks are several and run side by side on the workers
        "PCTN_INTAKE_BATCH_FILES": "20",
    }
    env.pop("WAREHOUSE_URL", None)
    c = Cluster(env=env, home=home, metadata=metadata)
    make_inbox(inbox)
    c.cli("db", "migrate", timeout=300)
    try:
        c.start("api-server", "api-server")
        c.start("scheduler", "scheduler")
        c.start("dag-processor", "dag-processor")
        c.start("worker", "celery", "worker", "-q", env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"], "--skip-serve-logs")
        yield c
    finally:
        c.stop()
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
                (meta_db,),
            )
            conn.execute(f'drop database if exists "{meta_db}"')


def _wait(what: str, check, timeout: float, cluster: Cluster):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        dead = [n for n, p in cluster.procs.items() if p.poll() is not None]
        assert not dead, f"{dead} exited early:\n{cluster.logs()}"
        time.sleep(2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{cluster.logs()}")


@pytest.mark.slow
@pytest.mark.celery
def test_intake_runs_on_celery_workers(cluster: Cluster, fresh_warehouse_url: str):
    started = time.monotonic()
    _wait(
        "the dag-processor to store pctn_intake",
        lambda: cluster.query("select 1 from serialized_dag where dag_id = 'pctn_intake'"),
        180,
        cluster,
    )
    run_id = f"celery_test_{uuid.uuid4().hex[:6]}"
    cluster.cli("dags", "unpause", "pctn_intake")  # the scheduler may also start its own run now
    cluster.cli("dags", "trigger", "pctn_intake", "--run-id", run_id)

    def all_finished():
        runs = cluster.query("select run_id, state from dag_run where dag_id = 'pctn_intake'")
        mine = [state for rid, state in runs if rid == run_id]
        done = mine and all(state in ("success", "failed") for _, state in runs)
        return done and runs

    runs = _wait("the intake runs to finish", all_finished, RUN_TIMEOUT, cluster)
    elapsed = time.monotonic() - started
    tis = cluster.query(
        "select task_id, state, queue, run_id, map_index from task_instance"
        " where dag_id = 'pctn_intake' and state is not null"
    )
    assert all(state == "success" for _, state in runs), f"{runs}\n{tis}\n{cluster.logs()}"
    by_task: dict[str, list[str]] = {}
    processed: list[str] = []  # one per batch: a run with no new file maps `process` over nothing (map_index -1)
    for task_id, ti_state, queue, _, map_index in tis:
        by_task.setdefault(task_id, []).append(ti_state)
        if task_id == "process" and map_index >= 0:
            processed.append(ti_state)
        assert queue == cluster.env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]  # really went through Celery
    n_files = sum(1 for p in (cluster.home.parent / "inbox").rglob("*") if p.is_file())
    # one mapped task per batch of at most 20 files (one source each), never one per file; a batch whose
    # files were all rejected ends skipped (issue 13); each distinct file processed once, over all runs
    assert "success" in processed and set(processed) <= {"success", "skipped"}, processed
    assert -(-(n_files - 1) // 20) <= len(processed) < n_files - 1, (len(processed), n_files)
    with psycopg.connect(fresh_warehouse_url) as conn:
        counts = conn.execute("select process_count, count(*) from registry.files group by 1").fetchall()
    assert counts == [(1, n_files - 1)], counts  # the inbox holds one exact copy of another file

    # the intake emitted its Assets, the ones the models DAG is scheduled on (left paused here)
    events = dict(
        cluster.query(
            "select a.name, count(*) from asset_event e join asset a on a.id = e.asset_id"
            " where a.name like 'pctn.%%' group by a.name"
        )
    )
    assert events.get("pctn.registry.files") and events.get("pctn.raw.thanhtra_inspections"), events
    scheduled_on = {
        name
        for (name,) in cluster.query(
            "select a.name from dag_schedule_asset_reference r join asset a on a.id = r.asset_id"
            " where r.dag_id = 'pctn_models'"
        )
    }
    assert set(events) <= scheduled_on, (events, scheduled_on)

    statuses = file_statuses(fresh_warehouse_url)
    assert statuses.pop(CORRUPT) == "rejected"
    assert "received" not in statuses.values() and "loaded" in statuses.values()
    checked = assert_sample_outcomes(fresh_warehouse_url)
    assert checked > 0, "no sample file was checked against samples/expected.json"
    counts = json.dumps({k: sum(s != "skipped" for s in v) for k, v in by_task.items()})
    print(
        f"\ncelery: {len(processed)} files in {elapsed:.0f} s (start to finish, incl. parsing), {len(runs)} run(s);"
        f" {checked} checked against samples/expected.json; tasks: {counts}"
    )
