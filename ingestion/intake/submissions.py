"""Returns due, late and missing on a given date: the chase list's clock (*ngày xét*).

The dbt models judge returns on an as-of date (dbt var `as_of_date`, macro
`as_of_date`; default today in Asia/Ho_Chi_Minh), never on the latest day a file
arrived: the morning after a deadline nobody may have sent yet, and that is when the
list matters most. A calendar run (missing returns, extract) stands for its logical
date, so before reading the marts it makes sure they were judged on that date, and
rebuilds the as-of-dependent models (`int_return_submissions` and everything
downstream) when they were not. Both calendar DAGs fire at the same minute: a
PostgreSQL advisory lock lets one rebuild while the other waits, then finds the
marts already judged on its date and only reads.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

# pg_advisory_lock key shared by every process that rebuilds the as-of models
REBUILD_LOCK_SQL = "select pg_advisory_lock(hashtext('pctn.as_of_rebuild'))"
UNLOCK_SQL = "select pg_advisory_unlock(hashtext('pctn.as_of_rebuild'))"
AS_OF_MODELS = "int_return_submissions+"  # the models that read the as-of date, and their dependants

MISSING_SQL = """
select source, unit_code, period_code, due_date::text as due_date
from marts.fct_return_submissions
where period_code = any(%(periods)s) and expected and status = 'missing'
order by period_code, source, unit_code
"""

LOADED_SQL = """
select count(*)
from marts.fct_return_submissions
where period_code = any(%(periods)s) and status in ('on_time', 'late') and rows_loaded > 0
"""


def judged_as_of(conn: psycopg.Connection) -> dt.date | None:
    """The as-of date the marts were last built with (None before the first build)."""
    try:
        row = conn.execute("select max(as_of_date) from intermediate.int_return_submissions").fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
        conn.rollback()
        return None
    return row[0] if row else None


def ensure_judged_as_of(url: str, as_of: dt.date) -> bool:
    """Rebuild the as-of-dependent models on `as_of` unless they already are; True if rebuilt.

    Rebuilds `int_return_submissions+` (tables, tests; unit tests run in CI and `make run`)
    with `--vars {as_of_date: ...}`, under an advisory lock so two runs never rebuild the
    same tables at once. An empty registry still gets its rows: every expected return of the
    periods due by then is listed missing.
    """
    from ingestion.platform.transform import run_dbt  # local: dbt takes seconds to import

    with psycopg.connect(url, autocommit=True) as lock:
        lock.execute(REBUILD_LOCK_SQL)
        try:
            current = judged_as_of(lock)
            if current == as_of:
                log.info("marts already judged as of %s", as_of)
                return False
            log.info("marts judged as of %s: rebuilding %s as of %s", current, AS_OF_MODELS, as_of)
            with tempfile.TemporaryDirectory(prefix="pctn-dbt-asof-") as target:
                run_dbt(
                    url,
                    [
                        "build",
                        "--select",
                        AS_OF_MODELS,
                        "--exclude",
                        "resource_type:unit_test",
                        "--vars",
                        f"{{as_of_date: '{as_of.isoformat()}'}}",
                    ],
                    target_path=Path(target),
                    quiet=True,
                )
            return True
        finally:
            lock.execute(UNLOCK_SQL)


def missing_returns(url: str, periods: Sequence[str]) -> list[dict[str, str]]:
    """Expected returns of `periods` with nothing accepted (source, unit, period, due date)."""
    with psycopg.connect(url) as conn:
        cur = conn.execute(MISSING_SQL, {"periods": list(periods)})
        cols = [d.name for d in cur.description or []]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def loaded_returns(url: str, periods: Sequence[str]) -> int:
    """How many returns of `periods` have a loaded version with at least one row loaded."""
    with psycopg.connect(url) as conn:
        row = conn.execute(LOADED_SQL, {"periods": list(periods)}).fetchone()
    return int(row[0]) if row else 0
