"""Recompute a few indicators in plain Python from the raw rows and compare with the marts.

The Python side shares no code with the dbt models: it reads `registry.files`,
the `raw` tables and the periods seed, keeps each record's latest state the way
domain.md describes it (latest period end, cumulative before quarterly, highest
version) and counts. Run on the hand-made fixture of `test_dbt_build.py` and on
the bundled sample inbox (`samples/returns`) after the real intake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from test_dbt_build import built_warehouse  # noqa: F401  (session fixture shared with test_dbt_build.py)

from ingestion.reference import OFFENCE_SCOPES, SEEDS, read_periods

pytestmark = pytest.mark.slow

CORRUPTION = OFFENCE_SCOPES["corruption"]  # dbt var offence_scopes: 353-359


@dataclass(frozen=True)
class Period:
    code: str
    kind: str
    start: date
    end: date
    cumulative: bool


def load_periods() -> dict[str, Period]:
    """The committed calendar, through the reference loader (the seed the marts read too)."""
    return {
        code: Period(code, p.period_kind, p.start_date, p.end_date, p.is_cumulative)
        for code, p in read_periods(SEEDS).items()
    }


def current_rows(conn: psycopg.Connection, table: str, columns: str) -> list[dict[str, object]]:
    """Rows of loaded files with their file's unit, period and version."""
    cur = conn.execute(
        f"""select f.file_id, f.unit_code, f.period_code, coalesce(f.version, 1) as version, {columns}
            from raw.{table} r join registry.files f using (file_id) where f.status = 'loaded'"""
    )
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def latest(rows: list[dict[str, object]], key: tuple[str, ...], periods: dict[str, Period]) -> list[dict[str, object]]:
    """Latest state of each record: latest period end, then cumulative, then version, then file."""
    best: dict[tuple[object, ...], dict[str, object]] = {}

    def rank(r: dict[str, object]) -> tuple[date, bool, int, int]:
        p = periods[str(r["period_code"])]
        return (p.end, p.cumulative, int(r["version"]), int(r["file_id"]))  # type: ignore[call-overload]

    for r in rows:
        k = tuple(r[c] for c in key)
        if k not in best or rank(r) > rank(best[k]):
            best[k] = r
    return list(best.values())


def recompute(url: str) -> dict[tuple[str, str, str], Decimal]:
    """(indicator, period, scope) -> value at province level, for the yearly periods with data."""
    periods = load_periods()
    out: dict[tuple[str, str, str], Decimal] = {}
    with psycopg.connect(url) as conn:
        years = [
            periods[code]
            for (code,) in conn.execute(
                "select distinct period_code from registry.files where status = 'loaded' and period_code like '%-Y'"
            ).fetchall()
        ]
        cases = latest(
            current_rows(conn, "dieutra_cases", "r.case_id, r.initiation_date, r.article"), ("case_id",), periods
        )
        inspections = latest(
            current_rows(conn, "thanhtra_inspections", "r.inspection_id, r.status, r.conclusion_date, r.violation_vnd"),
            ("unit_code", "inspection_id"),
            periods,
        )
        indictments = latest(
            current_rows(conn, "truyto_cases", "r.case_id, r.indictment_date, r.article"), ("case_id",), periods
        )
        matters = current_rows(conn, "thads_matters", "r.decision_no, r.due_vnd, r.collected_vnd")
        quarantined = conn.execute(
            """select f.period_code, count(distinct (q.file_id, q.row_number))
               from audit.quarantine q join registry.files f using (file_id)
               where q.severity = 'row' and f.status = 'loaded' group by f.period_code"""
        ).fetchall()
    for p in years:

        def within(d: object, p: Period = p) -> bool:
            return isinstance(d, date) and p.start <= d <= p.end

        new = [c for c in cases if within(c["initiation_date"])]
        out[("DET_CASES_NEW", p.code, "all")] = Decimal(len(new))
        out[("DET_CASES_NEW", p.code, "corruption")] = Decimal(sum(1 for c in new if c["article"] in CORRUPTION))
        concluded = [i for i in inspections if i["status"] == "concluded" and within(i["conclusion_date"])]
        out[("DET_VIOLATION_VND", p.code, "all")] = Decimal(sum(int(i["violation_vnd"] or 0) for i in concluded))
        indicted = [c for c in indictments if within(c["indictment_date"])]
        out[("HDL_INDICTED_CASES", p.code, "all")] = Decimal(len(indicted))
        # enforcement is a stock: the returns for the period's end date, cumulative first
        at_end: dict[tuple[object, object], dict[str, object]] = {}
        for m in matters:
            mp = periods[str(m["period_code"])]
            if mp.end != p.end:
                continue
            k = (m["unit_code"], m["decision_no"])
            rank = (mp.cumulative, m["version"], m["file_id"])
            if k not in at_end or rank > at_end[k]["_rank"]:  # type: ignore[operator]
                at_end[k] = m | {"_rank": rank}
        due = sum(int(m["due_vnd"] or 0) for m in at_end.values() if (m["due_vnd"] or 0) > 0)  # type: ignore[operator]
        collected = sum(
            min(int(m["collected_vnd"] or 0), int(m["due_vnd"] or 0))  # type: ignore[call-overload]
            for m in at_end.values()
            if (m["due_vnd"] or 0) > 0  # type: ignore[operator]
        )
        if due:
            out[("REC_ENFORCEMENT_RATE", p.code, "all")] = round(Decimal(collected) / Decimal(due), 6)
    for period_code, rows in quarantined:
        if period_code in {p.code for p in years}:
            out[("DQ_ROWS_QUARANTINED", period_code, "all")] = Decimal(rows)
    return out


def marts_values(url: str) -> dict[tuple[str, str, str], Decimal]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """select indicator_code, period_code, scope, value from marts.fct_indicator_values
               where unit_level = 'province' and restatement = 'restated'"""
        ).fetchall()
    return {(c, p, s): v for c, p, s, v in rows}


def compare(url: str) -> int:
    expected = recompute(url)
    actual = marts_values(url)
    assert expected, "nothing to recompute: no yearly returns loaded"
    mismatches = {k: (v, actual.get(k)) for k, v in expected.items() if actual.get(k, Decimal(0)) != v}
    assert not mismatches, mismatches
    return len(expected)


def test_recompute_hand_fixture(built_warehouse: dict[str, object]) -> None:  # noqa: F811
    assert compare(str(built_warehouse["url"])) >= 10


def test_recompute_sample(sample_warehouse) -> None:
    """The session's sample warehouse (tests/conftest.py: the real intake of samples/returns, then `dbt build`)."""
    assert compare(sample_warehouse.url) >= 10
