"""Write the sample inbox of returns, and what the intake must do with each file.

    python -m ingestion_samples.generate --seed 168 --out samples/returns
    python -m ingestion_samples.generate --seed 168 --out /tmp/big --provinces 34 --years 2024 --no-bad

The returns tell one story (`story.py`) through every sending unit's habits
(`writers.py`): good returns for 2023-2025 in all formats, a correction (`_v2`)
that supersedes a first version, the same bytes sent again under `resend/`,
one rejected file per contract rejection reason, and bad or implausible rows
inside good files, one or more per contract row rule. Next to the inbox it
writes `expected.json`: per file its status (`loaded`, `rejected`, `duplicate`,
`superseded`), reject code, rows read, rows quarantined and flagged with every
issue, and the clear person names used, which the warehouse must never hold.

Same seed, same options -> byte-identical files. The generator checks its own
output before writing it: every CSV decodes back to its text with
`decode_bytes`, every legacy-font xlsx repairs back with `repair_many`, and
every row not marked bad passes the contract's row rules.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import random
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import xlsxwriter
from python_calamine import CalamineWorkbook

from ingestion.contract.sources import SOURCES, Source
from ingestion.intake.problems import Code
from ingestion.intake.readers.encodings import decode_bytes, nfc, repair_many
from ingestion.paths import REPO_ROOT
from ingestion_samples import national
from ingestion_samples.story import (
    FAMILY,
    GIVEN_F,
    GIVEN_M,
    MIDDLE_F,
    MIDDLE_M,
    OFFENCE_TITLES,
    Period,
    Record,
    Reference,
    Story,
    StoryConfig,
    build_story,
    load_reference,
)
from ingestion_samples.writers import (
    FIXED_TIMESTAMP,
    CellValue,
    Office,
    Raw,
    TitleLines,
    contract_columns,
    format_value,
    render_csv,
    render_xlsx,
)

REPO = REPO_ROOT
DEFAULT_SEED = 168

REJECT_CODES = (
    Code.UNKNOWN_SOURCE,
    Code.BAD_FILE_NAME,
    Code.BAD_PERIOD,
    Code.UNKNOWN_UNIT,
    Code.UNIT_NOT_VALID,
    Code.UNREADABLE,
    Code.BAD_ENCODING,
    Code.MISSING_COLUMNS,
    Code.NO_ROWS,
    Code.TITLE_MISMATCH,
)
ROW_RULES = (
    Code.REQUIRED,
    Code.BAD_DATE,
    Code.BAD_MONEY,
    Code.BAD_COUNT,
    Code.BAD_DECIMAL,
    Code.BAD_ARTICLE,
    Code.BAD_LABEL,
    Code.BAD_BOOL,
    Code.NEGATIVE,
    Code.AFTER_PERIOD_END,
    Code.DUPLICATE_KEY,
    Code.CONDITIONAL_REQUIRED,
)

# --------------------------------------------------------------------------
# Who sends what, and how.
# --------------------------------------------------------------------------
SENDERS: dict[str, tuple[str, ...]] = {
    "thanhtra": ("TT-TINH", "TT-SO-XAYDUNG", "TT-SO-TAICHINH", "TT-HUYEN-HOANGHOA", "TT-HUYEN-SAMSON"),
    "dieutra": ("CA-TINH", "CA-HUYEN-HOANGHOA", "CA-HUYEN-TPTHANHHOA", "QD-TINH"),
    "truyto": ("VKS-TINH", "VKS-HUYEN-HOANGHOA", "VKS-HUYEN-TPTHANHHOA", "VKS-KV6", "VKS-KV1"),
    "xetxu": ("TA-TINH", "TA-HUYEN-HOANGHOA", "TA-HUYEN-TPTHANHHOA", "TA-KV6", "TA-KV1"),
    "thads": ("THADS-TINH", "THADS-HUYEN-HOANGHOA", "THADS-HUYEN-TPTHANHHOA", "THADS-KV6", "THADS-KV1"),
}
FREQUENT_SENDERS = ("TT-TINH", "CA-TINH")  # also quarterly and 6M/9M returns
PERIOD_KINDS_FREQUENT = ("Q1", "Q2", "6M", "Q3", "9M", "Q4", "Y")

OFFICES: dict[str, Office] = {
    "TT-TINH": Office("xlsx"),
    "TT-SO-XAYDUNG": Office("csv", encoding="cp1252", legacy="tcvn3", money="dots", dates="dmy", decimals="comma"),
    "TT-SO-TAICHINH": Office(
        "xlsx", money="dots", dates="dmy", column_numbers=False, omit=("violation_land_m2", "transfer_ref")
    ),
    "TT-HUYEN-HOANGHOA": Office("csv", encoding="cp1252", legacy="vni", money="spaces", dates="d/m", decimals="comma"),
    "TT-HUYEN-SAMSON": Office(
        "csv", encoding="cp1258", money="dots", dates="dmy", decimals="comma", omit=("heads_disciplined",)
    ),
    "TT-SO-YTE": Office("xlsx", money="dots", dates="excel"),
    "CA-TINH": Office("xlsx", money="mixed", dates="mixed"),
    "CA-HUYEN-HOANGHOA": Office(
        "csv", encoding="utf-8-sig", labels="plain", money="dots", dates="dmy", articles="dieu"
    ),
    "CA-HUYEN-TPTHANHHOA": Office(
        "csv", headers="en", money="plain", dates="iso", articles="number", decimals="dot", line_end="\n"
    ),
    "QD-TINH": Office("xlsx", nfd=True, articles="dieu"),
    "VKS-TINH": Office("csv", headers="en", money="plain", dates="iso", articles="number", line_end="\n"),
    "VKS-HUYEN-HOANGHOA": Office("xlsx", dates="dmy", column_numbers=False),
    "VKS-HUYEN-TPTHANHHOA": Office("csv", encoding="cp1258", dates="dmy"),
    "VKS-KV6": Office("csv", encoding="utf-8-sig", dates="d/m"),
    "VKS-KV1": Office("xlsx", layout="plain", articles="number"),
    "TA-TINH": Office("xlsx", layout="merged", money="spaces"),
    "TA-HUYEN-HOANGHOA": Office("csv", encoding="cp1252", legacy="vni", money="dots", dates="dmy", articles="dieu"),
    "TA-HUYEN-TPTHANHHOA": Office("xlsx", legacy="tcvn3", money="words"),
    "TA-KV6": Office("csv", money="dots", dates="dmy"),
    "TA-KV1": Office("xlsx", column_numbers=False),
    "THADS-TINH": Office("xlsx"),
    "THADS-HUYEN-HOANGHOA": Office("csv", nfd=True, bools="one_zero", money="dots", dates="dmy"),
    "THADS-HUYEN-TPTHANHHOA": Office("csv", encoding="cp1252", legacy="tcvn3", money="words", dates="dmy"),
    "THADS-KV6": Office("xlsx", money="spaces", dates="dmy"),
    "THADS-KV1": Office("csv", headers="en", money="plain", dates="iso", bools="one_zero", line_end="\n"),
}
FORMS = {
    "thanhtra": ("Biểu số 01/PCTN", "BÁO CÁO KẾT QUẢ THANH TRA, KIỂM TRA VÀ PHÁT HIỆN THAM NHŨNG"),
    "dieutra": ("Biểu số 02/PCTN", "BÁO CÁO KẾT QUẢ ĐIỀU TRA CÁC VỤ ÁN THAM NHŨNG, CHỨC VỤ"),
    "truyto": ("Biểu số 03/PCTN", "BÁO CÁO KẾT QUẢ TRUY TỐ CÁC VỤ ÁN THAM NHŨNG, CHỨC VỤ"),
    "xetxu": ("Biểu số 04/PCTN", "BÁO CÁO KẾT QUẢ XÉT XỬ CÁC VỤ ÁN THAM NHŨNG, CHỨC VỤ"),
    "thads": ("Biểu số 05/PCTN", "BÁO CÁO KẾT QUẢ THI HÀNH ÁN DÂN SỰ CÁC VỤ ÁN THAM NHŨNG"),
}


# --------------------------------------------------------------------------
# What the intake must do with each file.
# --------------------------------------------------------------------------
@dataclass
class Issue:
    """One expected problem in a row: `severity` row = quarantined, warn = loaded and flagged."""

    index: int  # 0-based data row
    column: str
    value: str
    rule: Code
    severity: str = "row"


@dataclass
class Expected:
    """The expected outcome of one file of the inbox."""

    path: str
    source: str | None
    unit_code: str | None
    period_code: str | None
    version: int | None
    fmt: str
    encoding: str | None
    legacy: str | None
    status: str
    reject_code: Code | None = None
    reason: str | None = None
    rows_read: int = 0
    rows_skipped: int = 0
    issues: list[Issue] = field(default_factory=list)
    first_data_line: int = 0
    duplicate_of: str | None = None
    supersedes: str | None = None
    data: bytes = b""
    written: tuple[str, int] | None = None  # (sha256, bytes) once written and let go (national --no-bad)

    def as_json(self) -> dict[str, object]:
        quarantined = {i.index for i in self.issues if i.severity == "row"}
        flagged = {i.index for i in self.issues if i.severity == "warn"} - quarantined
        return {
            "path": self.path,
            "source": self.source,
            "unit_code": self.unit_code,
            "period_code": self.period_code,
            "version": self.version,
            "format": self.fmt,
            "encoding": self.encoding,
            "legacy_encoding": self.legacy,
            "status": self.status,
            "reject_code": self.reject_code,
            "reason": self.reason,
            "rows_read": self.rows_read,
            "rows_skipped": self.rows_skipped,
            "rows_quarantined": len(quarantined),
            "rows_flagged": len(flagged),
            "rows_loaded": self.rows_read - self.rows_skipped - len(quarantined)
            if self.status in ("loaded", "superseded")
            else 0,
            "issues": [
                {
                    "data_row": i.index + 1,
                    "line": self.first_data_line + i.index,
                    "column": i.column,
                    "value": i.value,
                    "rule": i.rule,
                    "severity": i.severity,
                }
                for i in sorted(self.issues, key=lambda i: (i.index, i.column, i.rule))
            ],
            "duplicate_of": self.duplicate_of,
            "supersedes": self.supersedes,
            "sha256": self.written[0] if self.written else hashlib.sha256(self.data).hexdigest(),
            "bytes": self.written[1] if self.written else len(self.data),
        }


# --------------------------------------------------------------------------
# Returns.
# --------------------------------------------------------------------------
Row = dict[str, object]


@dataclass
class ReturnContent:
    """The rows of one return before formatting, with its expected issues."""

    source: Source
    unit: str
    period: Period
    rows: list[Row]
    opened: list[date]
    issues: list[Issue] = field(default_factory=list)


def return_rows(story: Story, ref: Reference, source: str, unit: str, period: Period) -> ReturnContent:
    """Every record the unit handled in the period, as it stood at the period's end."""
    recs: list[Record] = [r for r in story.records.get(source, []) if r.handled_by(ref, unit, period)]
    rows: list[Row] = [dict(r.row(period.end)) for r in recs]
    return ReturnContent(SOURCES[source], unit, period, rows, [r.opened for r in recs])


def file_name(source: str, unit: str, period: str, ext: str, version: int = 1) -> str:
    return f"{source}_{unit}_{period}{f'_v{version}' if version > 1 else ''}.{ext}"


def _title_lines(ref: Reference, source: str, unit: str, period: Period, *, unit_code: str | None = None) -> TitleLines:
    code = unit_code or unit
    name = ref.units[code].name_vi if code in ref.units else ref.units[unit].name_vi
    form_no, title = FORMS[source]
    made = period.due_date - timedelta(days=2)
    return TitleLines(
        unit_line=f"Đơn vị báo cáo: {code} - {name}",
        period_line=f"Kỳ báo cáo: {period.code}",
        form_no=form_no,
        title=title,
        place_date=f"{ref.place(unit)}, ngày {made.day:02d} tháng {made.month:02d} năm {made.year}",
    )


def _cell_text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


@dataclass(frozen=True)
class Rendered:
    """One written return: its bytes, where its data starts, its cells and the person names in it."""

    data: bytes
    first_data_line: int
    cells: list[list[CellValue]]
    names: frozenset[str]
    skipped_rows: int = 0


def render_return(
    ref: Reference,
    content: ReturnContent,
    office: Office,
    *,
    titles: TitleLines | None = None,
    drop: Sequence[str] = (),
    name: str = "",
) -> Rendered:
    """Format and write one return as this office would."""
    source = content.source
    columns = [c for c in contract_columns(source, office) if c.name not in drop]
    names: set[str] = set()
    for c in (c for c in columns if c.type == "personal"):
        for row in content.rows:
            value = row.get(c.name)
            if isinstance(value, list):
                names.update(value)
    cells: list[list[CellValue]] = []
    for row in content.rows:
        key = "|".join(str(row.get(k)) for k in source.key) + "|" + name
        cells.append([format_value(c, row.get(c.name), office, f"{key}|{c.name}") for c in columns])
    if office.fmt == "csv":
        data, layout = render_csv(columns, cells, office)
    else:
        if titles is None and office.layout != "plain":
            titles = _title_lines(ref, source.code, content.unit, content.period)
        notes = ["Chuyển kỳ trước" if o < content.period.start else None for o in content.opened]
        data, layout = render_xlsx(columns, cells, office, titles, notes=notes)
    return Rendered(data, layout.first_data_line, cells, frozenset(names), layout.skipped_rows)


# --------------------------------------------------------------------------
# Bad and implausible rows inside good files.
# --------------------------------------------------------------------------
class _Rows:
    """Picks rows for injected problems, never the same row twice, in a fixed order."""

    def __init__(self, content: ReturnContent) -> None:
        self.content = content
        self.used: set[int] = set()

    def pick(self, test: Callable[[Row], bool] = lambda r: True) -> int | None:
        for i, row in enumerate(self.content.rows):
            if i not in self.used and test(row):
                self.used.add(i)
                return i
        return None

    def set(self, test: Callable[[Row], bool], column: str, value: object, rule: Code, severity: str = "row") -> None:
        i = self.pick(test)
        if i is None:
            return
        self.content.rows[i][column] = value
        self.content.issues.append(Issue(i, column, "", rule, severity))


def _concluded(r: Row) -> bool:
    return r.get("status") == "Đã kết luận"


def _inject(content: ReturnContent, bad_year: int, version: int) -> None:  # noqa: C901  -- flat: one branch a return
    """Put the contract's row rules to work in a few returns of `bad_year` (deterministic choices)."""
    src, unit, period = content.source.code, content.unit, content.period
    if period.code != f"{bad_year}-Y":
        return
    rows = _Rows(content)
    if (src, unit) == ("thanhtra", "TT-TINH"):
        rows.set(lambda r: not _concluded(r), "title", None, Code.REQUIRED)
        rows.set(_concluded, "conclusion_no", None, Code.CONDITIONAL_REQUIRED)
        rows.set(_concluded, "kind", Raw("Thanh tra lại"), Code.BAD_LABEL)
        rows.set(lambda r: not _concluded(r), "start_date", period.end + timedelta(days=4), Code.AFTER_PERIOD_END)
        i = rows.pick(lambda r: _concluded(r) and bool(r.get("recommended_recovery_vnd")))
        if i is not None:
            row = content.rows[i]
            row["recovered_vnd"] = int(row["recommended_recovery_vnd"]) + 50_000_000  # type: ignore[call-overload]
            content.issues.append(Issue(i, "recovered_vnd", "", Code.RECOVERED_ABOVE_RECOMMENDED, "warn"))
        i = rows.pick(lambda r: _concluded(r) and r.get("corruption_cases") == 0)
        if i is not None:
            content.rows[i] |= {"transferred_cases": 1, "transferred_persons": 1}
            content.issues.append(Issue(i, "transferred_cases", "", Code.TRANSFERRED_ABOVE_DETECTED, "warn"))
    elif (src, unit) == ("dieutra", "CA-TINH"):
        rows.set(lambda r: True, "initiation_date", Raw(f"31/02/{bad_year}"), Code.BAD_DATE)
        rows.set(lambda r: True, "damage_vnd", Raw("chưa xác định"), Code.BAD_MONEY)
        rows.set(lambda r: True, "article", Raw("BLHS"), Code.BAD_ARTICLE)
        rows.set(lambda r: True, "accused_count", -1, Code.NEGATIVE)
        i = rows.pick(lambda r: r.get("status") == "Đang điều tra")
        if i is not None:
            content.rows.append(dict(content.rows[i]))
            content.opened.append(content.opened[i])
            j = len(content.rows) - 1
            rows.used.add(j)
            for k in (i, j):
                content.issues.append(Issue(k, "case_id", "", Code.DUPLICATE_KEY))
        i = rows.pick(lambda r: bool(r.get("damage_vnd")))
        if i is not None:
            row = content.rows[i]
            row["secured_vnd"] = int(row["damage_vnd"]) + 120_000_000  # type: ignore[call-overload]
            content.issues.append(Issue(i, "secured_vnd", "", Code.SECURED_ABOVE_DAMAGE, "warn"))
    elif (src, unit) == ("truyto", "VKS-TINH"):
        indicted = lambda r: r.get("status") == "Đã truy tố"  # noqa: E731
        rows.set(indicted, "indictment_date", None, Code.CONDITIONAL_REQUIRED)
        rows.set(indicted, "indicted_count", Raw("hai"), Code.BAD_COUNT)
        i = rows.pick(indicted)
        if i is not None:
            content.rows[i]["indicted_count"] = int(content.rows[i]["accused_count"]) + 1  # type: ignore[call-overload]
            content.issues.append(Issue(i, "indicted_count", "", Code.INDICTED_ABOVE_ACCUSED, "warn"))
    elif (src, unit) == ("xetxu", "TA-TINH"):
        tried = lambda r: r.get("status") == "Đã xét xử"  # noqa: E731
        rows.set(lambda r: True, "trial_level", Raw("Giám đốc thẩm"), Code.BAD_LABEL)
        rows.set(tried, "trial_date", None, Code.CONDITIONAL_REQUIRED)
        i = rows.pick(tried)
        if i is not None:
            content.rows[i]["convicted_count"] = int(content.rows[i]["defendants_count"]) + 1  # type: ignore[call-overload]
            content.issues.append(Issue(i, "convicted_count", "", Code.CONVICTED_ABOVE_DEFENDANTS, "warn"))
    elif (src, unit) == ("thads", "THADS-TINH"):
        rows.set(lambda r: True, "collected_vnd", -15_000_000, Code.NEGATIVE)
        rows.set(lambda r: True, "enforceable", Raw("Chưa rõ"), Code.BAD_BOOL)
        rows.set(lambda r: True, "judgment_no", None, Code.REQUIRED)
        i = rows.pick(lambda r: int(r.get("due_vnd") or 0) > 0)  # type: ignore[call-overload]
        if i is not None:
            row = content.rows[i]
            row["collected_vnd"] = int(row["due_vnd"]) + 25_000_000  # type: ignore[call-overload]
            content.issues.append(Issue(i, "collected_vnd", "", Code.COLLECTED_ABOVE_DUE, "warn"))
    elif (src, unit) == ("thanhtra", "TT-SO-XAYDUNG"):
        rows.set(lambda r: True, "violation_land_m2", Raw("khoảng 300"), Code.BAD_DECIMAL)
    elif (src, unit) == ("dieutra", "CA-HUYEN-HOANGHOA"):
        rows.set(lambda r: True, "detection_channel", Raw("nguoi dan phan anh"), Code.BAD_LABEL)
        rows.set(lambda r: True, "case_title", None, Code.REQUIRED)
    elif (src, unit) == ("thanhtra", "TT-SO-TAICHINH") and version == 1:
        # The first version of this return; `_v2` corrects exactly these rows.
        rows.set(lambda r: True, "start_date", Raw(f"15/13/{bad_year}"), Code.BAD_DATE)
        rows.set(
            lambda r: bool(r.get("recommended_recovery_vnd")),
            "recommended_recovery_vnd",
            Raw("1.2OO.000"),
            Code.BAD_MONEY,
        )


# --------------------------------------------------------------------------
# Self-checks: the sample must say what it means.
# --------------------------------------------------------------------------
def _check_rows(content: ReturnContent) -> None:
    """Rows not marked bad obey every row rule; implausible ones are exactly the marked ones."""
    source, period = content.source, content.period
    bad = {i.index for i in content.issues if i.severity == "row"}
    warned = {(i.index, i.rule) for i in content.issues if i.severity == "warn"}
    seen: dict[tuple[object, ...], int] = {}
    for idx, row in enumerate(content.rows):
        key = tuple(row.get(k) for k in source.key)
        if key in seen and idx not in bad:
            raise AssertionError(f"{source.code} {content.unit} {period.code}: duplicate key {key}")
        seen[key] = idx
        if idx in bad:
            continue
        where = f"{source.code} {content.unit} {period.code} row {idx + 1}"
        for col in source.columns:
            v = row.get(col.name)
            if col.required and (v is None or v == "" or v == []):
                raise AssertionError(f"{where}: {col.name} required")
            if col.type in ("count", "money") and isinstance(v, int) and v < 0:
                raise AssertionError(f"{where}: {col.name} negative")
            if col.type == "enum" and v is not None and v not in col.labels:
                raise AssertionError(f"{where}: {col.name} label {v!r}")
            if isinstance(v, Raw):
                raise AssertionError(f"{where}: {col.name} raw text in a good row")
        for cr in source.conditional_required:
            if _label_code(source, cr.when_column, row) == cr.when_code and row.get(cr.column) in (None, ""):
                raise AssertionError(f"{where}: {cr.column} required when {cr.when_column}={cr.when_code}")
        for name in source.date_columns_not_after_period_end:
            d = row.get(name)
            if isinstance(d, date) and d > period.end:
                raise AssertionError(f"{where}: {name} {d} after {period.end}")
        for rule in source.plausibility:
            a, b = (row.get(c) for c in rule.columns)
            fires = isinstance(a, int) and isinstance(b, int) and a > b
            if fires != ((idx, rule.code) in warned):
                raise AssertionError(f"{where}: plausibility {rule.code} fires={fires}")


def _label_code(source: Source, column: str, row: Row) -> str | None:
    label = row.get(column)
    return source.column(column).labels.get(str(label)) if label is not None else None


# --------------------------------------------------------------------------
# The plan.
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    seed: int = DEFAULT_SEED
    first_year: int = 2023
    last_year: int = 2025
    provinces: int = 1
    bad: bool = True
    inspections_per_year: int = 80
    cases_per_year: int = 30
    # national mode (provinces > 1, `national.py`): volumes per unit, and the share of active districts
    inspections_per_unit: int = 12
    cases_per_unit: float = 1.5
    active_units: float = 1.0

    @property
    def bad_year(self) -> int:
        return 2024 if self.first_year <= 2024 <= self.last_year else self.first_year


def sending_periods(ref: Reference, unit: str, first_year: int, last_year: int) -> list[Period]:
    """The periods a unit sends returns for: Y, plus quarters and 6M/9M for a couple of units.

    A period is validated on its end date: a district unit ending on 30/06/2025
    sends its last return for 2025-6M; a regional (KV) unit starting on
    01/07/2025 sends 2025-9M and 2025-Y.
    """
    u = ref.units[unit]
    out: list[Period] = []
    for year in range(first_year, last_year + 1):
        year_end = ref.period(year, "Y")
        if unit in FREQUENT_SENDERS:
            kinds: tuple[str, ...] = PERIOD_KINDS_FREQUENT
        elif u.valid_on(year_end.end):
            kinds = ("9M", "Y") if u.valid_from > year_end.start else ("Y",)
        else:
            kinds = ("6M",)
        out.extend(p for k in kinds if u.valid_on((p := ref.period(year, k)).end))
    return out


class Inbox:
    """Builds the files of the inbox and their expectations."""

    def __init__(self, ref: Reference, story: Story, options: Options) -> None:
        self.ref = ref
        self.story = story
        self.options = options
        self.files: dict[str, Expected] = {}
        self.names: set[str] = set()  # clear person names written into any file

    def render(self, content: ReturnContent, office: Office, **kwargs: object) -> Rendered:
        rendered = render_return(self.ref, content, office, **kwargs)  # type: ignore[arg-type]
        self.names |= rendered.names
        return rendered

    def add(self, exp: Expected) -> None:
        if exp.path in self.files:
            raise AssertionError(f"two files named {exp.path}")
        self.files[exp.path] = exp

    def office(self, unit: str) -> Office:
        """How a unit writes its returns."""
        return OFFICES[unit]

    def content(self, source: str, unit: str, period: Period) -> ReturnContent:
        """The rows of a unit's return for a period."""
        return return_rows(self.story, self.ref, source, unit, period)

    def good_return(self, source: str, unit: str, period: Period, version: int = 1) -> Expected | None:
        office = self.office(unit)
        content = self.content(source, unit, period)
        if not content.rows:
            return None
        if self.options.bad:
            _inject(content, self.options.bad_year, version)
        _check_rows(content)
        path = file_name(source, unit, period.code, office.ext, version)
        rendered = self.render(content, office, name=path)
        data, first_line = rendered.data, rendered.first_data_line
        columns = [c.name for c in contract_columns(content.source, office)]
        for issue in content.issues:  # the value as the intake will see it (after repair and NFC)
            issue.value = _cell_text(rendered.cells[issue.index][columns.index(issue.column)])
        self._check(data, office, content, path)
        return Expected(
            path=path,
            source=source,
            unit_code=unit,
            period_code=period.code,
            version=version,
            fmt=office.fmt,
            encoding=office.encoding if office.fmt == "csv" else None,
            legacy=office.legacy,
            status="loaded",
            rows_read=len(content.rows) + rendered.skipped_rows,
            rows_skipped=rendered.skipped_rows,
            issues=content.issues,
            first_data_line=first_line,
            data=data,
        )

    def _check(self, data: bytes, office: Office, content: ReturnContent, path: str) -> None:
        if office.fmt == "csv" and office.encoding != "utf-16":
            decoded = decode_bytes(data)
            if office.encoding == "cp1252":
                raw = data.decode("cp1252")
            elif office.encoding == "cp1258":
                raw = data.decode("cp1258")
            else:
                raw = data.decode("utf-8-sig")
            if office.legacy:
                # The office meant the text before its font scrambled it: rebuild that text to compare.
                plain = replace(office, legacy=None, encoding="utf-8")
                raw = render_return(self.ref, content, plain, name=path).data.decode("utf-8")
            if decoded.text != nfc(raw):
                raise AssertionError(f"{path}: decode_bytes does not give back the office's text")
            if decoded.repaired != office.legacy:
                raise AssertionError(f"{path}: legacy scheme {decoded.repaired}, expected {office.legacy}")
        elif office.fmt == "xlsx" and office.legacy:
            plain = replace(office, legacy=None)
            again = render_return(self.ref, content, plain, name=path).data
            repaired, scheme = repair_many(_xlsx_strings(data))
            if scheme != office.legacy or repaired != [nfc(s) for s in _xlsx_strings(again)]:
                raise AssertionError(f"{path}: legacy xlsx cells do not repair back")

    def build(self) -> None:
        opts = self.options
        for source, units in SENDERS.items():
            for unit in units:
                for period in sending_periods(self.ref, unit, opts.first_year, opts.last_year):
                    exp = self.good_return(source, unit, period)
                    if exp is not None:
                        self.add(exp)
        if opts.bad:
            self._correction()
            self._resend()
            self._rejects()

    # -- a correction, a resend ----------------------------------------------
    def _correction(self) -> None:
        by = self.options.bad_year
        period = self.ref.period(by, "Y")
        first = self.files[file_name("thanhtra", "TT-SO-TAICHINH", period.code, "xlsx")]
        first.status = "superseded"
        second = self.good_return("thanhtra", "TT-SO-TAICHINH", period, version=2)
        assert second is not None
        second.supersedes = first.path
        self.add(second)

    def _resend(self, kind: str = "Q3") -> None:
        period = self.ref.period(self.options.bad_year, kind)
        original = self.files[file_name("dieutra", "CA-TINH", period.code, "xlsx")]
        self.add(
            replace(
                original,
                path=f"resend/{original.path}",
                status="duplicate",
                duplicate_of=original.path,
                rows_read=0,  # nothing is read or loaded again
                rows_skipped=0,
                issues=[],
            )
        )

    # -- one rejected file per reason ------------------------------------------
    def _reject(self, path: str, data: bytes, code: Code, reason: str, fmt: str, **ids: object) -> None:
        self.add(
            Expected(
                path=path,
                source=ids.get("source"),  # type: ignore[arg-type]
                unit_code=ids.get("unit"),  # type: ignore[arg-type]
                period_code=ids.get("period"),  # type: ignore[arg-type]
                version=1,
                fmt=fmt,
                encoding=ids.get("encoding"),  # type: ignore[arg-type]
                legacy=None,
                status="rejected",
                reject_code=code,
                reason=reason,
                data=data,
            )
        )

    def _xlsx_return(
        self, source: str, unit: str, period: Period, *, title_unit: str | None = None, title_period: str | None = None
    ) -> tuple[bytes, ReturnContent]:
        content = return_rows(self.story, self.ref, source, unit, period)
        titles = _title_lines(self.ref, source, unit, period, unit_code=title_unit)
        if title_period:
            titles = replace(titles, period_line=f"Kỳ báo cáo: {title_period}")
        office = replace(
            OFFICES.get(unit, Office("xlsx")), fmt="xlsx", encoding="utf-8", legacy=None, layout="official"
        )
        return self.render(content, office, titles=titles, name=f"{unit}|{period.code}").data, content

    def _rejects(self) -> None:
        ref, by = self.ref, self.options.bad_year
        y, q4, six, nine = (ref.period(by, k) for k in ("Y", "Q4", "6M", "9M"))

        data, _ = self._xlsx_return("thanhtra", "TT-TINH", y)
        self._reject(
            f"kiemtoan_TT-TINH_{y.code}.xlsx", data, Code.UNKNOWN_SOURCE,
            "'kiemtoan' (state audit) is not one of the five sources", "xlsx", unit="TT-TINH", period=y.code,
        )  # fmt: skip
        data, _ = self._xlsx_return("thanhtra", "TT-TINH", six)
        self._reject(
            f"Bao cao PCTN 6 thang {by} - Thanh tra tinh.xlsx", data, Code.BAD_FILE_NAME,
            "the name is not <source>_<unit>_<period>[_v<N>].<ext>", "xlsx",
        )  # fmt: skip
        data, _ = self._xlsx_return("dieutra", "CA-TINH", q4, title_period=f"{by}-Q5")
        self._reject(
            f"dieutra_CA-TINH_{by}-Q5.xlsx", data, Code.BAD_PERIOD, f"there is no period {by}-Q5", "xlsx",
            source="dieutra", unit="CA-TINH",
        )  # fmt: skip
        data, _ = self._xlsx_return("truyto", "VKS-HUYEN-HOANGHOA", y, title_unit="VKS-HUYEN-HOANG-HOA")
        self._reject(
            f"truyto_VKS-HUYEN-HOANG-HOA_{y.code}.xlsx", data, Code.UNKNOWN_UNIT,
            "VKS-HUYEN-HOANG-HOA is not in the reference list (VKS-HUYEN-HOANGHOA is)", "xlsx",
            source="truyto", period=y.code,
        )  # fmt: skip
        if self.options.last_year >= 2025:
            late = ref.period(2025, "Y")
            data, _ = self._xlsx_return("xetxu", "TA-KV6", late, title_unit="TA-HUYEN-HOANGHOA")
            self._reject(
                "xetxu_TA-HUYEN-HOANGHOA_2025-Y.xlsx", data, Code.UNIT_NOT_VALID,
                "TA-HUYEN-HOANGHOA ended on 30/06/2025; 2025-Y ends on 14/12/2025 (TA-KV6 reports it)", "xlsx",
                source="xetxu", unit="TA-HUYEN-HOANGHOA", period="2025-Y",
            )  # fmt: skip
        else:
            data, _ = self._xlsx_return("xetxu", "TA-HUYEN-HOANGHOA", y, title_unit="TA-KV6")
            self._reject(
                f"xetxu_TA-KV6_{y.code}.xlsx", data, Code.UNIT_NOT_VALID,
                f"TA-KV6 exists from 01/07/2025, not in {y.code}", "xlsx",
                source="xetxu", unit="TA-KV6", period=y.code,
            )  # fmt: skip
        content = return_rows(self.story, ref, "thads", "THADS-HUYEN-HOANGHOA", nine)
        office = OFFICES["THADS-HUYEN-HOANGHOA"]
        data = self.render(content, office, drop=("due_vnd",), name="missing").data
        self._reject(
            f"thads_THADS-HUYEN-HOANGHOA_{nine.code}.csv", data, Code.MISSING_COLUMNS,
            "required column 'Số tiền phải thi hành (đồng)' (due_vnd) is missing", "csv",
            source="thads", unit="THADS-HUYEN-HOANGHOA", period=nine.code, encoding=office.encoding,
        )  # fmt: skip
        empty = ReturnContent(SOURCES["truyto"], "VKS-HUYEN-TPTHANHHOA", six, [], [])
        titles = _title_lines(ref, "truyto", "VKS-HUYEN-TPTHANHHOA", six)
        data = self.render(empty, Office("xlsx"), titles=titles, name="empty").data
        self._reject(
            f"truyto_VKS-HUYEN-TPTHANHHOA_{six.code}.xlsx", data, Code.NO_ROWS,
            "the form has a header and a totals row but no data rows", "xlsx",
            source="truyto", unit="VKS-HUYEN-TPTHANHHOA", period=six.code,
        )  # fmt: skip
        data, _ = self._xlsx_return("thanhtra", "TT-SO-YTE", y, title_period=f"{by - 1}-Y")
        self._reject(
            f"thanhtra_TT-SO-YTE_{y.code}.xlsx", data, Code.TITLE_MISMATCH,
            f"the file name says {y.code}, the title line 'Kỳ báo cáo' says {by - 1}-Y (last year's form)", "xlsx",
            source="thanhtra", unit="TT-SO-YTE", period=y.code,
        )  # fmt: skip
        data, _ = self._xlsx_return("xetxu", "TA-HUYEN-HOANGHOA", y, title_unit="TA-HUYEN-QUANGXUONG")
        self._reject(
            f"xetxu_TA-HUYEN-SAMSON_{y.code}.xlsx", data, Code.TITLE_MISMATCH,
            "the file name says TA-HUYEN-SAMSON, the title line 'Đơn vị báo cáo' says TA-HUYEN-QUANGXUONG", "xlsx",
            source="xetxu", unit="TA-HUYEN-SAMSON", period=y.code,
        )  # fmt: skip
        data, _ = self._xlsx_return("thads", "THADS-TINH", six)
        self._reject(
            f"thads_THADS-TINH_{six.code}.xlsx", data[: len(data) * 55 // 100], Code.UNREADABLE,
            "the xlsx is cut short (an interrupted upload): not a readable zip/xlsx", "xlsx",
            source="thads", unit="THADS-TINH", period=six.code,
        )  # fmt: skip
        content = return_rows(self.story, ref, "thanhtra", "TT-HUYEN-SAMSON", y)
        for row in content.rows:
            row["inspection_id"] = str(row["inspection_id"]).replace("TTSS", "TTNS")
        unicode_text = Office("csv", encoding="utf-16", delimiter="\t", money="dots", dates="dmy", decimals="comma")
        data = self.render(content, unicode_text, name="utf16").data
        self._reject(
            f"thanhtra_TT-HUYEN-NGASON_{y.code}.csv", data, Code.BAD_ENCODING,
            "saved as Excel 'Unicode Text' (UTF-16, tab-separated) under a .csv name", "csv",
            source="thanhtra", unit="TT-HUYEN-NGASON", period=y.code, encoding="utf-16",
        )  # fmt: skip


def _xlsx_strings(data: bytes) -> list[str]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return [c for row in book.get_sheet_by_index(0).to_python() for c in row if isinstance(c, str) and c]


class NationalInbox(Inbox):
    """Every unit of every province asked, every expected period (`national.py`).

    The bundled sample's deliberate problems (when `bad`) stay on Thanh Hóa's units: bad
    rows in its 2024-Y returns, the correction, a resend, one rejected file per reason (a
    rejected file takes the place of the good return of the same name).
    """

    def __init__(self, ref: Reference, story: Story, options: Options, index: national.RecordIndex) -> None:
        super().__init__(ref, story, options)
        self.index = index
        palettes: dict[str, list[Office]] = {}
        for code in sorted(OFFICES):
            palettes.setdefault(code.split("-")[0], []).append(OFFICES[code])
        self.palettes = palettes
        self._offices: dict[str, Office] = {}

    def office(self, unit: str) -> Office:
        """Thanh Hóa's known offices keep their habits; every other unit draws one of its agency's."""
        if unit in OFFICES:
            return OFFICES[unit]
        if unit not in self._offices:
            palette = self.palettes[self.ref.units[unit].agency]
            self._offices[unit] = random.Random(f"pctn-office:{self.options.seed}:{unit}").choice(palette)
        return self._offices[unit]

    def content(self, source: str, unit: str, period: Period) -> ReturnContent:
        recs = self.index.records(source, unit, period)
        rows: list[Row] = [dict(r.row(period.end)) for r in recs]
        return ReturnContent(SOURCES[source], unit, period, rows, [r.opened for r in recs])

    def add(self, exp: Expected) -> None:
        if exp.status == "rejected" and exp.path in self.files:
            del self.files[exp.path]  # the unit sent a broken file instead of its good return
        super().add(exp)
        if self.out is not None:  # a clean inbox: write now and keep only the digest (memory stays flat)
            _write(self.out, exp)

    out: Path | None = None

    def build(self) -> None:
        opts = self.options
        sources = {a.agency_code: a.source for a in _agencies()}
        for unit in sorted(self.ref.units, key=lambda c: (self.ref.units[c].province != national.HOME_PROVINCE, c)):
            if self.ref.units[unit].province not in self.provinces:
                continue
            source = sources[self.ref.units[unit].agency]
            for period in national.expected_periods(self.ref, unit, opts.first_year, opts.last_year):
                exp = self.good_return(source, unit, period)
                if exp is not None:
                    self.add(exp)
        if opts.bad:
            by_year = f"{opts.bad_year}-Y"
            if file_name("thanhtra", "TT-SO-TAICHINH", by_year, "xlsx") in self.files:
                self._correction()
            if file_name("dieutra", "CA-TINH", f"{opts.bad_year}-9M", "xlsx") in self.files:
                self._resend("9M")
            self._rejects()

    provinces: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Agency:
    agency_code: str
    source: str


def _agencies() -> list[_Agency]:
    with (national.SEEDS_DIR / "agencies.csv").open(encoding="utf-8") as fh:
        return [_Agency(r["agency_code"], r["source"]) for r in csv.DictReader(fh)]


def _clean(out: Path) -> None:
    """Remove the returns a previous run left in `out` (only .xlsx and .csv files)."""
    if out.exists():
        for old in sorted(out.rglob("*")):
            if old.is_file() and old.suffix in (".xlsx", ".csv"):
                old.unlink()
        resend = out / "resend"
        if resend.is_dir() and not any(resend.iterdir()):
            shutil.rmtree(resend)


def _write(out: Path, exp: Expected) -> None:
    if exp.written is None:
        target = out / exp.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(exp.data)
        exp.written = (hashlib.sha256(exp.data).hexdigest(), len(exp.data))
        exp.data = b""


def _national_inbox(options: Options, reference: Path, out: Path) -> tuple[Reference, Story, Inbox]:
    """Write the reference directory, simulate each province and build the national inbox."""
    provinces = national.read_provinces()[: options.provinces]
    national.write_reference(reference, provinces, options.first_year)
    ref = national.national_reference(reference)
    layouts = tuple(
        national.layout_for(
            ref, province, options.seed, options.inspections_per_unit, options.cases_per_unit, options.active_units
        )
        for province in provinces
    )
    config = StoryConfig(first_year=options.first_year, last_year=options.last_year)
    story = build_story(ref, options.seed, config, layouts)  # one numbering: judgment numbers unique nationally
    index = national.RecordIndex(ref, story, ref.period(options.last_year, "Y").end)
    inbox = NationalInbox(ref, story, options, index)
    inbox.provinces = frozenset(p.code for p in provinces)
    if not options.bad:  # nothing refers back to a written file: stream the files out
        _clean(out)
        inbox.out = out
    inbox.build()
    return ref, story, inbox


# --------------------------------------------------------------------------
# Writing the inbox.
# --------------------------------------------------------------------------
def generate(
    out: Path, options: Options, expected_path: Path | None = None, reference_path: Path | None = None
) -> dict[str, object]:
    """Write every file of the inbox under `out` and the expectations to `expected_path`.

    With `options.provinces` > 1 (national mode) also a complete reference directory at
    `reference_path` (default `<out>/../reference`), which `PCTN_REFERENCE_DIR` must name.
    """
    reference: Path | None = None
    if options.provinces > 1:
        reference = reference_path or out.parent / "reference"
        ref, story, inbox = _national_inbox(options, reference, out)
    else:
        ref = load_reference()
        config = StoryConfig(
            first_year=options.first_year,
            last_year=options.last_year,
            inspections_per_year=options.inspections_per_year,
            cases_per_year=options.cases_per_year,
            copies=options.provinces,
        )
        story = build_story(ref, options.seed, config)
        inbox = Inbox(ref, story, options)
        inbox.build()
    names = sorted(inbox.names)
    if not set(names) <= set(story.names):
        raise AssertionError("a name in the files is not one of the story's persons")

    if not (isinstance(inbox, NationalInbox) and inbox.out is not None):
        _clean(out)
        for exp in inbox.files.values():
            _write(out, exp)

    files = [inbox.files[p].as_json() for p in sorted(inbox.files)]
    statuses: dict[str, int] = {}
    for f in files:
        statuses[str(f["status"])] = statuses.get(str(f["status"]), 0) + 1
    document: dict[str, object] = {
        "generator": "python -m ingestion_samples.generate",
        "seed": options.seed,
        "years": [options.first_year, options.last_year],
        "provinces": options.provinces,
        "with_bad_files": options.bad,
        "inbox": out.name,
        "notes": {
            "status": "loaded | rejected | duplicate (same bytes as duplicate_of, ingested once) | "
            "superseded (loaded, then replaced by a later version of the same source/unit/period)",
            "rows_read": "non-blank rows below the header: records (loaded or quarantined) + rows_skipped",
            "rows_skipped": "non-blank rows below the header that are not records: column numbers, totals, footer",
            "rows_quarantined": "distinct rows with a row-severity issue; duplicate_key quarantines every row "
            "sharing the key",
            "rows_flagged": "distinct loaded rows with a warn issue (PlausibilityRule codes)",
            "data_row": "1-based among data rows (title lines, header, column-number row, totals and footer "
            "excluded); line is the 1-based sheet row or CSV line",
            "rejected_files": "rows_read is 0: a rejected file is not read as a return",
            "duplicate_files": "same bytes as duplicate_of, ingested once: the resend reads and loads 0 rows",
            "superseded_files": "status is the file's final registry status: loaded first, superseded once the "
            "later version is in",
            "names": "every clear person name written in the inbox (accused and defendants): none may be "
            "stored in clear in the warehouse",
        },
        "totals": {
            "files": len(files),
            "bytes": sum(int(f["bytes"]) for f in files),  # type: ignore[call-overload]
            "by_status": dict(sorted(statuses.items())),
            "rows_read": sum(int(f["rows_read"]) for f in files if f["status"] != "duplicate"),  # type: ignore[call-overload]
        },
        "files": files,
        "names": names,
    }
    if expected_path is None:
        expected_path = out.parent / "expected.json"
    if reference is not None:  # the reference directory PCTN_REFERENCE_DIR must name, beside expected.json
        where = os.path.relpath(reference, expected_path.parent)
        document = {**dict(list(document.items())[:5]), "reference": where, **dict(list(document.items())[5:])}
    expected_path.parent.mkdir(parents=True, exist_ok=True)
    expected_path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return document


# --------------------------------------------------------------------------
# Big files for benchmarks.
# --------------------------------------------------------------------------
BIG_STATUSES = ("Đang điều tra", "Đề nghị truy tố", "Tạm đình chỉ", "Đình chỉ")
BIG_CHANNELS = tuple(SOURCES["dieutra"].column("detection_channel").labels)
BIG_ARTICLES = tuple(OFFENCE_TITLES)


def _big_dieutra_rows(rows: int, seed: int, period: Period) -> Iterable[list[object]]:
    """`rows` plausible, valid dieutra rows fast (no story: only the value mix matters for speed)."""
    rng = random.Random(f"pctn-big:{seed}")
    span = (period.end - period.start).days
    given = GIVEN_M + GIVEN_F
    middle = MIDDLE_M + MIDDLE_F
    for i in range(rows):
        init = period.start + timedelta(days=rng.randrange(span))
        article = BIG_ARTICLES[rng.randrange(len(BIG_ARTICLES))]
        accused = 1 + rng.randrange(4)
        status = BIG_STATUSES[0 if rng.random() < 0.5 else rng.randrange(4)]
        damage = rng.randrange(50, 20_000) * 1_000_000
        closing = None
        if status != BIG_STATUSES[0]:
            closing = min(period.end, init + timedelta(days=rng.randrange(30, 300)))
        names = "; ".join(f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}" for _ in range(accused))
        yield [
            f"VA-{period.year}-{i + 1:07d}",
            f"{OFFENCE_TITLES[article]} xảy ra tại đơn vị số {i % 997 + 1}",
            init,
            article,
            accused,
            BIG_CHANNELS[rng.randrange(len(BIG_CHANNELS))],
            None,
            damage,
            damage * rng.randrange(0, 90) // 100 // 1_000_000 * 1_000_000,
            status,
            closing,
            names,
        ]


def write_big_csv(
    path: Path, rows: int, seed: int = DEFAULT_SEED, *, period_code: str = "2024-Y", encoding: str = "utf-8"
) -> Path:
    """A dieutra return with `rows` rows as CSV (for intake benchmarks: 1M rows in about half a minute)."""
    ref = load_reference()
    period = ref.periods[period_code]
    columns = [c.header_vi for c in SOURCES["dieutra"].columns]
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(columns)
        batch: list[list[object]] = []
        for row in _big_dieutra_rows(rows, seed, period):
            row[2] = row[2].strftime("%d/%m/%Y")  # type: ignore[attr-defined]
            row[10] = row[10].strftime("%d/%m/%Y") if row[10] else ""  # type: ignore[attr-defined]
            row[7] = f"{row[7]:,}".replace(",", ".")
            batch.append(row)
            if len(batch) == 10_000:
                writer.writerows(batch)
                batch.clear()
        writer.writerows(batch)
    return path


def write_big_xlsx(path: Path, rows: int, seed: int = DEFAULT_SEED, *, period_code: str = "2024-Y") -> Path:
    """A dieutra return with `rows` rows as an official-layout xlsx, written in xlsxwriter's constant memory."""
    ref = load_reference()
    period = ref.periods[period_code]
    unit = path.name.split("_")[1] if path.name.count("_") >= 2 else "CA-TINH"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    wb.set_properties({"created": FIXED_TIMESTAMP})
    ws = wb.add_worksheet("Bieu")
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    money_fmt = wb.add_format({"num_format": "#,##0"})
    name = ref.units[unit].name_vi if unit in ref.units else unit
    ws.write_string(0, 0, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    ws.write_string(1, 0, f"Đơn vị báo cáo: {unit} - {name}")
    ws.write_string(2, 0, f"Kỳ báo cáo: {period.code}")
    ws.write_string(3, 0, FORMS["dieutra"][0])
    ws.write_row(5, 0, [c.header_vi for c in SOURCES["dieutra"].columns])
    r = 6
    for row in _big_dieutra_rows(rows, seed, period):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, date):
                ws.write_datetime(r, c, _dt(v), date_fmt)
            elif isinstance(v, int):
                ws.write_number(r, c, v, money_fmt if c in (7, 8) else None)
            else:
                ws.write_string(r, c, str(v))
        r += 1
    ws.write_string(r, 0, "Tổng cộng")
    wb.close()
    return path


def _dt(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


# --------------------------------------------------------------------------
# Command line.
# --------------------------------------------------------------------------
def _years(text: str) -> tuple[int, int]:
    if "-" in text:
        a, b = text.split("-", 1)
        return int(a), int(b)
    return int(text), int(text)


def main(argv: Sequence[str] | None = None) -> int:
    from ingestion.platform.envhelp import epilog

    parser = argparse.ArgumentParser(
        prog="python -m ingestion_samples.generate",
        description=(__doc__.splitlines()[0] if __doc__ else "") + " Reads no database.",
        epilog=epilog(()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=REPO / "samples" / "returns")
    parser.add_argument("--expected", type=Path, default=None, help="default: <out>/../expected.json")
    parser.add_argument("--years", type=_years, default=(2023, 2025), help="e.g. 2023-2025 or 2024")
    parser.add_argument(
        "--provinces",
        type=int,
        default=1,
        help="1: the bundled Thanh Hóa sample; N > 1: the national inbox of Thanh Hóa and N - 1 more provinces "
        "of the provinces seed, with a reference directory beside it (national.py)",
    )
    parser.add_argument("--reference", type=Path, default=None, help="national mode: default <out>/../reference")
    parser.add_argument("--inspections-per-unit", type=int, default=12, help="national mode: per inspectorate a year")
    parser.add_argument("--cases-per-unit", type=float, default=1.5, help="national mode: per active area a year")
    parser.add_argument(
        "--active-units", type=float, default=1.0, help="national mode: share of district areas with any activity"
    )
    parser.add_argument("--inspections-per-year", type=int, default=80)
    parser.add_argument("--cases-per-year", type=int, default=30)
    parser.add_argument(
        "--no-bad", action="store_true", help="clean data only: no bad rows, rejected files, correction or resend"
    )
    args = parser.parse_args(argv)
    first, last = args.years
    if args.provinces > 1:
        if not 2000 <= first <= last <= 2030:
            parser.error("--years must lie in 2000-2030")
        if not 2 <= args.provinces <= len(national.read_provinces()):
            parser.error(f"--provinces must lie in 1-{len(national.read_provinces())}")
        if not 0.0 < args.active_units <= 1.0:
            parser.error("--active-units must lie in (0, 1]")
    elif not 2023 <= first <= last <= 2030:
        parser.error("--years must lie in 2023-2030")
    options = Options(
        seed=args.seed,
        first_year=first,
        last_year=last,
        provinces=args.provinces,
        bad=not args.no_bad,
        inspections_per_year=args.inspections_per_year,
        cases_per_year=args.cases_per_year,
        inspections_per_unit=args.inspections_per_unit,
        cases_per_unit=args.cases_per_unit,
        active_units=args.active_units,
    )
    doc = generate(args.out, options, args.expected, args.reference)
    totals = doc["totals"]
    print(f"wrote {totals['files']} files, {totals['bytes']} bytes, to {args.out}: {totals['by_status']}")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
