"""Shared fixtures: a real, fresh PostgreSQL database per test session.

With `WAREHOUSE_URL` set (CI's second pass: the server on 127.0.0.1:5432) a new
database is created on that server; otherwise the embedded pgserver is used.
Nothing here mocks the warehouse.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests import run_guard
from tests.databases import _fresh_database_url, drop_database, drop_made_databases

__all__ = ["_fresh_database_url", "drop_database"]  # re-exported: tests import them from here

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("PCTN_PSEUDONYM_KEY", "test-key-not-secret")

pytest_plugins = ["pytester"]  # tests/test_markers.py runs pytest on a throw-away file

REPO = Path(__file__).resolve().parent.parent
RUN_GUARD = run_guard.install()


def _guarded(item: pytest.Item):
    """Setup and call of a test not marked `slow` may not run dbt or Airflow (tests/run_guard.py)."""
    if item.get_closest_marker("slow"):
        return (yield)
    RUN_GUARD.start(item.nodeid)
    try:
        result = yield
    finally:
        violations = RUN_GUARD.stop()
    if violations:
        pytest.fail(f"{item.nodeid} is not marked slow but ran: {'; '.join(violations)}", pytrace=False)
    return result


SLOW_FIXTURES = frozenset({"sample_warehouse"})  # a whole intake and `dbt build`: every user is slow


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `slow` every test that uses the sample warehouse, directly or through another fixture.

    Before `-m` deselects: a test is slow because of what it needs, whoever wrote it.
    """
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    return (yield from _guarded(item))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop every database this session made and kept (tests/databases.py)."""
    left = drop_made_databases()
    if left:
        print(f"\ntest databases that could not be dropped: {', '.join(sorted(left))}")


def migrate_airflow_home(home: Path) -> None:
    """An Airflow home with its metadata database (SQLite) migrated, as `dag.test` runs need it."""
    from ingestion.platform.airflow_env import airflow_env

    env = {**os.environ, **airflow_env(home, "postgresql://unused/x", f"sqlite:///{home}/airflow.db")}
    proc = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="session")
def warehouse_url() -> Iterator[str]:
    """A fresh, empty database for this test session, dropped at its end."""
    url = _fresh_database_url("pctn_test")
    yield url
    drop_database(url)


@pytest.fixture()
def fresh_warehouse_url() -> Iterator[str]:
    """A fresh, empty database for one test that needs its own, dropped after it.

    On a shared server (CI's 127.0.0.1:5432) a kept database per test adds up to a
    gigabyte a run; nothing reads one after its test.
    """
    url = _fresh_database_url("pctn_t")
    yield url
    drop_database(url)


@pytest.fixture()
def conn(warehouse_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(warehouse_url, autocommit=True) as c:
        yield c


SAMPLES = REPO / "samples" / "returns"


class SampleWarehouse:
    """The bundled sample taken through intake and `dbt build`, once per test session."""

    def __init__(self, url: str, outcomes: list, out_dir: Path) -> None:
        self.url = url
        self.outcomes = outcomes
        self.out_dir = out_dir


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> SampleWarehouse:
    """A fresh database holding the whole sample: registry, raw, audit and every dbt model.

    Shared by the tests that read marts (indicators, extract, BI access) so the
    suite pays for one intake and one `dbt build`.
    """
    from ingestion.intake.pipeline import run_intake
    from ingestion.platform.transform import run_dbt

    url = _fresh_database_url("pctn_sample")
    out = tmp_path_factory.mktemp("sample_out")
    outcomes = run_intake(url, SAMPLES, out)
    # artefacts and logs in the session's own folder, not dbt_project/target|logs of the checkout
    run_dbt(url, ["build"], target_path=tmp_path_factory.mktemp("sample_dbt"))
    return SampleWarehouse(url, outcomes, out)
