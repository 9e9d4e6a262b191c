"""No reader on half-rebuilt marts: the marts lock between real processes (ingestion.platform.marts_lock).

A build in another process holds the lock; here an extract or a second build waits,
or fails with the bilingual message after `PCTN_MARTS_LOCK_TIMEOUT`. A failed or
killed build leaves marts the extract refuses until a complete full build.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from ingestion.platform.marts_lock import MartsBusy, MartsIncomplete, is_full, is_writing, marts_build, marts_read

REPO = Path(__file__).resolve().parents[2]

# A build that holds the lock for `seconds`, then ends as told (complete / failed / killed by the test)
_HOLDER = r"""
import sys, time
from ingestion.platform.marts_lock import marts_build
url, seconds, outcome = sys.argv[1], float(sys.argv[2]), sys.argv[3]
with marts_build(url, ["build"], origin="test holder") as build:
    print("locked", flush=True)
    time.sleep(seconds)
    build.succeeded = outcome == "complete"
"""


def _holder(url: str, seconds: float, outcome: str = "complete") -> subprocess.Popen:
    """Start a build in its own process; return once it holds the lock."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url, str(seconds), outcome],
        cwd=REPO, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def _statuses(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("select status from audit.marts_builds order by build_id")]


def test_what_counts_as_a_writing_and_a_full_build():
    assert is_writing(["build"]) and is_writing(["run", "--select", "x"]) and is_writing(["seed"])
    assert not is_writing(["parse"]) and not is_writing(["docs", "generate"]) and not is_writing(["ls"])
    assert not is_writing(["--quiet", "test"])
    assert is_full(["build"]) and is_full(["build", "--exclude", "resource_type:unit_test"])
    assert is_full(["build", "--exclude=resource_type:unit_test", "--log-format", "json"])
    assert not is_full(["build", "--select", "int_return_submissions+"])
    assert not is_full(["build", "--exclude", "fct_cases"])
    assert not is_full(["run", "-s", "fct_cases"])


def test_an_extract_waits_for_a_running_build_then_reads(fresh_warehouse_url):
    holder = _holder(fresh_warehouse_url, 3)
    started = time.monotonic()
    with marts_read(fresh_warehouse_url, timeout_s=60):
        waited = time.monotonic() - started
    assert holder.wait(30) == 0
    assert waited > 1.5, "the reader did not wait for the build"
    assert _statuses(fresh_warehouse_url) == ["complete"]


def test_an_extract_gives_up_with_a_bilingual_message_after_the_timeout(fresh_warehouse_url, monkeypatch):
    from ingestion.extract import build_extract

    holder = _holder(fresh_warehouse_url, 30)
    try:
        monkeypatch.setenv("PCTN_MARTS_LOCK_TIMEOUT", "1")
        started = time.monotonic()
        with pytest.raises(MartsBusy) as err:
            build_extract(fresh_warehouse_url, "2025-Y")  # before it reads (or checks) anything
        assert time.monotonic() - started < 10
        message = str(err.value)
        assert "Kho dữ liệu đang được dựng lại" in message and "The marts are being rebuilt" in message
        assert "pctn-build test holder" in message  # who holds it
    finally:
        holder.kill()
        holder.wait()


def test_two_builds_never_overlap(fresh_warehouse_url):
    holder = _holder(fresh_warehouse_url, 30)
    try:
        with pytest.raises(MartsBusy), marts_build(fresh_warehouse_url, ["build"], origin="second", timeout_s=1):
            pytest.fail("a second build ran beside the first")
    finally:
        holder.kill()
        holder.wait()
    # the first was killed holding the lock: the server released it, its row says it never finished
    with marts_build(fresh_warehouse_url, ["build"], origin="third", timeout_s=5) as build:
        build.succeeded = True
    assert _statuses(fresh_warehouse_url) == ["running", "complete"]


def test_readers_share_the_lock(fresh_warehouse_url):
    with marts_read(fresh_warehouse_url, timeout_s=1), marts_read(fresh_warehouse_url, timeout_s=1):
        pass


def test_a_failed_or_killed_build_is_refused_until_a_complete_full_build(fresh_warehouse_url):
    url = fresh_warehouse_url
    assert _holder(url, 0, "failed").wait(30) == 0
    with pytest.raises(MartsIncomplete) as err, marts_read(url):
        pass
    assert "đã thất bại" in str(err.value) and "failed" in str(err.value)

    with marts_build(url, ["build", "--select", "int_return_submissions+"], origin="partial") as build:
        build.succeeded = True
    with pytest.raises(MartsIncomplete), marts_read(url):  # a partial build does not vouch for the rest
        pass

    with marts_build(url, ["build", "--exclude", "resource_type:unit_test"], origin="full") as build:
        build.succeeded = True
    with marts_read(url):
        pass

    killed = _holder(url, 60)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    with pytest.raises(MartsIncomplete) as err, marts_read(url, timeout_s=5):
        pass
    assert "never finished" in str(err.value)
    assert _statuses(url) == ["failed", "complete", "complete", "running"]


@pytest.mark.slow
def test_a_real_failing_dbt_build_makes_the_extract_refuse_the_marts(fresh_warehouse_url, tmp_path):
    """run_dbt on an empty warehouse (no raw tables): dbt fails, the build is recorded failed, no extract."""
    from ingestion.extract import build_extract
    from ingestion.platform.transform import DbtRunError, run_dbt

    with pytest.raises(DbtRunError):
        run_dbt(fresh_warehouse_url, ["run", "--select", "stg_registry__files"], quiet=True, target_path=tmp_path)
    with psycopg.connect(fresh_warehouse_url) as conn:
        status, is_full_build, detail = conn.execute(
            "select status, is_full, detail from audit.marts_builds"
        ).fetchone()
    assert (status, is_full_build) == ("failed", False) and "stg_registry__files" in detail
    with pytest.raises(MartsIncomplete):
        build_extract(fresh_warehouse_url, "2025-Y")
