"""Read what one extract (and its yearly evaluation draft) needs from the marts, and nothing else.

This is the only module of the extract that knows mart names and columns
(`docs/interfaces.md`, section "Marts"). It only selects: which indicators are
headlines, their order, the previous-year values and changes, unit names and levels
and their order, phase dates and totals, the per-unit data-quality counts are all
decided by the marts. Everything downstream works on
the plain rows returned here, so a renamed mart column is a change in this file only.

Which rows an extract shows (README, "Indicator extracts"):
- summary: the headline indicators (`dim_indicators.is_headline`), province level,
  restated on today's units, each indicator's default scope; for a year
  (`YYYY-Y`) the yearly evaluation (previous year, target), for a shorter period
  the same period of the previous year (`fct_indicator_comparisons`);
- detection / handling / recovery: agencies and their units (restated on today's
  units, so a unit is compared with what its predecessors reported) × indicators,
  default scope, with the same period last year beside;
- data quality: one line per unit (`fct_unit_return_quality`: returns expected, late,
  missing, rejected; rows quarantined and flagged) and, as an annex, every return missing,
  rejected or late;
- trends: full years (`YYYY-Y`) up to the extract's year, province, restated.
A phase review (`2023-2026`, `2026-2030`, `dim_strategy_phases`) shows the phase's
years and the phase totals (`fct_phase_totals`).

Every read keeps to the deployment's own province (dbt var `province_code`, THANHHOA):
the marts may hold every province and the national total (`national.py`), the
Inspectorate's extract shows its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ingestion.reference import PROVINCE_CODE

Row = dict[str, Any]

GROUPS = ("detection", "handling", "recovery", "data_quality")
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
    name_vi: str | None = None  # phases: "Giai đoạn 2023–2026 (sơ kết cuối năm 2025)"
    name_en: str | None = None

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
    unit_quality: list[Row] = field(default_factory=list)
    phase_years: dict[str, dict[int, Any]] = field(default_factory=dict)
    has_targets: bool = False
    previous_period_code: str | None = None

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
            "unit_quality": self.unit_quality,
            "phase_years": {k: {str(y): v for y, v in d.items()} for k, d in self.phase_years.items()},
            "has_targets": self.has_targets,
            "previous_period_code": self.previous_period_code,
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
    """The period called `period_code`: a row of dim_reporting_periods or of dim_strategy_phases."""
    phases = _rows(
        conn,
        """
        select phase_code, regime, start_year, end_year, start_date, end_date, name_vi, name_en
        from marts.dim_strategy_phases
        where phase_code = %(code)s
        """,
        {"code": period_code},
    )
    if phases:
        p = phases[0]
        return ReportingPeriod(
            code=p["phase_code"],
            regime=p["regime"],
            report_year=int(p["end_year"]),
            kind="PHASE",
            start_date=p["start_date"],
            end_date=p["end_date"],
            years=tuple(range(int(p["start_year"]), int(p["end_year"]) + 1)),
            name_vi=p["name_vi"],
            name_en=p["name_en"],
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
            f"Kỳ báo cáo {period_code!r} không có trong marts.dim_reporting_periods hay marts.dim_strategy_phases / "
            f"period {period_code!r} is neither in marts.dim_reporting_periods nor in marts.dim_strategy_phases "
            "(expected e.g. 2024-Y, 2025-Q2, 2023-2026)"
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
    """The latest period with loaded returns (`ingestion.calendar.latest_reported`: last end, then widest)."""
    from ingestion.calendar import latest_reported

    latest = latest_reported(conn)
    return latest.period_code if latest else None


# --- indicators ------------------------------------------------------------------------------


def read_indicators(conn: psycopg.Connection) -> list[Row]:
    """dim_indicators in the order every report shows them (`display_order`)."""
    return _rows(
        conn,
        """
        select indicator_code, indicator_group, name_vi, name_en, unit, formula_vi, formula_en,
               direction, default_scope, is_additive, is_headline, display_order
        from marts.dim_indicators
        order by display_order
        """,
    )


def has_targets(conn: psycopg.Connection) -> bool:
    """Whether the Inspectorate set any target (seed indicator_targets, via the yearly evaluation)."""
    return bool(_rows(conn, "select 1 from marts.fct_yearly_evaluation where target_value is not null limit 1"))


def read_summary(conn: psycopg.Connection, period: ReportingPeriod) -> tuple[list[Row], str | None]:
    """Headline indicators, province, restated, default scope, against the same period a year before.

    A year reads the yearly evaluation (with targets); a shorter period the comparisons.
    Returns the rows and the code of the period compared with.
    """
    if period.is_year:
        rows = _rows(
            conn,
            """
            select i.indicator_code, i.indicator_group, i.name_vi, i.name_en, i.unit, i.direction,
                   i.default_scope, i.display_order, e.value, e.previous_value, e.change_abs,
                   e.change_pct, e.change_points, e.target_value, e.target_met
            from marts.dim_indicators as i
            inner join marts.fct_yearly_evaluation as e
                on e.indicator_code = i.indicator_code and e.scope = i.default_scope
            where i.is_headline and e.report_year = %(year)s and e.unit_level = 'province'
              and e.province_code = %(province)s
            order by i.display_order
            """,
            {"year": period.report_year, "province": PROVINCE_CODE},
        )
    else:
        rows = _rows(
            conn,
            """
            select i.indicator_code, i.indicator_group, i.name_vi, i.name_en, i.unit, i.direction,
                   i.default_scope, i.display_order, c.value, c.previous_value, c.change_abs,
                   c.change_pct, c.change_points, null::numeric as target_value, null::boolean as target_met
            from marts.dim_indicators as i
            inner join marts.fct_indicator_comparisons as c
                on c.indicator_code = i.indicator_code and c.scope = i.default_scope
            where i.is_headline and c.period_code = %(period)s
              and c.unit_level = 'province' and c.restatement = 'restated' and c.province_code = %(province)s
            order by i.display_order
            """,
            {"period": period.code, "province": PROVINCE_CODE},
        )
    previous = _rows(
        conn,
        """
        select distinct previous_period_code from marts.fct_indicator_comparisons
        where period_code = %(period)s and previous_period_code is not null
        """,
        {"period": period.code},
    )
    return rows, (previous[0]["previous_period_code"] if previous else None)


def read_group(conn: psycopg.Connection, period: ReportingPeriod, group: str) -> list[Row]:
    """One indicator group: province, agencies and units (restated), default scope, last year beside."""
    return _rows(
        conn,
        """
        select c.indicator_code, i.name_vi, i.name_en, i.unit, i.display_order, c.unit_level,
               c.agency_code, c.unit_code, c.unit_name_vi, c.scope, c.value, c.numerator,
               c.denominator, c.previous_value, c.change_abs, c.change_pct, c.change_points
        from marts.fct_indicator_comparisons as c
        inner join marts.dim_indicators as i
            on i.indicator_code = c.indicator_code and i.default_scope = c.scope
        where c.period_code = %(period)s and c.restatement = 'restated' and i.indicator_group = %(group)s
          and c.province_code = %(province)s and c.unit_level <> 'national'
        order by c.unit_level_order, c.agency_code, c.unit_code, i.display_order
        """,
        {"period": period.code, "group": group, "province": PROVINCE_CODE},
    )


def read_phase_group(conn: psycopg.Connection, period: ReportingPeriod, group: str) -> list[Row]:
    """Phase totals of one group (additive indicators only): province, agencies, units, default scope."""
    return _rows(
        conn,
        """
        select t.indicator_code, i.name_vi, i.name_en, i.unit, i.display_order, t.unit_level,
               t.agency_code, t.unit_code, t.unit_name_vi, t.scope, t.value, t.years_covered,
               t.first_year_covered, t.last_year_covered
        from marts.fct_phase_totals as t
        inner join marts.dim_indicators as i
            on i.indicator_code = t.indicator_code and i.default_scope = t.scope
        where t.phase_code = %(phase)s and i.indicator_group = %(group)s
          and t.province_code = %(province)s and t.unit_level <> 'national'
        order by t.unit_level_order, t.agency_code, t.unit_code, i.display_order
        """,
        {"phase": period.code, "group": group, "province": PROVINCE_CODE},
    )


def read_phase_summary(
    conn: psycopg.Connection, period: ReportingPeriod
) -> tuple[list[Row], dict[str, dict[int, Any]]]:
    """Headline phase totals at the province, and each year's value inside the phase."""
    totals = _rows(
        conn,
        """
        select i.indicator_code, i.indicator_group, i.name_vi, i.name_en, i.unit, i.direction,
               i.default_scope, i.display_order, t.value as phase_value, t.years_covered,
               t.first_year_covered, t.last_year_covered
        from marts.dim_indicators as i
        left join marts.fct_phase_totals as t
            on t.indicator_code = i.indicator_code and t.scope = i.default_scope
            and t.phase_code = %(phase)s and t.unit_level = 'province' and t.province_code = %(province)s
        where i.is_headline
        order by i.display_order
        """,
        {"phase": period.code, "province": PROVINCE_CODE},
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
          and v.unit_level = 'province' and v.restatement = 'restated' and v.province_code = %(province)s
        order by i.display_order, p.report_year
        """,
        {
            "province": PROVINCE_CODE,
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
        """
        select s.source, s.unit_code, s.unit_name_vi, s.period_code, s.due_date, s.received_at, s.status,
               s.rows_read, s.rows_loaded, s.rows_quarantined
        from marts.fct_return_submissions as s
        inner join marts.dim_reporting_periods as p on p.period_code = s.period_code
        where s.status <> 'on_time'
          and (s.expected or s.status <> 'missing')
          and p.start_date >= %(start)s and p.end_date <= %(end)s
          and s.province_code = %(province)s
        order by s.status_order, s.source, s.unit_code, p.end_date, s.period_code
        """,
        {"start": period.start_date, "end": period.end_date, "province": PROVINCE_CODE},
    )


def read_unit_quality(conn: psycopg.Connection, period: ReportingPeriod) -> list[Row]:
    """One line per unit: its returns inside the extract period by status, and its problem rows."""
    return _rows(
        conn,
        """
        select unit_code, agency_code, unit_name_vi, returns_due, on_time, late, missing, rejected,
               rows_loaded, rows_quarantined, rows_flagged
        from marts.fct_unit_return_quality
        where report_period_code = %(period)s and province_code = %(province)s
        order by needs_follow_up desc, agency_code, unit_code
        """,
        {"period": period.code, "province": PROVINCE_CODE},
    )


def read_quarantine(conn: psycopg.Connection, period: ReportingPeriod) -> list[Row]:
    """Rows quarantined or flagged, by source, unit, period and rule, inside the extract period."""
    return _rows(
        conn,
        """
        select q.source, q.unit_code, q.unit_name_vi, q.period_code, q.rule, q.severity, q.rows
        from marts.fct_quarantine_summary as q
        inner join marts.dim_reporting_periods as p on p.period_code = q.period_code
        where p.start_date >= %(start)s and p.end_date <= %(end)s
          and q.province_code = %(province)s
        order by q.source, q.unit_code, p.end_date, q.period_code, q.severity_order, q.rule
        """,
        {"start": period.start_date, "end": period.end_date, "province": PROVINCE_CODE},
    )


def read_marts(conn: psycopg.Connection, period_code: str) -> MartData:
    """All rows of one extract. Call inside one repeatable-read transaction (see `build_extract`)
    so that every sheet sees the same state of the marts even while dbt rebuilds them."""
    period = find_period(conn, period_code)
    indicators = read_indicators(conn)
    previous = None
    if period.is_phase:
        summary, phase_years = read_phase_summary(conn, period)
        groups = {g: read_phase_group(conn, period, g) for g in GROUPS}
    else:
        (summary, previous), phase_years = read_summary(conn, period), {}
        groups = {g: read_group(conn, period, g) for g in GROUPS}
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
        submissions=read_submissions(conn, period),
        quarantine=read_quarantine(conn, period),
        trends=read_trends(conn, period),
        unit_quality=read_unit_quality(conn, period),
        phase_years=phase_years,
        has_targets=has_targets(conn),
        previous_period_code=previous,
    )
