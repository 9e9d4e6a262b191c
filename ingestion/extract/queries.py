"""Read what one extract needs from the marts, and nothing else.

This is the only module of the extract that knows mart names and columns
(`docs/interfaces.md`, section "Marts"). Everything downstream works on the plain
rows returned here, so a renamed mart column is a change in this file only.

Which rows an extract shows (decided here, documented in README, "Indicator extracts"):
- summary: province level, restated on today's units, each indicator's default scope;
  for a year (`YYYY-Y`) the yearly evaluation (previous year, target), for a shorter
  period the same period of the previous year and no target (targets are yearly);
- detection / handling / recovery sheets: every scope; province and agency rows
  restated, unit rows as reported (the units as they sent their returns);
- data quality: returns of the periods inside the extract period that are late,
  missing or rejected, and the quarantine summary of those periods;
- trends: full years (`YYYY-Y`) up to the extract's year, province, restated.
A phase review (`2023-2026`, `2026-2030`) shows the phase's years and the phase totals.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

Row = dict[str, Any]

GROUPS = ("detection", "handling", "recovery", "data_quality")
PROVINCE_UNIT_CODE = "THANHHOA"
PHASE_RE = re.compile(r"^(?P<first>\d{4})-(?P<last>\d{4})$")
DEFAULT_REGIME = "thanhtra"  # the Inspectorate's own regime: phases are counted in its years
# Detection by channel: indicators named DET_CASES_NEW_<channel code> (seed detection_channels)
# when the marts carry them; otherwise the chart shows DET_CASES_NEW alone.
DETECTION_TOTAL_CODE = "DET_CASES_NEW"
DETECTION_CHANNEL_PREFIX = "DET_CASES_NEW_"


class ExtractDataError(LookupError):
    """The marts cannot give an extract for the period asked (unknown period, no data)."""


@dataclass(frozen=True)
class ReportingPeriod:
    """The period an extract covers: one reporting period, or a strategy phase."""

    code: str
    regime: str
    report_year: int  # last year covered
    kind: str  # Q1..Q4, 6M, 9M, Y, or PHASE
    start_date: date
    end_date: date
    years: tuple[int, ...]

    @property
    def is_phase(self) -> bool:
        return self.kind == "PHASE"

    @property
    def is_year(self) -> bool:
        return self.kind == "Y"


@dataclass
class MartData:
    """Everything one extract shows, as rows read from the marts."""

    period: ReportingPeriod
    indicators: list[Row]
    summary: list[Row]
    groups: dict[str, list[Row]]
    submissions: list[Row]
    quarantine: list[Row]
    trends: list[Row]
    phase_years: dict[str, dict[int, Any]] = field(default_factory=dict)

    def fingerprint(self, format_version: str) -> str:
        """SHA-256 of the data in a canonical form: same marts, same fingerprint.

        The build time is not part of it, so building twice from unchanged marts is
        recognised as the same extract (and a layout change bumps `format_version`).
        """
        payload = {
            "format_version": format_version,
            "period": self.period.__dict__,
            "indicators": self.indicators,
            "summary": self.summary,
            "groups": self.groups,
            "submissions": self.submissions,
            "quarantine": self.quarantine,
            "trends": self.trends,
            "phase_years": {k: {str(y): v for y, v in d.items()} for k, d in self.phase_years.items()},
        }
        text = json.dumps(payload, default=_canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


def _rows(conn: psycopg.Connection, sql: str, params: dict[str, Any] | None = None) -> list[Row]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params or {})
        return list(cur.fetchall())


# --- periods -----------------------------------------------------------------------------


def find_period(conn: psycopg.Connection, period_code: str) -> ReportingPeriod:
    """The period called `period_code`: a row of dim_reporting_periods or a phase code."""
    phase = PHASE_RE.match(period_code)
    if phase:
        first, last = int(phase["first"]), int(phase["last"])
        rows = _rows(
            conn,
            """
            select min(start_date) as start_date, max(end_date) as end_date
            from marts.dim_reporting_periods
            where regime = %(regime)s and period_kind = 'Y' and report_year between %(first)s and %(last)s
            """,
            {"regime": DEFAULT_REGIME, "first": first, "last": last},
        )
        if first > last or not rows or rows[0]["start_date"] is None:
            raise ExtractDataError(
                f"Giai đoạn {period_code} không có trong marts.dim_reporting_periods / "
                f"phase {period_code}: its years are not in marts.dim_reporting_periods"
            )
        return ReportingPeriod(
            code=period_code,
            regime=DEFAULT_REGIME,
            report_year=last,
            kind="PHASE",
            start_date=rows[0]["start_date"],
            end_date=rows[0]["end_date"],
            years=tuple(range(first, last + 1)),
        )
    rows = _rows(
        conn,
        """
        select period_code, regime, report_year, period_kind, start_date, end_date
        from marts.dim_reporting_periods
        where period_code = %(code)s
        """,
        {"code": period_code},
    )
    if not rows:
        raise ExtractDataError(
            f"Kỳ báo cáo {period_code!r} không có trong marts.dim_reporting_periods / "
            f"period {period_code!r} is not in marts.dim_reporting_periods (expected e.g. 2024-Y, 2025-Q2, 2023-2026)"
        )
    r = rows[0]
    return ReportingPeriod(
        code=r["period_code"],
        regime=r["regime"],
        report_year=int(r["report_year"]),
        kind=r["period_kind"],
        start_date=r["start_date"],
        end_date=r["end_date"],
        years=(int(r["report_year"]),),
    )


def latest_period_code(conn: psycopg.Connection) -> str | None:
    """The latest period for which returns were received: latest end date, then the widest.

    `2024-Q4` and `2024-Y` end on the same day; the year is the one people report on.
    Periods ending on a day for which no return came in yet (only "missing returns" rows)
    are skipped: the extract is of the latest period that was actually reported on.
    """
    rows = _rows(
        conn,
        """
        select p.period_code
        from marts.dim_reporting_periods as p
        where exists (select 1 from marts.fct_indicator_values as v where v.period_code = p.period_code)
          and p.end_date in (
              select r.end_date
              from marts.fct_return_submissions as s
              inner join marts.dim_reporting_periods as r on s.period_code = r.period_code
              where s.status in ('on_time', 'late')
          )
        order by p.end_date desc, p.start_date asc, p.period_code desc
        limit 1
        """,
    )
    return rows[0]["period_code"] if rows else None


def previous_period_code(conn: psycopg.Connection, period: ReportingPeriod) -> str | None:
    """The same kind of period one year earlier (2024-9M -> 2023-9M), in the same regime."""
    rows = _rows(
        conn,
        """
        select period_code from marts.dim_reporting_periods
        where regime = %(regime)s and period_kind = %(kind)s and report_year = %(year)s
        """,
        {"regime": period.regime, "kind": period.kind, "year": period.report_year - 1},
    )
    return rows[0]["period_code"] if rows else None


# --- indicators ------------------------------------------------------------------------------


def _has_column(conn: psycopg.Connection, table: str, column: str) -> bool:
    rows = _rows(
        conn,
        """
        select 1 from information_schema.columns
        where table_schema = 'marts' and table_name = %(t)s and column_name = %(c)s
        """,
        {"t": table, "c": column},
    )
    return bool(rows)


def read_indicators(conn: psycopg.Connection) -> list[Row]:
    """dim_indicators in reading order: group, then the seed's sort order."""
    return _rows(
        conn,
        """
        select indicator_code, indicator_group, name_vi, name_en, unit, formula_vi, formula_en,
               direction, default_scope, is_additive, sort_order
        from marts.dim_indicators
        order by array_position(array['detection', 'handling', 'recovery', 'data_quality'], indicator_group),
                 sort_order, indicator_code
        """,
    )


_UNIT_NAMES = """
    unit_names as (
        select distinct on (unit_code) unit_code, unit_name_vi
        from marts.dim_reporting_units
        order by unit_code, valid_from desc nulls last
    ),
    agency_names as (
        select distinct on (agency_code) agency_code, agency_name_vi
        from marts.dim_reporting_units
        order by agency_code, valid_from desc nulls last
    )
"""


def read_summary(conn: psycopg.Connection, period: ReportingPeriod, previous_code: str | None) -> list[Row]:
    """Province, restated, default scope: this period against the same period a year before.

    For a year the values, previous values and targets come from fct_yearly_evaluation
    (falling back to fct_indicator_values for an indicator it does not evaluate). The
    change columns are computed here, once, from value and previous value, as a fraction
    (0.25 = +25 %). Only headline indicators when dim_indicators has `is_headline`.
    """
    headline_filter = "and i.is_headline" if _has_column(conn, "dim_indicators", "is_headline") else ""
    return _rows(
        conn,
        f"""
        with indicators as (
            select * from marts.dim_indicators as i where true {headline_filter}
        ),
        current_values as (
            select v.indicator_code, v.value
            from marts.fct_indicator_values as v
            inner join indicators as i on i.indicator_code = v.indicator_code and i.default_scope = v.scope
            where v.period_code = %(period)s and v.unit_level = 'province' and v.restatement = 'restated'
        ),
        previous_values as (
            select v.indicator_code, v.value
            from marts.fct_indicator_values as v
            inner join indicators as i on i.indicator_code = v.indicator_code and i.default_scope = v.scope
            where v.period_code = %(previous)s and v.unit_level = 'province' and v.restatement = 'restated'
        ),
        evaluation as (
            select e.indicator_code, e.value, e.previous_value, e.target_value, e.target_met
            from marts.fct_yearly_evaluation as e
            inner join indicators as i on i.indicator_code = e.indicator_code and i.default_scope = e.scope
            where %(is_year)s and e.report_year = %(year)s and e.unit_level = 'province'
        ),
        joined as (
            select
                i.indicator_code,
                i.indicator_group,
                i.name_vi,
                i.name_en,
                i.unit,
                i.direction,
                i.default_scope,
                i.sort_order,
                case when e.indicator_code is not null then e.value else c.value end as value,
                case when e.indicator_code is not null then e.previous_value else p.value end as previous_value,
                e.target_value,
                e.target_met
            from indicators as i
            left join current_values as c on c.indicator_code = i.indicator_code
            left join previous_values as p on p.indicator_code = i.indicator_code
            left join evaluation as e on e.indicator_code = i.indicator_code
        ),
        final as (
            select
                *,
                value - previous_value as change_abs,
                case when previous_value <> 0 then (value - previous_value) / abs(previous_value) end as change_pct
            from joined
            where value is not null or previous_value is not null
        )
        select * from final
        order by array_position(array['detection', 'handling', 'recovery', 'data_quality'], indicator_group),
                 sort_order, indicator_code
        """,
        {"period": period.code, "previous": previous_code, "is_year": period.is_year, "year": period.report_year},
    )


def read_group(conn: psycopg.Connection, period: ReportingPeriod, previous_code: str | None, group: str) -> list[Row]:
    """One indicator group for the period, every level and scope, with last year's value."""
    return _rows(
        conn,
        f"""
        with {_UNIT_NAMES},
        indicators as (
            select * from marts.dim_indicators where indicator_group = %(group)s
        ),
        period_values as (
            select v.*
            from marts.fct_indicator_values as v
            where v.period_code = %(period)s
              and v.restatement = case when v.unit_level = 'unit' then 'as_reported' else 'restated' end
        ),
        previous_values as (
            select v.*
            from marts.fct_indicator_values as v
            where v.period_code = %(previous)s
        ),
        final as (
            select
                i.indicator_code,
                i.name_vi,
                i.unit,
                v.unit_level,
                v.unit_code,
                case v.unit_level
                    when 'unit' then un.unit_name_vi
                    when 'agency' then an.agency_name_vi
                end as unit_name_vi,
                v.scope,
                v.restatement,
                v.value,
                v.numerator,
                v.denominator,
                pv.value as previous_value,
                i.sort_order,
                i.default_scope
            from period_values as v
            inner join indicators as i on i.indicator_code = v.indicator_code
            left join unit_names as un on un.unit_code = v.unit_code
            left join agency_names as an on an.agency_code = v.unit_code
            left join previous_values as pv
                on pv.indicator_code = v.indicator_code
                and pv.unit_level = v.unit_level
                and pv.unit_code = v.unit_code
                and pv.restatement = v.restatement
                and pv.scope = v.scope
        )
        select * from final
        order by sort_order, indicator_code,
                 array_position(array['province', 'agency', 'unit'], unit_level),
                 scope <> default_scope,
                 array_position(array['corruption', 'position', 'all'], scope),
                 unit_code
        """,
        {"period": period.code, "previous": previous_code, "group": group},
    )


def read_phase_group(conn: psycopg.Connection, period: ReportingPeriod, group: str) -> list[Row]:
    """Phase totals of one group (additive indicators only), every unit and scope."""
    return _rows(
        conn,
        f"""
        with {_UNIT_NAMES},
        agencies as (select distinct agency_code from marts.dim_reporting_units),
        final as (
            select
                i.indicator_code,
                i.name_vi,
                i.unit,
                case
                    when t.unit_code = %(province)s then 'province'
                    when t.unit_code in (select agency_code from agencies) then 'agency'
                    else 'unit'
                end as unit_level,
                t.unit_code,
                coalesce(un.unit_name_vi, an.agency_name_vi) as unit_name_vi,
                t.scope,
                t.value,
                t.years_covered::text as years_covered,
                i.sort_order,
                i.default_scope
            from marts.fct_phase_totals as t
            inner join marts.dim_indicators as i on i.indicator_code = t.indicator_code
            left join unit_names as un on un.unit_code = t.unit_code
            left join agency_names as an on an.agency_code = t.unit_code
            where t.phase_code = %(phase)s and i.indicator_group = %(group)s
        )
        select * from final
        order by sort_order, indicator_code,
                 array_position(array['province', 'agency', 'unit'], unit_level),
                 scope <> default_scope,
                 array_position(array['corruption', 'position', 'all'], scope),
                 unit_code
        """,
        {"phase": period.code, "group": group, "province": PROVINCE_UNIT_CODE},
    )


def read_phase_summary(
    conn: psycopg.Connection, period: ReportingPeriod
) -> tuple[list[Row], dict[str, dict[int, Any]]]:
    """Province phase totals per indicator, and each year's value inside the phase."""
    headline_filter = "and i.is_headline" if _has_column(conn, "dim_indicators", "is_headline") else ""
    totals = _rows(
        conn,
        f"""
        with indicators as (
            select * from marts.dim_indicators as i where true {headline_filter}
        ),
        totals as (
            select t.indicator_code, t.value as phase_value, t.years_covered::text as years_covered
            from marts.fct_phase_totals as t
            inner join indicators as i on i.indicator_code = t.indicator_code and i.default_scope = t.scope
            where t.phase_code = %(phase)s and t.unit_code = %(province)s
        )
        select i.indicator_code, i.indicator_group, i.name_vi, i.name_en, i.unit, i.direction,
               i.default_scope, i.sort_order, t.phase_value, t.years_covered
        from indicators as i
        left join totals as t on t.indicator_code = i.indicator_code
        order by array_position(array['detection', 'handling', 'recovery', 'data_quality'], i.indicator_group),
                 i.sort_order, i.indicator_code
        """,
        {"phase": period.code, "province": PROVINCE_UNIT_CODE},
    )
    yearly = read_trends(conn, period, first_year=period.years[0])
    by_code: dict[str, dict[int, Any]] = {}
    for r in yearly:
        by_code.setdefault(r["indicator_code"], {})[int(r["report_year"])] = r["value"]
    rows = [r for r in totals if r["phase_value"] is not None or by_code.get(r["indicator_code"])]
    return rows, {code: by_code.get(code, {}) for code in (r["indicator_code"] for r in rows)}


def read_trends(conn: psycopg.Connection, period: ReportingPeriod, first_year: int | None = None) -> list[Row]:
    """Full-year values (province, restated, default scope) up to the extract's last year."""
    return _rows(
        conn,
        """
        select v.indicator_code, p.report_year, v.value
        from marts.fct_indicator_values as v
        inner join marts.dim_indicators as i on i.indicator_code = v.indicator_code and i.default_scope = v.scope
        inner join marts.dim_reporting_periods as p on p.period_code = v.period_code
        where p.period_kind = 'Y' and p.regime = %(regime)s
          and p.report_year <= %(last)s and p.report_year >= %(first)s
          and p.end_date <= %(end)s
          and v.unit_level = 'province' and v.restatement = 'restated'
        order by v.indicator_code, p.report_year
        """,
        {
            "regime": period.regime,
            "last": period.report_year,
            "first": first_year if first_year is not None else 0,
            "end": period.end_date,
        },
    )


# --- data quality ----------------------------------------------------------------------------------


def read_submissions(conn: psycopg.Connection, period: ReportingPeriod) -> list[Row]:
    """Returns due inside the extract period that are missing, rejected or late (worst first)."""
    return _rows(
        conn,
        f"""
        with {_UNIT_NAMES},
        final as (
            select s.source, s.unit_code, un.unit_name_vi, s.period_code, s.due_date, s.received_at,
                   s.status, s.rows_read, s.rows_loaded, s.rows_quarantined, p.end_date
            from marts.fct_return_submissions as s
            inner join marts.dim_reporting_periods as p on p.period_code = s.period_code
            left join unit_names as un on un.unit_code = s.unit_code
            where s.status <> 'on_time'
              and (s.expected or s.status <> 'missing')
              and p.start_date >= %(start)s and p.end_date <= %(end)s
        )
        select source, unit_code, unit_name_vi, period_code, due_date, received_at, status,
               rows_read, rows_loaded, rows_quarantined
        from final
        order by array_position(array['missing', 'rejected', 'late'], status), source, unit_code, end_date, period_code
        """,
        {"start": period.start_date, "end": period.end_date},
    )


def read_quarantine(conn: psycopg.Connection, period: ReportingPeriod) -> list[Row]:
    """Rows quarantined or flagged, by source, unit, period and rule, inside the extract period."""
    return _rows(
        conn,
        f"""
        with {_UNIT_NAMES}
        select q.source, q.unit_code, un.unit_name_vi, q.period_code, q.rule, q.severity, q.rows
        from marts.fct_quarantine_summary as q
        inner join marts.dim_reporting_periods as p on p.period_code = q.period_code
        left join unit_names as un on un.unit_code = q.unit_code
        where p.start_date >= %(start)s and p.end_date <= %(end)s
        order by q.source, q.unit_code, p.end_date, q.period_code,
                 array_position(array['row', 'warn'], q.severity), q.rule
        """,
        {"start": period.start_date, "end": period.end_date},
    )


def read_marts(conn: psycopg.Connection, period_code: str) -> MartData:
    """All rows of one extract. Call inside one repeatable-read transaction (see `build_extract`)
    so that every sheet sees the same state of the marts even while dbt rebuilds them."""
    period = find_period(conn, period_code)
    indicators = read_indicators(conn)
    submissions = read_submissions(conn, period)
    quarantine = read_quarantine(conn, period)
    if period.is_phase:
        summary, phase_years = read_phase_summary(conn, period)
        groups = {g: read_phase_group(conn, period, g) for g in GROUPS[:3]}
    else:
        previous = previous_period_code(conn, period)
        summary, phase_years = read_summary(conn, period, previous), {}
        groups = {g: read_group(conn, period, previous, g) for g in GROUPS[:3]}
    trends = read_trends(conn, period)
    if not summary and not any(groups.values()):
        raise ExtractDataError(
            f"Không có số liệu chỉ tiêu cho kỳ {period_code} trong marts / "
            f"no indicator values for period {period_code} in the marts"
        )
    return MartData(
        period=period,
        indicators=indicators,
        summary=summary,
        groups=groups,
        submissions=submissions,
        quarantine=quarantine,
        trends=trends,
        phase_years=phase_years,
    )
