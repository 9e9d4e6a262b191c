"""The marker scheme tells the truth: a test not marked `slow` cannot run dbt or Airflow.

`tests/run_guard.py` (switched on in `tests/conftest.py`) fails such a test; these tests
show that it does, on a throw-away test file run by pytest in a subprocess with the
project's conftest as a plugin.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.run_guard import dbt_violation, popen_violation

REPO = Path(__file__).resolve().parent.parent


def test_commands_that_run_dbt_or_airflow_are_recognised() -> None:
    python = sys.executable
    assert popen_violation([python, "-m", "airflow", "dags", "test", "pctn_intake"])
    assert popen_violation(["/opt/venv/bin/airflow", "backfill", "create", "--dag-id", "pctn_extract"])
    assert popen_violation([python, "-m", "airflow", "db", "migrate"])
    assert popen_violation(["dbt", "build", "--project-dir", "dbt_project"])
    assert dbt_violation(["--quiet", "build"]) and dbt_violation(["run", "--select", "dim_offences"])
    assert popen_violation([python, "-m", "airflow", "version"]) is None
    assert popen_violation([python, "-c", "from airflow.dag_processing.dagbag import BundleDagBag"]) is None
    assert popen_violation(["ruff", "check", "."]) is None
    assert dbt_violation(["parse"]) is None and dbt_violation(["--quiet", "ls"]) is None


THROWAWAY = """
import subprocess, sys
import pytest

def _dbt_build():
    from ingestion.platform.transform import run_dbt
    with pytest.raises(Exception):  # no server on port 1: the build itself fails, the guard must still see it
        run_dbt("postgresql://nobody@127.0.0.1:1/none", ["build"])

def test_fast_but_builds():
    _dbt_build()

def test_fast_but_runs_a_dag():
    subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "no_such_dag"], capture_output=True)

@pytest.mark.slow
def test_slow_may_build():
    _dbt_build()

def test_fast_and_quiet():
    assert 1 + 1 == 2

@pytest.fixture(scope="session")
def built_warehouse():  # as conftest's sample_warehouse: the build happens in the setup of a test
    _dbt_build()

def test_fast_with_a_building_fixture(built_warehouse):
    pass
"""


@pytest.mark.slow  # it runs a (failing) dbt build and an Airflow command in the inner pytest
def test_the_guard_fails_a_fast_test_that_runs_dbt_or_airflow(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makepyfile(test_throwaway=THROWAWAY)
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow\n")
    result = pytester.runpytest_subprocess("-p", "tests.conftest", "-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2, errors=1)
    out = result.stdout.str()
    assert "test_fast_but_builds is not marked slow but ran: dbt build" in out
    assert "test_fast_but_runs_a_dag is not marked slow but ran: airflow dags test no_such_dag" in out
    assert "test_fast_with_a_building_fixture is not marked slow but ran: dbt build" in out  # in its setup
