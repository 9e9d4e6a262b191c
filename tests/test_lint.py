"""Style is part of the build: ruff and mypy on the Python, SQLFluff (postgres) on the dbt SQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_ruff_check_and_format():
    check = _run(str(BIN / "ruff"), "check", ".")
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _run(str(BIN / "ruff"), "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_clean_on_the_package():
    """mypy over ingestion/, ingestion_samples/ and dags/ (pyproject.toml); every `type: ignore` is still needed."""
    mypy = _run(str(BIN / "mypy"))
    assert mypy.returncode == 0, mypy.stdout[-5000:] + mypy.stderr[-2000:]
    assert "no issues found" in mypy.stdout, mypy.stdout


def test_sqlfluff_clean_on_models_tests_and_macros():
    args = ("lint", "models", "tests", "macros", "--processes", "2")
    lint = _run(str(BIN / "sqlfluff"), *args, cwd=REPO / "dbt_project")
    assert lint.returncode == 0, lint.stdout[-5000:] + lint.stderr[-2000:]


def test_suites_match_the_contract():
    from ingestion.contract.sources import SOURCES
    from ingestion.contract.suites import build_suite, render, suite_path

    for source in SOURCES.values():
        assert suite_path(source.code).read_text(encoding="utf-8") == render(build_suite(source)), (
            f"expectations/{source.code}_return.json is stale: run `make suites`"
        )
