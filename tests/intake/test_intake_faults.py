"""Faults as real processes: two intakes at once, kill -9 while reading and while copying.

Each test runs `python -m ingestion intake` as separate processes against a
fresh database, breaks them the way production breaks them, runs the intake
again, and compares the warehouse with a clean run of the same inbox: the state
must converge, every file processed once.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pytest

from ingestion.intake.pipeline import run_intake
from tests import hostile_files as h
from tests.conftest import REPO, SAMPLES

SMALL = sorted(p for p in SAMPLES.glob("*") if p.is_file())[:16]


def _inbox(tmp_path: Path, big_rows: int = 0) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for p in SMALL:
        shutil.copy2(p, inbox / p.name)
    if big_rows:
        (inbox / "thanhtra_TT-HUYEN-HOANGHOA_2024-Y.csv").write_bytes(h.many_rows_csv(big_rows))
    return inbox


def _intake_process(url: str, inbox: Path, out: Path, batch_files: int | None = None) -> subprocess.Popen:
    """`python -m ingestion intake` in its own process; `batch_files` 1 stores each file before the next is read."""
    env = {
        **os.environ,
        **({"PCTN_INTAKE_BATCH_FILES": str(batch_files)} if batch_files else {}),
        "WAREHOUSE_URL": url,
        "RETURNS_INBOX": str(inbox),
        "PCTN_OUTPUT_DIR": str(out),
        "PCTN_INTAKE_WORKERS": "1",
        "PYTHONPATH": str(REPO),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "ingestion", "intake"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _state(url: str) -> dict[str, object]:
    """What a clean run leaves, by file name (ids and times differ between databases)."""
    with psycopg.connect(url) as conn:
        files = conn.execute(
            "select file_name, status, rows_read, rows_loaded, rows_quarantined, rows_skipped, reject_code"
            " from registry.files order by file_name, sha256"
        ).fetchall()
        raw = conn.execute(
            "select f.file_name, count(*) from registry.files f join ("
            " select file_id from raw.thanhtra_inspections union all select file_id from raw.dieutra_cases"
            " union all select file_id from raw.truyto_cases union all select file_id from raw.xetxu_cases"
            " union all select file_id from raw.thads_matters) r using (file_id) group by 1 order by 1"
        ).fetchall()
        quarantine = conn.execute(
            "select f.file_name, q.row_number, q.rule, q.value from audit.quarantine q join registry.files f"
            " using (file_id) order by 1, 2, 3, 4"
        ).fetchall()
        receipts = conn.execute(
            "select entry_path, outcome from registry.receipts where outcome <> 'not_read' order by 1, 2"
        ).fetchall()
    return {"files": files, "raw": raw, "quarantine": quarantine, "receipts": receipts}


def _process_counts(url: str) -> set[int]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("select process_count from registry.files")}


@pytest.fixture(scope="module")
def clean_state(tmp_path_factory: pytest.TempPathFactory):
    """The state a clean run of the same inbox leaves, made once per inbox size for the module."""
    from tests.conftest import _fresh_database_url

    made: dict[int, dict[str, object]] = {}

    def make(big_rows: int) -> dict[str, object]:
        if big_rows not in made:
            url = _fresh_database_url("pctn_clean")
            base = tmp_path_factory.mktemp("clean")
            run_intake(url, _inbox(base, big_rows), base / "out", workers=1)
            made[big_rows] = _state(url)
        return made[big_rows]

    return make


def test_two_intakes_at_once_process_each_file_once(tmp_path, clean_state):
    from tests.conftest import _fresh_database_url

    url = _fresh_database_url("pctn_twice")
    inbox = _inbox(tmp_path)
    first, second = (_intake_process(url, inbox, tmp_path / f"out{i}") for i in (1, 2))
    for proc in (first, second):
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out.decode()
    assert _process_counts(url) == {1}  # each file read, validated and loaded exactly once
    assert _state(url) == clean_state(0)  # one receipt per offer, not two


def _wait_for(predicate, timeout: float = 600, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the intake ended first ({proc.returncode}): {proc.stdout.read().decode()[-2000:]}")
        time.sleep(0.01)
    raise AssertionError("the moment to kill never came")


def _readers(parent: int | None = None) -> list[psutil.Process]:
    """Live reader children (of `parent`, or orphaned ones when `parent` is 1)."""
    found = []
    for p in psutil.process_iter():
        try:
            if "ingestion.intake.readers.isolated" in " ".join(p.cmdline()) and (parent is None or p.ppid() == parent):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
    return found


def _reading_big_file(proc: subprocess.Popen, url: str) -> bool:
    """Every small file done, the big one registered and not yet stored: it is being read and validated."""
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            pending = conn.execute("select file_name from registry.files where status = 'received'").fetchall()
            total = conn.execute("select count(*) from registry.files").fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return False
    return (
        total == len(SMALL) + 1 and pending == [("thanhtra_TT-HUYEN-HOANGHOA_2024-Y.csv",)] and bool(_readers(proc.pid))
    )


_WATCHERS: dict[str, psycopg.Connection] = {}


def _copying(url: str) -> bool:
    """A COPY into raw runs in this database right now (one watching connection, polled)."""
    conn = _WATCHERS.get(url)
    if conn is None or conn.closed:
        conn = _WATCHERS[url] = psycopg.connect(url, autocommit=True)
    return bool(
        conn.execute(
            "select 1 from pg_stat_activity where datname = current_database() and query ilike 'copy raw.%%'"
            " and pid <> pg_backend_pid()"
        ).fetchone()
    )


@pytest.fixture(autouse=True)
def _close_watchers():
    yield
    for conn in _WATCHERS.values():
        conn.close()
    _WATCHERS.clear()


@pytest.mark.parametrize("moment", ["read", "copy"])
def test_kill_9_then_rerun_converges_to_a_clean_run(tmp_path, clean_state, moment):
    from tests.conftest import _fresh_database_url

    url = _fresh_database_url("pctn_kill")
    big = 50_000
    inbox = _inbox(tmp_path, big)
    # "read": the small files stored, the big one in the reader; a batch of one file per store makes that a
    # moment that lasts (in batches of many, files are read together, then stored together)
    proc = _intake_process(url, inbox, tmp_path / "out", batch_files=1 if moment == "read" else None)
    if moment == "read":
        _wait_for(lambda: _reading_big_file(proc, url) and not _copying(url), proc=proc)
    else:
        _wait_for(lambda: _copying(url), proc=proc)
    orphans = [p.pid for p in _readers(proc.pid)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # the killed intake's reader child ends by itself once its parent is gone (its stdin closes)
    _wait_for(lambda: not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in orphans))
    again = _intake_process(url, inbox, tmp_path / "out")
    out, _ = again.communicate(timeout=600)
    assert again.returncode == 0, out.decode()
    assert _state(url) == clean_state(big)
    assert _process_counts(url) == {1}  # the killed attempt never committed: every file counts one processing


def test_warehouse_stopped_mid_copy_then_rerun_converges(tmp_path, clean_state):
    """The warehouse itself goes down while a file is being copied: the intake fails, a rerun converges."""
    import pgserver

    server = pgserver.get_server(str(tmp_path / "pg"), cleanup_mode="stop")
    admin = server.get_uri()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("create database pctn_stop")
    url = (
        admin.replace("/postgres?", "/pctn_stop?") if "/postgres?" in admin else admin.rsplit("/", 1)[0] + "/pctn_stop"
    )
    big = 50_000
    inbox = _inbox(tmp_path, big)
    proc = _intake_process(url, inbox, tmp_path / "out")
    _wait_for(lambda: _copying(url), proc=proc)
    _WATCHERS.pop(url).close()
    pid = server.get_pid()
    assert pid is not None
    os.kill(pid, signal.SIGQUIT)  # immediate shutdown, as a crash or a pulled plug
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0  # the run fails loudly: the file was not stored
    _wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie", timeout=60)
    for _ in range(30):  # crash recovery can outlast pgserver's 10 s start timeout on a loaded machine
        try:
            server.ensure_postgres_running()
            with psycopg.connect(url, connect_timeout=5):
                break
        except (subprocess.SubprocessError, psycopg.OperationalError, AssertionError):
            time.sleep(2)
    again = _intake_process(url, inbox, tmp_path / "out")
    out, _ = again.communicate(timeout=600)
    assert again.returncode == 0, out.decode()
    assert _state(url) == clean_state(big)
    assert _process_counts(url) == {1}
    server.cleanup()


def test_versions_of_one_return_are_stored_in_order_by_parallel_workers(tmp_path):
    """`_v2` and its first version in one parallel run: stored one after the other, as a serial run does.

    So the first version's feedback is written before the correction exists, whichever
    worker is faster, and says the same as in a serial intake.
    """
    import openpyxl

    from ingestion.intake.feedback import feedback_file_name
    from tests.conftest import _fresh_database_url
    from tests.returns_factory import THANHTRA_HEADERS, thanhtra_row, write_csv

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    big = h.many_rows_csv(3000).decode("utf-8").split("\r\n", 1)[1]  # the first version is slow to read
    (inbox / "thanhtra_TT-TINH_2024-Y.csv").write_bytes(",".join(THANHTRA_HEADERS).encode() + b"\r\n" + big.encode())
    write_csv(inbox / "thanhtra_TT-TINH_2024-Y_v2.csv", THANHTRA_HEADERS, [thanhtra_row(1)])
    for i, unit in enumerate(["HOANGHOA", "SAMSON", "NGASON", "QUANGXUONG", "BIMSON", "NGHISON", "HATRUNG"]):
        write_csv(inbox / f"thanhtra_TT-HUYEN-{unit}_2024-Y.csv", THANHTRA_HEADERS, [thanhtra_row(i + 1)])

    def first_version_feedback(workers: int) -> tuple[str, list]:
        url = _fresh_database_url("pctn_versions")
        out = tmp_path / f"out{workers}"
        outcomes = {o.file_name: o.status for o in run_intake(url, inbox, out, workers=workers)}
        assert (
            outcomes["thanhtra_TT-TINH_2024-Y.csv"] == "superseded"
            and outcomes["thanhtra_TT-TINH_2024-Y_v2.csv"] == "loaded"
        )
        sheet = openpyxl.load_workbook(out / "feedback" / feedback_file_name("thanhtra_TT-TINH_2024-Y.csv")).active
        return outcomes, [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]

    serial, parallel = first_version_feedback(1), first_version_feedback(2)
    assert parallel[0] == serial[0]
    received = [i for i, row in enumerate(serial[1]) if any("Received" in str(c) or "nhận" in str(c) for c in row)]
    strip = lambda rows: [r for i, r in enumerate(rows) if i not in received]  # noqa: E731  (times differ)
    assert strip(parallel[1]) == strip(serial[1])
