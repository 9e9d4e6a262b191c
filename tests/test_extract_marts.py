"""Sample marts for the extract tests, with exactly the columns of docs/interfaces.md.

The dbt models are built in parallel; until the end-to-end test runs on real marts, the
extract is tested on these tables. They hold realistic, internally consistent numbers
for Thanh Hóa 2020 to 2025-9M: units valid by date (districts until 30/06/2025, regions
after), cumulative periods equal to the sum of their quarters, agency and province rows
equal to the sum of their units, ratios equal to numerator / denominator, stocks taken
at the period end. The test below keeps the tables in step with the interface page.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from ingestion.warehouse import with_database

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "dbt_project" / "seeds"

# Column types of the sample marts; names must equal docs/interfaces.md (checked below).
MART_TABLES: dict[str, dict[str, str]] = {
    "dim_indicators": {
        "indicator_code": "text",
        "indicator_group": "text",
        "name_vi": "text",
        "name_en": "text",
        "unit": "text",
        "formula_vi": "text",
        "formula_en": "text",
        "direction": "text",
        "default_scope": "text",
        "is_additive": "boolean",
        "sort_order": "integer",
    },
    "dim_reporting_units": {
        "unit_code": "text",
        "agency_code": "text",
        "agency_name_vi": "text",
        "unit_level": "text",
        "area_code": "text",
        "unit_name_vi": "text",
        "valid_from": "date",
        "valid_to": "date",
        "successor_unit_code": "text",
        "current_unit_code": "text",
        "is_current": "boolean",
    },
    "dim_reporting_periods": {
        "period_code": "text",
        "regime": "text",
        "report_year": "integer",
        "period_kind": "text",
        "start_date": "date",
        "end_date": "date",
        "is_cumulative": "boolean",
        "quarter_index": "integer",
        "due_date": "date",
    },
    "dim_offences": {"article": "smallint", "name_vi": "text", "name_en": "text", "scope": "text"},
    "fct_indicator_values": {
        "indicator_code": "text",
        "period_code": "text",
        "report_year": "integer",
        "unit_code": "text",
        "unit_level": "text",
        "restatement": "text",
        "scope": "text",
        "value": "numeric",
        "numerator": "numeric",
        "denominator": "numeric",
    },
    "fct_yearly_evaluation": {
        "indicator_code": "text",
        "report_year": "integer",
        "unit_code": "text",
        "unit_level": "text",
        "scope": "text",
        "value": "numeric",
        "previous_value": "numeric",
        "change_abs": "numeric",
        "change_pct": "numeric",
        "target_value": "numeric",
        "target_met": "boolean",
    },
    "fct_phase_totals": {
        "indicator_code": "text",
        "phase_code": "text",
        "unit_code": "text",
        "scope": "text",
        "value": "numeric",
        "years_covered": "integer",
    },
    "fct_return_submissions": {
        "source": "text",
        "unit_code": "text",
        "period_code": "text",
        "due_date": "date",
        "expected": "boolean",
        "received_at": "timestamptz",
        "file_id": "bigint",
        "status": "text",
        "rows_read": "integer",
        "rows_loaded": "integer",
        "rows_quarantined": "integer",
    },
    "fct_quarantine_summary": {
        "source": "text",
        "unit_code": "text",
        "period_code": "text",
        "rule": "text",
        "severity": "text",
        "rows": "integer",
    },
}

AGENCY_NAMES = {
    "TT": "Thanh tra",
    "CA": "Công an (Cơ quan CSĐT)",
    "QD": "Cơ quan điều tra Quân sự",
    "VKS": "Viện kiểm sát nhân dân",
    "TA": "Tòa án nhân dân",
    "THADS": "Thi hành án dân sự",
}
SOURCE_AGENCIES = {
    "thanhtra": ("TT",),
    "dieutra": ("CA", "QD"),
    "truyto": ("VKS",),
    "xetxu": ("TA",),
    "thads": ("THADS",),
}
CHANNELS = ("inspection", "internal_check", "audit", "complaint", "press", "investigation_own", "other")
CHANNEL_NAMES = {
    "inspection": ("Thanh tra", "Inspection"),
    "internal_check": ("Kiểm tra", "Internal check"),
    "audit": ("Kiểm toán", "Audit"),
    "complaint": ("Tố cáo, tin báo", "Complaints and tips"),
    "press": ("Báo chí", "Press"),
    "investigation_own": ("Cơ quan điều tra tự phát hiện", "Investigation agency's own"),
    "other": ("Khác", "Other"),
}


@dataclass(frozen=True)
class Spec:
    """How the sample generates one indicator (a small copy of the indicator seed)."""

    code: str
    group: str
    name_vi: str
    name_en: str
    unit: str
    direction: str
    scope: str  # default scope; scoped indicators also get `position`
    additive: bool
    sort: int
    calc: str  # sum, ratio, median, stock
    source: str
    low: int = 0
    high: int = 3
    rate: float = 0.5  # ratios: level of numerator / denominator


SPECS: tuple[Spec, ...] = (
    Spec("DET_CASES_NEW", "detection", "Số vụ án khởi tố mới", "New cases initiated", "cases",
         "higher_is_better", "corruption", True, 10, "channels", "dieutra"),
    Spec("DET_PERSONS_NEW", "detection", "Số bị can khởi tố mới", "New persons accused", "persons",
         "higher_is_better", "corruption", True, 20, "persons", "dieutra"),
    Spec("DET_SELF_SHARE", "detection", "Tỷ lệ vụ án phát hiện qua thanh tra, kiểm tra",
         "Share of cases detected by inspection and internal checks", "ratio", "higher_is_better", "corruption",
         False, 30, "self_share", "dieutra"),
    Spec("DET_INSPECTIONS_CONCLUDED", "detection", "Số cuộc thanh tra, kiểm tra đã kết luận",
         "Inspections and checks concluded", "inspections", "higher_is_better", "all", True, 40, "sum", "thanhtra",
         4, 30),
    Spec("DET_VIOLATION_VND", "detection", "Sai phạm về tiền phát hiện qua thanh tra",
         "Violations found by inspection (VND)", "vnd", "neutral", "all", True, 50, "vnd", "thanhtra",
         200_000_000, 9_000_000_000),
    Spec("DET_VIOLATION_M2", "detection", "Sai phạm về đất phát hiện qua thanh tra",
         "Land violations found by inspection (m²)", "m2", "neutral", "all", True, 55, "m2", "thanhtra", 0, 40_000),
    Spec("DET_TRANSFER_RATE", "detection", "Số vụ chuyển cơ quan điều tra trên một cuộc thanh tra kết luận",
         "Cases transferred to investigation per inspection concluded", "ratio", "higher_is_better", "all", False,
         60, "ratio", "thanhtra", 5, 30, 0.03),
    Spec("HDL_INDICTED_CASES", "handling", "Số vụ án truy tố", "Cases indicted", "cases", "higher_is_better",
         "corruption", True, 110, "sum", "truyto", 0, 4),
    Spec("HDL_TRIED_PERSONS", "handling", "Số bị cáo đã xét xử sơ thẩm", "Defendants tried at first instance",
         "persons", "higher_is_better", "corruption", True, 140, "sum", "xetxu", 0, 8),
    Spec("HDL_CONVICTION_RATE", "handling", "Tỷ lệ bị cáo bị kết án", "Conviction rate (persons)", "ratio",
         "higher_is_better", "corruption", False, 150, "ratio", "xetxu", 1, 9, 0.93),
    Spec("HDL_DAYS_TO_INDICTMENT_MEDIAN", "handling", "Số ngày từ khởi tố đến truy tố (trung vị)",
         "Days from initiation to indictment (median)", "days", "lower_is_better", "corruption", False, 170,
         "median", "truyto", 90, 320),
    Spec("HDL_BACKLOG_CASES", "handling", "Số vụ án tồn cuối kỳ", "Cases pending at period end", "cases",
         "lower_is_better", "corruption", False, 190, "stock", "dieutra", 0, 9),
    Spec("REC_ADMIN_RATE", "recovery", "Tỷ lệ thu hồi theo kiến nghị thanh tra", "Administrative recovery rate",
         "ratio", "higher_is_better", "all", False, 310, "vnd_ratio", "thanhtra", 100_000_000, 6_000_000_000, 0.55),
    Spec("REC_SECURED_RATE", "recovery", "Tỷ lệ thu hồi, kê biên, phong tỏa trong điều tra",
         "Secured during investigation / damage", "ratio", "higher_is_better", "corruption", False, 320,
         "vnd_ratio", "dieutra", 500_000_000, 20_000_000_000, 0.4),
    Spec("REC_ENFORCEMENT_RATE", "recovery", "Tỷ lệ tiền thi hành án đã thu", "Enforcement collected / due",
         "ratio", "higher_is_better", "all", False, 330, "vnd_ratio", "thads", 1_000_000_000, 40_000_000_000, 0.35),
    Spec("REC_OUTSTANDING_VND", "recovery", "Số tiền còn phải thi hành cuối kỳ",
         "Amount outstanding at period end (VND)", "vnd", "lower_is_better", "all", False, 350, "vnd_stock", "thads",
         5_000_000_000, 60_000_000_000),
    Spec("DQ_RETURNS_MISSING", "data_quality", "Số báo cáo còn thiếu", "Returns missing", "returns",
         "lower_is_better", "all", True, 410, "sum", "dq", 0, 2),
    Spec("DQ_ROWS_QUARANTINED", "data_quality", "Số dòng bị cách ly", "Rows quarantined", "rows", "lower_is_better",
         "all", True, 420, "sum", "dq", 0, 12),
    Spec("DQ_CASE_LINK_RATE", "data_quality", "Tỷ lệ vụ án liên kết được giữa các giai đoạn",
         "Cases linked across stages", "ratio", "higher_is_better", "all", False, 430, "ratio", "dq", 2, 12, 0.85),
)  # fmt: skip

TARGETS = {"REC_ADMIN_RATE": Decimal("0.6"), "HDL_CONVICTION_RATE": Decimal("0.9"), "DQ_RETURNS_MISSING": Decimal(5)}
SCOPED = {"corruption"}


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _d(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Unit:
    code: str
    agency: str
    valid_from: date
    valid_to: date | None
    current: str


def _units() -> list[Unit]:
    rows = read_seed("reporting_units.csv")
    successor = {r["unit_code"]: r["successor_unit_code"] for r in rows}

    def current(code: str) -> str:
        seen = set()
        while successor.get(code) and code not in seen:
            seen.add(code)
            code = successor[code]
        return code

    return [
        Unit(r["unit_code"], r["agency_code"], _d(r["valid_from"]) or date(2020, 1, 1), _d(r["valid_to"]),
             current(r["unit_code"]))
        for r in rows
    ]  # fmt: skip


def _sample_units(units: list[Unit], agency: str) -> list[Unit]:
    """The province-level unit, four districts and three regions of an agency (enough variety)."""
    mine = [u for u in units if u.agency == agency]
    province = [u for u in mine if u.code.endswith("-TINH")]
    districts = [u for u in mine if "-HUYEN-" in u.code][:4]
    regions = [u for u in mine if "-KV" in u.code][:3]
    return province + districts + regions


def _valid(u: Unit, day: date) -> bool:
    return u.valid_from <= day and (u.valid_to is None or day <= u.valid_to)


@dataclass
class Periods:
    rows: list[dict[str, str]]

    def by_code(self) -> dict[str, dict[str, str]]:
        return {r["period_code"]: r for r in self.rows}


QUARTERS_OF = {"Q1": (1,), "Q2": (2,), "Q3": (3,), "Q4": (4,), "6M": (1, 2), "9M": (1, 2, 3), "Y": (1, 2, 3, 4)}


def sample_period_codes(last: str = "2025-9M") -> list[str]:
    """Every thanhtra period from 2020 up to `last`'s year, without periods ending after `last`."""
    by_code = {r["period_code"]: r for r in read_seed("reporting_periods.csv")}
    end = date.fromisoformat(by_code[last]["end_date"])
    return [
        c
        for c, r in by_code.items()
        if 2020 <= int(r["report_year"]) <= int(by_code[last]["report_year"])
        and date.fromisoformat(r["end_date"]) <= end
    ]


class SampleMarts:
    """Generates the rows of every sample mart table."""

    def __init__(self, last_period: str = "2025-9M", *, with_channels: bool = True, seed: int = 20240226) -> None:
        self.rng = random.Random(seed)
        self.with_channels = with_channels
        self.units = _units()
        self.period_rows = read_seed("reporting_periods.csv")
        self.periods = {r["period_code"]: r for r in self.period_rows}
        self.codes = sample_period_codes(last_period)
        self.years = sorted({int(self.periods[c]["report_year"]) for c in self.codes})
        # (indicator, unit_code, year, quarter, scope) -> (numerator, denominator) or value
        self.cells: dict[tuple[str, str, int, int, str], tuple[Decimal, Decimal | None]] = {}

    # -- dimensions --------------------------------------------------------------------------------

    def specs(self) -> list[Spec]:
        specs = list(SPECS)
        if self.with_channels:
            for i, ch in enumerate(CHANNELS):
                vi, en = CHANNEL_NAMES[ch]
                specs.append(
                    Spec(f"DET_CASES_NEW_{ch.upper()}", "detection", f"Số vụ khởi tố mới, nguồn: {vi}",
                         f"New cases initiated, channel: {en}", "cases", "neutral", "corruption", True, 11 + i,
                         "channel", "dieutra")
                )  # fmt: skip
        return specs

    def dim_indicators(self) -> list[tuple[Any, ...]]:
        return [
            (s.code, s.group, s.name_vi, s.name_en, s.unit, f"Cách tính {s.code}", f"Formula of {s.code}", s.direction,
             s.scope, s.additive, s.sort)
            for s in self.specs()
        ]  # fmt: skip

    def dim_reporting_units(self) -> list[tuple[Any, ...]]:
        rows = read_seed("reporting_units.csv")
        cur = {u.code: u.current for u in self.units}
        return [
            (r["unit_code"], r["agency_code"], AGENCY_NAMES[r["agency_code"]], r["unit_level"], r["area_code"],
             r["unit_name_vi"], _d(r["valid_from"]), _d(r["valid_to"]), r["successor_unit_code"] or None,
             cur[r["unit_code"]], not r["valid_to"])
            for r in rows
        ]  # fmt: skip

    def dim_reporting_periods(self) -> list[tuple[Any, ...]]:
        return [
            (r["period_code"], r["regime"], int(r["report_year"]), r["period_kind"], _d(r["start_date"]),
             _d(r["end_date"]), r["is_cumulative"] == "true", int(r["quarter_index"]), _d(r["due_date"]))
            for r in self.period_rows
        ]  # fmt: skip

    # -- facts ---------------------------------------------------------------------------------------

    def _quarter_end(self, year: int, q: int) -> date:
        return date.fromisoformat(self.periods[f"{year}-Q{q}"]["end_date"])

    def _agencies(self, s: Spec) -> tuple[str, ...]:
        return ("TT", "CA", "VKS", "TA", "THADS") if s.source == "dq" else SOURCE_AGENCIES[s.source]

    def _scopes(self, s: Spec) -> tuple[str, ...]:
        return ("corruption", "position") if s.scope in SCOPED else ("all",)

    def _generate_cells(self) -> None:
        """Per unit and quarter: the raw numbers every period is aggregated from."""
        rng = self.rng
        quarters = [(y, q) for y in self.years for q in (1, 2, 3, 4) if f"{y}-Q{q}" in self.codes]
        for s in self.specs():
            if s.calc in ("channel", "persons", "self_share"):
                continue  # derived from DET_CASES_NEW below
            for agency in self._agencies(s):
                for u in _sample_units(self.units, agency):
                    for y, q in quarters:
                        if not _valid(u, self._quarter_end(y, q)):
                            continue
                        big = u.code.endswith("-TINH")
                        trend = 1 + 0.08 * (y - 2020)
                        for scope in self._scopes(s):
                            extra = 1.3 if scope == "position" else 1.0
                            if s.calc == "channels":
                                split = [rng.choices((0, 0, 1, 1, 2), k=1)[0] if big else rng.choice((0, 0, 0, 1))
                                         for _ in CHANNELS]  # fmt: skip
                                if scope == "position":
                                    split = [n + rng.choice((0, 0, 1)) for n in split]
                                for ch, n in zip(CHANNELS, split, strict=True):
                                    self.cells[(f"DET_CASES_NEW_{ch.upper()}", u.code, y, q, scope)] = (
                                        Decimal(n),
                                        None,
                                    )
                                total = sum(split)
                                self.cells[("DET_CASES_NEW", u.code, y, q, scope)] = (Decimal(total), None)
                                persons = sum(rng.randint(1, 3) for _ in range(total))
                                self.cells[("DET_PERSONS_NEW", u.code, y, q, scope)] = (Decimal(persons), None)
                                self_detected = split[0] + split[1]
                                self.cells[("DET_SELF_SHARE", u.code, y, q, scope)] = (
                                    Decimal(self_detected),
                                    Decimal(total),
                                )
                            elif s.calc in ("sum", "stock"):
                                hi = s.high if big else max(1, s.high // 3)
                                n = round(rng.randint(s.low, hi) * extra)
                                self.cells[(s.code, u.code, y, q, scope)] = (Decimal(n), None)
                            elif s.calc in ("vnd", "vnd_stock"):
                                n = rng.randint(s.low, s.high) // (1 if big else 5)
                                self.cells[(s.code, u.code, y, q, scope)] = (Decimal(n // 1000 * 1000), None)
                            elif s.calc == "m2":
                                self.cells[(s.code, u.code, y, q, scope)] = (
                                    Decimal(rng.randint(s.low, s.high)) / 10,
                                    None,
                                )
                            elif s.calc == "median":
                                self.cells[(s.code, u.code, y, q, scope)] = (Decimal(rng.randint(s.low, s.high)), None)
                            elif s.calc in ("ratio", "vnd_ratio"):
                                den = rng.randint(s.low, s.high) // (1 if big else 4)
                                if s.calc == "vnd_ratio":
                                    den = den // 1000 * 1000
                                rate = min(1.0, s.rate * trend * rng.uniform(0.8, 1.2))
                                num = round(den * rate) if s.calc == "ratio" else round(den * rate) // 1000 * 1000
                                self.cells[(s.code, u.code, y, q, scope)] = (Decimal(num), Decimal(den))

    def _aggregate(self, s: Spec, keys: list[tuple[str, int, int, str]], quarters: tuple[int, ...], year: int):
        """Value, numerator and denominator of `s` over unit-quarter cells `keys` (or None)."""
        cells = [self.cells[(s.code, u, y, q, sc)] for (u, y, q, sc) in keys if (s.code, u, y, q, sc) in self.cells]
        if not cells:
            return None
        if s.calc in ("stock", "vnd_stock"):
            last_q = max(q for (_u, _y, q, _sc) in keys if (s.code, _u, _y, q, _sc) in self.cells)
            total = sum(
                (self.cells[(s.code, u, y, q, sc)][0] for (u, y, q, sc) in keys
                 if q == last_q and (s.code, u, y, q, sc) in self.cells),
                Decimal(0),
            )  # fmt: skip
            return total, None, None
        if s.calc == "median":
            values = sorted(c[0] for c in cells)
            return values[len(values) // 2], None, None
        if cells[0][1] is not None:  # ratio
            num = sum((c[0] for c in cells), Decimal(0))
            den = sum((c[1] or Decimal(0) for c in cells), Decimal(0))
            return (num / den if den else None), num, den
        return sum((c[0] for c in cells), Decimal(0)), None, None

    def fct_indicator_values(self) -> list[tuple[Any, ...]]:
        self._generate_cells()
        out: list[tuple[Any, ...]] = []
        for code in self.codes:
            p = self.periods[code]
            year = int(p["report_year"])
            quarters = QUARTERS_OF[p["period_kind"]]
            for s in self.specs():
                for scope in self._scopes(s):
                    agencies = self._agencies(s)
                    all_keys = []
                    for agency in agencies:
                        units = _sample_units(self.units, agency)
                        keys = [(u.code, year, q, scope) for u in units for q in quarters]
                        all_keys += keys
                        agg = self._aggregate(s, keys, quarters, year)
                        if agg is None:
                            continue
                        for restatement in ("as_reported", "restated"):
                            out.append((s.code, code, year, agency, "agency", restatement, scope, *agg))
                        # units as reported, and restated on today's units
                        restated: dict[str, list[tuple[str, int, int, str]]] = {}
                        for u in units:
                            ukeys = [(u.code, year, q, scope) for q in quarters]
                            uagg = self._aggregate(s, ukeys, quarters, year)
                            if uagg is not None:
                                out.append((s.code, code, year, u.code, "unit", "as_reported", scope, *uagg))
                                restated.setdefault(u.current, []).extend(ukeys)
                        for current, ckeys in sorted(restated.items()):
                            cagg = self._aggregate(s, ckeys, quarters, year)
                            if cagg is not None:
                                out.append((s.code, code, year, current, "unit", "restated", scope, *cagg))
                    agg = self._aggregate(s, all_keys, quarters, year)
                    if agg is not None:
                        for restatement in ("as_reported", "restated"):
                            out.append((s.code, code, year, "THANHHOA", "province", restatement, scope, *agg))
        self._values = out
        return out

    def _province_year(self) -> dict[tuple[str, int, str], Decimal | None]:
        return {
            (r[0], r[2], r[6]): r[7]
            for r in self._values
            if r[4] == "province" and r[5] == "restated" and self.periods[r[1]]["period_kind"] == "Y"
        }

    def fct_yearly_evaluation(self) -> list[tuple[Any, ...]]:
        by_year = self._province_year()
        directions = {s.code: s.direction for s in self.specs()}
        out = []
        for (code, year, scope), value in sorted(by_year.items()):
            prev = by_year.get((code, year - 1, scope))
            change = value - prev if value is not None and prev is not None else None
            pct = change / abs(prev) if change is not None and prev else None
            target = TARGETS.get(code)
            met = None
            if target is not None and value is not None:
                met = value >= target if directions[code] == "higher_is_better" else value <= target
            out.append((code, year, "THANHHOA", "province", scope, value, prev, change, pct, target, met))
        return out

    def fct_phase_totals(self) -> list[tuple[Any, ...]]:
        additive = {s.code for s in self.specs() if s.additive}
        totals: dict[tuple[str, str, str], Decimal] = {}
        years: dict[tuple[str, str, str], set[int]] = {}
        for r in self._values:
            code, period, year, unit, _level, restatement, scope, value = r[:8]
            if code not in additive or value is None or restatement != "restated":
                continue
            if self.periods[period]["period_kind"] != "Y" or not 2023 <= year <= 2026:
                continue
            key = (code, unit, scope)
            totals[key] = totals.get(key, Decimal(0)) + value
            years.setdefault(key, set()).add(year)
        return [(c, "2023-2026", u, sc, v, len(years[(c, u, sc)])) for (c, u, sc), v in sorted(totals.items())]

    def fct_return_submissions(self) -> list[tuple[Any, ...]]:
        rng = self.rng
        out = []
        file_id = 1000
        for code in self.codes:
            p = self.periods[code]  # every period is a return of its own, cumulative ones too
            due = date.fromisoformat(p["due_date"])
            end = date.fromisoformat(p["end_date"])
            for source, agencies in SOURCE_AGENCIES.items():
                for agency in agencies:
                    for u in _sample_units(self.units, agency):
                        if not _valid(u, end):
                            continue
                        status = rng.choices(("on_time", "late", "missing", "rejected"), (80, 10, 6, 4))[0]
                        received = None
                        rows = (None, None, None)
                        fid = None
                        if status != "missing":
                            file_id += 1
                            fid = file_id
                            delay = rng.randint(-5, 0) if status == "on_time" else rng.randint(1, 20)
                            received = datetime.combine(
                                due + timedelta(days=delay), datetime.min.time(), UTC
                            ) + timedelta(hours=rng.randint(1, 10), minutes=rng.randint(0, 59))
                            read = rng.randint(5, 60)
                            quarantined = 0 if status == "rejected" else rng.choice((0, 0, 1, 2))
                            loaded = 0 if status == "rejected" else read - quarantined
                            rows = (read, loaded, quarantined)
                        out.append((source, u.code, code, due, True, received, fid, status, *rows))
        return out

    def fct_quarantine_summary(self) -> list[tuple[Any, ...]]:
        rules = (("date_after_period_end", "row"), ("amount_unparseable", "row"), ("components_exceed_total", "warn"))
        out = []
        for r in self.fct_submissions_cache:
            source, unit, period, *_rest = r
            quarantined = r[10]
            if quarantined:
                rule, severity = rules[len(unit + period) % 2]
                out.append((source, unit, period, rule, severity, quarantined))
                out.append((source, unit, period, "components_exceed_total", "warn", 1))
        return out

    def all_tables(self) -> dict[str, list[tuple[Any, ...]]]:
        tables = {
            "dim_indicators": self.dim_indicators(),
            "dim_reporting_units": self.dim_reporting_units(),
            "dim_reporting_periods": self.dim_reporting_periods(),
            "dim_offences": [
                (353, "Tham ô tài sản", "Embezzlement", "corruption"),
                (354, "Nhận hối lộ", "Taking bribes", "corruption"),
                (
                    219,
                    "Vi phạm quy định về quản lý, sử dụng tài sản Nhà nước",
                    "Mismanagement of state assets",
                    "other",
                ),
            ],
            "fct_indicator_values": self.fct_indicator_values(),
        }
        tables["fct_yearly_evaluation"] = self.fct_yearly_evaluation()
        tables["fct_phase_totals"] = self.fct_phase_totals()
        self.fct_submissions_cache = self.fct_return_submissions()
        tables["fct_return_submissions"] = self.fct_submissions_cache
        tables["fct_quarantine_summary"] = self.fct_quarantine_summary()
        return tables


def create_sample_marts(url: str, last_period: str = "2025-9M", *, with_channels: bool = True) -> None:
    """(Re)create schema `marts` in the database at `url` with the sample rows."""
    tables = SampleMarts(last_period, with_channels=with_channels).all_tables()
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("drop schema if exists marts cascade")
        conn.execute("create schema marts")
        for name, columns in MART_TABLES.items():
            cols = ", ".join(f"{c} {t}" for c, t in columns.items())
            conn.execute(f"create table marts.{name} ({cols})")
            with conn.cursor().copy(f"copy marts.{name} ({', '.join(columns)}) from stdin") as copy:
                for row in tables[name]:
                    copy.write_row(row)


@contextmanager
def scratch_database(prefix: str = "pctn_x") -> Iterator[str]:
    """A fresh database on the test server (conftest's rule), dropped afterwards."""
    from conftest import _fresh_database_url  # the session's rule for where test databases live

    url = _fresh_database_url(prefix)
    try:
        yield url
    finally:
        name = url.split("?")[0].rsplit("/", 1)[1]
        with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@contextmanager
def sample_marts_database(last_period: str = "2025-9M", *, with_channels: bool = True) -> Iterator[str]:
    """A scratch database holding the sample marts."""
    with scratch_database() as url:
        create_sample_marts(url, last_period, with_channels=with_channels)
        yield url


def interface_columns() -> dict[str, list[str]]:
    """The mart columns listed in docs/interfaces.md, section "Marts"."""
    text = (REPO / "docs" / "interfaces.md").read_text(encoding="utf-8")
    section = text.split("## Marts", 1)[1].split("\n## ", 1)[0]
    bullets = re.split(r"\n- ", "\n" + section)
    out: dict[str, list[str]] = {}
    for bullet in bullets:
        m = re.match(r"`(\w+)`(?:\s*\([^)]*\))?:\s*(.*)", bullet, re.S)
        if not m:
            continue
        name, body = m.group(1), m.group(2)
        outside = body
        while re.search(r"\([^()]*\)", outside):
            outside = re.sub(r"\([^()]*\)", "", outside)
        cols = re.findall(r"`(\w+)`", outside)
        if not cols:  # "the seed's columns (`period_code`, ...)"
            cols = re.findall(r"`(\w+)`", body)
        out[name] = cols
    return out


def test_sample_marts_have_the_interface_columns() -> None:
    documented = interface_columns()
    assert set(documented) == set(MART_TABLES)
    for name, columns in MART_TABLES.items():
        assert list(columns) == documented[name], name


def test_sample_marts_are_consistent() -> None:
    """Cumulative periods are sums of quarters; the province is the sum of agencies."""
    sample = SampleMarts()
    tables = sample.all_tables()
    values = {(r[0], r[1], r[3], r[4], r[5], r[6]): r[7] for r in tables["fct_indicator_values"]}
    key = ("DET_CASES_NEW", "{p}", "THANHHOA", "province", "restated", "corruption")
    q = [values[tuple(k.format(p=f"2024-Q{i}") for k in key)] for i in range(1, 5)]
    assert values[tuple(k.format(p="2024-Y") for k in key)] == sum(q)
    assert values[tuple(k.format(p="2024-6M") for k in key)] == q[0] + q[1]
    channels = sum(values[(f"DET_CASES_NEW_{c.upper()}", "2024-Y", "THANHHOA", "province", "restated", "corruption")]
                   for c in CHANNELS)  # fmt: skip
    assert channels == values[("DET_CASES_NEW", "2024-Y", "THANHHOA", "province", "restated", "corruption")]
    # units that closed on 30/06/2025 report no 2025-Q3; regions only from 2025-Q3
    units_q3 = {r[3] for r in tables["fct_indicator_values"] if r[1] == "2025-Q3" and r[4] == "unit"}
    assert not any("-HUYEN-" in u for u in units_q3) and any("-KV" in u for u in units_q3)
