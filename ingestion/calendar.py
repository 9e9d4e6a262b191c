"""The reporting calendar: the one owner of the time zone, "due", "late", "the latest period" and
"expected by a date" in Python. The CLI, the DAGs, the intake's feedback and the extract call it.

- The periods themselves are the seed `reporting_periods.csv` (start, end, due date), read
  through `ingestion.reference` (`PCTN_REFERENCE_DIR` switches it); the time zone and the
  period kinds every unit sends are dbt vars (`local_time_zone`, `expected_period_kinds`),
  so dbt and Python read the same values.
- **Day**: a moment counts on its calendar day in Thanh Hóa (Asia/Ho_Chi_Minh); a naive
  datetime is UTC (as the registry stores it).
- **Due**: a period is due on a day once its deadline is *before* that day; a return
  received on the deadline itself is on time, one received later is late (README,
  "As-of date"; `int_return_submissions` applies the same rule in SQL).
- **Periods due at a run**: those whose deadline is the latest one before the run's day
  (21/06: `YYYY-Q2` and `YYYY-6M`), so a scheduled run and its backfill mean the same periods.
- **Expected**: a unit owes a return of a period when the period's kind is one every unit
  sends and the unit is valid on the period's end date.
- **The latest period**: among the periods with loaded returns (README, "A period with
  loaded returns": a return on time or late whose current version loaded at least one row),
  the one ending last, the widest of those ending that day (`2025-Y` over `2025-Q4`); the
  latest year is the latest such period of kind `Y`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ingestion.reference import DBT_VARS, ReportingPeriod, ReportingUnit, agency_sources, periods, units

if TYPE_CHECKING:
    import psycopg

TIME_ZONE = str(DBT_VARS["local_time_zone"])  # "Asia/Ho_Chi_Minh": Airflow timetables, dbt, every local date
LOCAL_TZ = ZoneInfo(TIME_ZONE)  # UTC+7 all year (no daylight saving in Viet Nam)
EXPECTED_KINDS: tuple[str, ...] = tuple(str(k) for k in DBT_VARS["expected_period_kinds"])  # Q1, 6M, 9M, Y

# Periods with loaded returns, as the marts hold them (same columns as the seed).
REPORTED_PERIODS_SQL = """
select p.period_code, p.regime, p.report_year, p.period_kind, p.start_date, p.end_date, p.is_cumulative, p.due_date
from marts.dim_reporting_periods as p
where exists (
    select 1 from marts.fct_return_submissions as s
    where s.period_code = p.period_code and s.status in ('on_time', 'late') and s.rows_loaded > 0
)
"""


def local_time(moment: dt.datetime) -> dt.datetime:
    """`moment` in Thanh Hóa's time zone (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TZ)


def local_date(moment: dt.datetime | dt.date) -> dt.date:
    """The calendar day of `moment` in Thanh Hóa (a run at 00:00 UTC is 07:00 local); a date is itself."""
    if isinstance(moment, dt.datetime):
        return local_time(moment).date()
    return moment


def today() -> dt.date:
    """Today in Thanh Hóa."""
    return dt.datetime.now(LOCAL_TZ).date()


def is_due(period: ReportingPeriod, on: dt.date) -> bool:
    """The period's returns are due (late or missing when absent) on day `on`: its deadline has passed."""
    return period.due_date < on


def is_late(period: ReportingPeriod, received: dt.datetime | dt.date) -> bool:
    """A return of `period` received at `received` came after the deadline (the deadline day is on time)."""
    return local_date(received) > period.due_date


def periods_due(moment: dt.datetime | dt.date, period_code: str | None = None) -> list[str]:
    """Periods whose deadline is the latest one before `moment`'s day (e.g. 2025-Q2 and 2025-6M).

    A run on the reporting calendar (or its backfill) thus always means the same periods;
    `period_code` pins one explicitly (manual runs).
    """
    calendar = periods()
    if period_code:
        if period_code not in calendar:
            raise ValueError(f"Unknown period_code {period_code!r}: not in dbt_project/seeds/reporting_periods.csv")
        return [period_code]
    day = local_date(moment)
    past = [p.due_date for p in calendar.values() if is_due(p, day)]
    if not past:
        return []
    last = max(past)
    return sorted(code for code, p in calendar.items() if p.due_date == last)


def is_expected(unit: ReportingUnit, period: ReportingPeriod) -> bool:
    """`unit` owes a return of `period`: a kind every unit sends, and the unit valid on the period's end."""
    return period.period_kind in EXPECTED_KINDS and unit.valid_on(period.end_date)


def expected_units(on: dt.date) -> set[tuple[str, str]]:
    """(source, unit code) of every unit that reports on day `on` (valid then, its agency sends a source)."""
    sources = agency_sources()
    reporting = {code: u for code, u in units().items() if u.agency_code in sources and u.valid_on(on)}
    return {(sources[u.agency_code], code) for code, u in reporting.items()}


def expected_periods(on: dt.date, first_year: int) -> list[ReportingPeriod]:
    """Periods whose returns are expected by day `on`: expected kinds, due, from `first_year` on."""
    due = [p for p in periods().values() if p.period_kind in EXPECTED_KINDS and is_due(p, on)]
    due = [p for p in due if p.report_year >= first_year]
    return sorted(due, key=lambda p: (p.end_date, p.start_date, p.period_code))


def latest(candidates: Iterable[ReportingPeriod], kind: str | None = None) -> ReportingPeriod | None:
    """The latest of `candidates` (of `kind` when given): the last end date, then the widest, then the code."""
    pool = [p for p in candidates if kind is None or p.period_kind == kind]
    if not pool:
        return None
    return max(pool, key=lambda p: (p.end_date, -p.start_date.toordinal(), p.period_code))


def reported_periods(conn: psycopg.Connection) -> list[ReportingPeriod]:
    """Periods with loaded returns in the marts (`marts.dim_reporting_periods`, `fct_return_submissions`)."""
    from psycopg.rows import tuple_row  # whatever row factory the caller's connection has

    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(REPORTED_PERIODS_SQL).fetchall()
    return [
        ReportingPeriod(
            period_code=code,
            regime=regime,
            report_year=int(year),
            period_kind=kind,
            start_date=start,
            end_date=end,
            is_cumulative=bool(cumulative),
            due_date=due,
        )
        for code, regime, year, kind, start, end, cumulative, due in rows
    ]


def latest_reported(conn: psycopg.Connection, kind: str | None = None) -> ReportingPeriod | None:
    """The latest period with loaded returns (of `kind`, e.g. `Y` for the latest year), or None."""
    return latest(reported_periods(conn), kind)
