"""What each sheet of the extract says: bilingual tables built from the mart rows.

The workbook and the CSV files are two renderings of the same `Table`s, so a cell
in the workbook and the same cell in its CSV cannot disagree. Labels shown to the
Inspectorate are Vietnamese with English beside them (`"Tỉnh / Province"`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ingestion.calendar import LOCAL_TZ
from ingestion.contract.sources import SOURCES
from ingestion.extract.queries import (
    DETECTION_CHANNEL_PREFIX,
    DETECTION_TOTAL_CODE,
    MartData,
    ReportingPeriod,
    Row,
)

Kind = Literal["code", "text", "longtext", "count", "number", "value", "change", "pct", "points", "date", "datetime"]
Cell = str | int | float | Decimal | date | datetime | None


@dataclass(frozen=True)
class Column:
    """One column: bilingual header and how its values are shown.

    `super_header` groups adjacent columns under one merged heading in the workbook
    (an indicator over its "this period" and "last year" columns); the CSV joins
    the two into one header (`"Số vụ án khởi tố mới — 2025"`).
    """

    key: str
    header_vi: str
    header_en: str
    kind: Kind
    super_header: str | None = None

    @property
    def header(self) -> str:
        """`"Chỉ tiêu / Indicator"`; a year needs no translation and stays `"2024"`."""
        return f"{self.header_vi} / {self.header_en}" if self.header_en else self.header_vi

    @property
    def flat_header(self) -> str:
        return f"{self.super_header} — {self.header}" if self.super_header else self.header


@dataclass(frozen=True)
class TableRow:
    """One row of cells; `unit` is the indicator unit that formats `value`/`change` cells.

    Tags: `total` (bold: the province or an agency's own row).
    """

    cells: tuple[Cell, ...]
    unit: str | None = None
    tags: frozenset[str] = frozenset()


@dataclass
class Block:
    """One table inside a sheet that holds several (one per agency): title, header, rows."""

    title: str
    columns: tuple[Column, ...]
    rows: list[TableRow]
    units: tuple[str | None, ...] = ()  # per column: the indicator unit that formats it


@dataclass
class Table:
    """One sheet of the workbook and one CSV file.

    The CSV always renders `columns` and `rows` (one flat table a program can read).
    The workbook renders the same unless `blocks` is set: then the sheet shows the
    blocks (agencies × indicators), each with its own header, and the CSV stays the
    long form of the same numbers. `section_key` names a column the workbook shows as
    a full-width heading row whenever its value changes, instead of as a column.
    `empty_text` is written under the header of an empty table.
    """

    slug: str  # ASCII, used in file names
    sheet_name: str  # Excel: at most 31 characters, no / \\ ? * [ ] :
    title: str
    note: str
    columns: tuple[Column, ...]
    rows: list[TableRow] = field(default_factory=list)
    freeze_columns: int = 1
    blocks: list[Block] | None = None
    section_key: str | None = None
    empty_text: str = "Không có / None"

    def column_index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)


# --- labels ------------------------------------------------------------------------------

GROUP_LABELS = {
    "detection": "Phát hiện / Detection",
    "handling": "Xử lý / Handling",
    "recovery": "Thu hồi tài sản / Asset recovery",
    "data_quality": "Chất lượng dữ liệu / Data quality",
}
UNIT_LABELS = {
    "cases": "vụ / cases",
    "persons": "người / persons",
    "inspections": "cuộc / inspections",
    "vnd": "đồng / VND",
    "m2": "m² / m²",
    "ratio": "tỷ lệ / ratio",
    "days": "ngày / days",
    "returns": "báo cáo / returns",
    "rows": "dòng / rows",
}


def unit_word(unit: str) -> str:
    """The Vietnamese word of a unit ("vụ" for cases); an unknown unit as it is."""
    return UNIT_LABELS.get(unit, unit).split(" / ")[0]


LEVEL_LABELS = {"province": "Tỉnh / Province", "agency": "Ngành / Agency", "unit": "Đơn vị / Unit"}
SCOPE_LABELS = {
    "corruption": "Tham nhũng / Corruption",
    "position": "Chức vụ / Position crimes",
    "all": "Tất cả / All",
}
DIRECTION_LABELS = {
    "higher_is_better": "Cao là tốt / Higher is better",
    "lower_is_better": "Thấp là tốt / Lower is better",
    "neutral": "Trung tính / Neutral",
}
STATUS_LABELS = {
    "on_time": "Đúng hạn / On time",
    "late": "Trễ hạn / Late",
    "missing": "Chưa nộp / Missing",
    "rejected": "Bị từ chối / Rejected",
}
SEVERITY_LABELS = {"row": "Cách ly dòng / Row quarantined", "warn": "Cảnh báo / Flagged"}
MET_LABELS = {True: "Đạt / Met", False: "Chưa đạt / Not met"}
YES_NO_LABELS = {True: "Có / Yes", False: "Không / No"}
PROVINCE_NAME = "Tỉnh Thanh Hóa / Thanh Hóa province"
KIND_LABELS = {
    "Q1": "Quý I / Q1",
    "Q2": "Quý II / Q2",
    "Q3": "Quý III / Q3",
    "Q4": "Quý IV / Q4",
    "6M": "6 tháng / 6 months",
    "9M": "9 tháng / 9 months",
    "Y": "Năm / Year",
    "PHASE": "Giai đoạn / Phase",
}


def label(labels: dict[Any, str], code: Any) -> str | None:
    """The bilingual label of a code, or the code itself when it is new to the extract."""
    if code is None:
        return None
    return labels.get(code, str(code))


def bilingual_name(row: Row) -> str:
    """`"Số vụ án khởi tố mới / New cases initiated"`: one column keeps the summary printable."""
    return f"{row['name_vi']} / {row['name_en']}" if row.get("name_en") else row["name_vi"]


def source_name(code: str) -> str:
    """The Vietnamese name alone, where a list row must stay one printed line (the header is bilingual)."""
    source = SOURCES.get(code)
    return source.name_vi if source else code


def fmt_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def period_title(period: ReportingPeriod) -> str:
    """What the period is called in a document title: `năm 2025`, `9 tháng năm 2025`, a phase's name."""
    if period.is_phase:
        name = period.name_vi or f"giai đoạn {period.code}"
        return name[:1].lower() + name[1:]
    words = {
        "Y": "năm",
        "9M": "9 tháng năm",
        "6M": "6 tháng năm",
        "Q1": "quý I năm",
        "Q2": "quý II năm",
        "Q3": "quý III năm",
        "Q4": "quý IV năm",
    }
    return f"{words.get(period.kind, period.kind)} {period.report_year}"


def period_line(period: ReportingPeriod) -> str:
    kind = KIND_LABELS.get(period.kind, period.kind)
    return (
        f"Kỳ báo cáo / Period: {period.code} ({kind}), "
        f"từ ngày / from {fmt_date(period.start_date)} đến ngày / to {fmt_date(period.end_date)}"
    )


def local_time(ts: datetime | None) -> datetime | None:
    """Timestamps are shown in Viet Nam time, without zone (Excel has none), to the second.

    Whole seconds, so the workbook (Excel stores a fraction of a day, which rounds) and
    the CSV (text) show the same time.
    """
    if ts is None:
        return None
    if ts.tzinfo is not None:
        ts = ts.astimezone(LOCAL_TZ).replace(tzinfo=None)
    return ts.replace(microsecond=0)


def _indicator_tags(code: str, unit: str, group: str) -> frozenset[str]:
    tags = set()
    if group == "recovery" and unit == "ratio":
        tags.add("recovery_rate")
    if code.startswith(DETECTION_CHANNEL_PREFIX):
        tags.add("detection_channel")
    if code == DETECTION_TOTAL_CODE:
        tags.add("detection_total")
    return frozenset(tags)


def previous_label(data: MartData) -> str:
    """Header of the comparison column: the period compared with, by its code (`2024`, `2024-9M`)."""
    p = data.period
    code = data.previous_period_code or f"{p.report_year - 1}"
    return str(p.report_year - 1) if p.is_year else code


def current_label(data: MartData) -> str:
    p = data.period
    return str(p.report_year) if p.is_year else p.code


# --- the summary (the document's first page) ---------------------------------------------------


def summary_table(data: MartData) -> Table:
    """Headline indicators: names first, codes last, one labelled column per kind of change."""
    p = data.period
    if p.is_phase:
        return _phase_summary_table(data)
    same = ("Năm trước", "Previous year") if p.is_year else ("Cùng kỳ năm trước", "Same period last year")
    columns = [
        Column("group", "Nhóm", "Group", "text"),
        Column("name", "Chỉ tiêu", "Indicator", "longtext"),
        Column("unit", "Đơn vị tính", "Unit", "text"),
        Column("value", f"Kỳ này ({current_label(data)})", "This period", "value"),
        Column("previous_value", f"{same[0]} ({previous_label(data)})", same[1], "value"),
        Column("change_abs", "Chênh lệch", "Difference", "change"),
        Column("change_pct", "Tăng, giảm tương đối (%)", "Relative change (%)", "pct"),
        Column("change_points", "Chênh lệch tỷ lệ (điểm %)", "Change in percentage points", "points"),
    ]
    if data.has_targets:
        columns += [
            Column("target_value", "Mục tiêu năm", "Yearly target", "value"),
            Column("target_met", "Đạt mục tiêu", "Target met", "text"),
        ]
    columns.append(Column("indicator_code", "Mã chỉ tiêu", "Code", "code"))
    rows = []
    for r in data.summary:
        cells: list[Cell] = [
            label(GROUP_LABELS, r["indicator_group"]),
            bilingual_name(r),
            label(UNIT_LABELS, r["unit"]),
            r["value"],
            r["previous_value"],
            r["change_abs"],
            r["change_pct"],
            r["change_points"],
        ]
        if data.has_targets:
            cells += [r["target_value"], label(MET_LABELS, r["target_met"])]
        cells.append(r["indicator_code"])
        rows.append(TableRow(tuple(cells), unit=r["unit"]))
    note = (
        "Chỉ tiêu chính, cấp tỉnh, quy đổi theo đơn vị hành chính hiện nay, phạm vi mặc định của chỉ tiêu "
        "(tội phạm tham nhũng: Điều 353–359 BLHS). Tăng, giảm tương đối: so với "
        + ("năm trước" if p.is_year else "cùng kỳ năm trước")
        + "; điểm %: chênh lệch của chỉ tiêu tỷ lệ / Headline indicators, province level, restated on today's "
        "units, each indicator's default scope (corruption offences: Penal Code arts. 353–359). Relative change "
        "against the " + ("previous year" if p.is_year else "same period last year") + "; percentage points: "
        "difference of a ratio."
    )
    return Table(
        "summary",
        "Báo cáo - Report",
        "Tổng hợp chỉ tiêu chính / Headline indicators",
        note,
        tuple(columns),
        rows,
        section_key="group",
    )


def _phase_summary_table(data: MartData) -> Table:
    years = data.period.years
    columns = (
        Column("group", "Nhóm", "Group", "text"),
        Column("name", "Chỉ tiêu", "Indicator", "longtext"),
        Column("unit", "Đơn vị tính", "Unit", "text"),
        *(Column(f"y{y}", str(y), "", "value") for y in years),
        Column("phase_value", "Cả giai đoạn", "Phase total", "value"),
        Column("years_covered", "Số năm có số liệu", "Years covered", "count"),
        Column("indicator_code", "Mã chỉ tiêu", "Code", "code"),
    )
    rows = []
    for r in data.summary:
        by_year = data.phase_years.get(r["indicator_code"], {})
        rows.append(
            TableRow(
                (
                    label(GROUP_LABELS, r["indicator_group"]),
                    bilingual_name(r),
                    label(UNIT_LABELS, r["unit"]),
                    *(by_year.get(y) for y in years),
                    r["phase_value"],
                    r["years_covered"],
                    r["indicator_code"],
                ),
                unit=r["unit"],
            )
        )
    note = (
        "Chỉ tiêu chính, cấp tỉnh, quy đổi theo đơn vị hiện nay, phạm vi mặc định; cả giai đoạn chỉ cho chỉ tiêu "
        "cộng dồn được / Headline indicators, province level, restated, default scope; phase totals for additive "
        "indicators only."
    )
    return Table(
        "summary",
        "Báo cáo - Report",
        "Tổng hợp giai đoạn / Phase summary",
        note,
        columns,
        rows,
        section_key="group",
    )


# --- detection, handling, recovery: agencies and units × indicators -------------------------------

GROUP_SHEETS = {
    "detection": ("detection", "Phát hiện - Detection", "Phát hiện tham nhũng / Detection"),
    "handling": ("handling", "Xử lý - Handling", "Xử lý tham nhũng / Handling"),
    "recovery": ("recovery", "Thu hồi tài sản - Recovery", "Thu hồi tài sản / Asset recovery"),
}
# Agencies in the order of the criminal chain (domain.md): inspection, investigation,
# prosecution, trial, enforcement.
AGENCY_ORDER = ("TT", "CA", "QD", "VKS", "TA", "THADS")


def _agency_rank(code: str | None) -> tuple[int, str]:
    return (AGENCY_ORDER.index(code) if code in AGENCY_ORDER else len(AGENCY_ORDER), code or "")


def _blocks(data: MartData, rows_in: list[Row]) -> list[Block]:
    """Province first (indicators as rows), then one block per agency: its units × its indicators.

    An agency's indicators are those the marts give it a row for (its source's); the
    breakdown of new cases by detection channel stays in the province block and the trends.
    """
    phase = data.period.is_phase
    blocks: list[Block] = []
    province = [r for r in rows_in if r["unit_level"] == "province"]
    if province:
        value_cols = (
            (Column("value", "Cả giai đoạn", "Phase total", "value"),)
            if phase
            else (
                Column("value", current_label(data), "", "value"),
                Column("previous_value", previous_label(data), "", "value"),
            )
        )
        blocks.append(
            Block(
                title="Toàn tỉnh / Whole province",
                columns=(
                    Column("name", "Chỉ tiêu", "Indicator", "longtext"),
                    Column("unit", "Đơn vị tính", "Unit", "text"),
                    *value_cols,
                ),
                rows=[
                    TableRow(
                        (
                            r["name_vi"],
                            label(UNIT_LABELS, r["unit"]),
                            r["value"],
                            *(() if phase else (r["previous_value"],)),
                        ),
                        unit=r["unit"],
                    )
                    for r in province
                ],
            )
        )
    agencies = sorted({r["agency_code"] for r in rows_in if r["unit_level"] != "province"}, key=_agency_rank)
    for agency in agencies:
        mine = [r for r in rows_in if r["agency_code"] == agency and r["unit_level"] != "province"]
        own = [r for r in mine if r["unit_level"] == "agency"]
        indicators: dict[str, Row] = {}
        for r in sorted(own, key=lambda r: r["display_order"]):
            if not r["indicator_code"].startswith(DETECTION_CHANNEL_PREFIX):
                indicators.setdefault(r["indicator_code"], r)
        if not indicators:
            continue
        columns: list[Column] = [Column("unit_name", "Đơn vị", "Unit", "longtext")]
        units: list[str | None] = [None]
        for code, ind in indicators.items():
            head = f"{ind['name_vi']} ({unit_word(ind['unit'])})"
            if phase:
                columns.append(Column(f"{code}:value", "Cả giai đoạn", "Phase total", "value", head))
                units.append(ind["unit"])
            else:
                columns.append(Column(f"{code}:value", current_label(data), "", "value", head))
                columns.append(Column(f"{code}:previous", previous_label(data), "", "value", head))
                units += [ind["unit"], ind["unit"]]
        columns.append(Column("unit_code", "Mã đơn vị", "Unit code", "code"))
        units.append(None)
        by_unit: dict[tuple[str, str], dict[str, Row]] = {}
        names: dict[tuple[str, str], str] = {}
        for r in mine:
            key = (r["unit_level"], r["unit_code"])
            by_unit.setdefault(key, {})[r["indicator_code"]] = r
            names[key] = r["unit_name_vi"] or r["unit_code"]
        order = sorted(by_unit, key=lambda k: (k[0] != "agency", k[1]))
        rows = []
        for key in order:
            values: list[Cell] = []
            for code in indicators:
                found = by_unit[key].get(code)
                values.append(found["value"] if found else None)
                if not phase:
                    values.append(found["previous_value"] if found else None)
            name = f"Toàn ngành / Agency total: {names[key]}" if key[0] == "agency" else names[key]
            rows.append(
                TableRow(
                    (name, *values, key[1]),
                    tags=frozenset({"total"}) if key[0] == "agency" else frozenset(),
                )
            )
        first = next(iter(by_unit[order[0]].values()))
        blocks.append(
            Block(title=first["unit_name_vi"] or agency, columns=tuple(columns), rows=rows, units=tuple(units))
        )
    return blocks


def group_table(data: MartData, group: str) -> Table:
    slug, sheet_name, title = GROUP_SHEETS[group]
    rows_in = data.groups[group]
    phase = data.period.is_phase
    base = (
        Column("name_vi", "Chỉ tiêu", "Indicator", "longtext"),
        Column("unit", "Đơn vị tính", "Unit", "text"),
        Column("unit_level", "Cấp", "Level", "text"),
        Column("unit_name", "Đơn vị", "Unit", "longtext"),
    )
    codes = (
        Column("unit_code", "Mã đơn vị", "Unit code", "code"),
        Column("indicator_code", "Mã chỉ tiêu", "Code", "code"),
    )
    columns: tuple[Column, ...]
    if phase:
        columns = (
            *base,
            Column("value", "Cả giai đoạn", "Phase total", "value"),
            Column("years_covered", "Số năm có số liệu", "Years covered", "count"),
            *codes,
        )
        rows = [
            TableRow(
                (
                    r["name_vi"],
                    label(UNIT_LABELS, r["unit"]),
                    label(LEVEL_LABELS, r["unit_level"]),
                    r["unit_name_vi"],
                    r["value"],
                    r["years_covered"],
                    r["unit_code"],
                    r["indicator_code"],
                ),
                unit=r["unit"],
            )
            for r in rows_in
        ]
        note = (
            f"Tổng giai đoạn {data.period.code}, chỉ tiêu cộng dồn được, phạm vi mặc định; đơn vị quy đổi theo đơn "
            f"vị hiện nay / Totals over phase {data.period.code}, additive indicators, default scope; units restated."
        )
    else:
        columns = (
            *base,
            Column("value", f"Kỳ này ({current_label(data)})", "This period", "value"),
            Column("previous_value", f"Cùng kỳ ({previous_label(data)})", "Same period last year", "value"),
            Column("numerator", "Tử số", "Numerator", "number"),
            Column("denominator", "Mẫu số", "Denominator", "number"),
            *codes,
        )
        rows = [
            TableRow(
                (
                    r["name_vi"],
                    label(UNIT_LABELS, r["unit"]),
                    label(LEVEL_LABELS, r["unit_level"]),
                    r["unit_name_vi"],
                    r["value"],
                    r["previous_value"],
                    r["numerator"],
                    r["denominator"],
                    r["unit_code"],
                    r["indicator_code"],
                ),
                unit=r["unit"],
            )
            for r in rows_in
        ]
        note = (
            "Phạm vi mặc định của chỉ tiêu; đơn vị quy đổi theo đơn vị hành chính hiện nay (số liệu của đơn vị cũ "
            "cộng vào đơn vị kế thừa), nên so sánh được với cùng kỳ năm trước / Each indicator's default scope; "
            "units restated on today's units (a former unit's figures added to its successor), so comparable "
            "with the same period last year."
        )
    return Table(slug, sheet_name, title, note, columns, rows, blocks=_blocks(data, rows_in))


# --- data quality -------------------------------------------------------------------------------------


def unit_quality_table(data: MartData) -> Table:
    """One line per unit: returns due in the period by status, rows quarantined and flagged."""
    columns = (
        Column("unit_name", "Đơn vị báo cáo", "Reporting unit", "longtext"),
        Column("returns_due", "Báo cáo phải nộp", "Returns due", "count"),
        Column("on_time", "Đúng hạn", "On time", "count"),
        Column("late", "Trễ hạn", "Late", "count"),
        Column("missing", "Chưa nộp", "Missing", "count"),
        Column("rejected", "Bị từ chối", "Rejected", "count"),
        Column("rows_quarantined", "Dòng bị cách ly", "Rows quarantined", "count"),
        Column("rows_flagged", "Dòng cảnh báo", "Rows flagged", "count"),
        Column("unit_code", "Mã đơn vị", "Unit code", "code"),
    )
    rows = [
        TableRow(
            (
                r["unit_name_vi"] or r["unit_code"],
                r["returns_due"],
                r["on_time"],
                r["late"],
                r["missing"],
                r["rejected"],
                r["rows_quarantined"],
                r["rows_flagged"],
                r["unit_code"],
            ),
            tags=frozenset({"total"}) if (r["missing"] or r["rejected"] or r["late"]) else frozenset(),
        )
        for r in data.unit_quality
    ]
    note = (
        "Mỗi đơn vị một dòng: báo cáo của các kỳ trong kỳ này; đơn vị còn thiếu, trễ hoặc bị từ chối đứng trước "
        "(danh sách chi tiết ở Phụ lục) / One line per unit: returns of the periods within this period; units "
        "with missing, late or rejected returns first (the list is in the Annex)."
    )
    return Table(
        "data_quality",
        "Chất lượng dữ liệu - Quality",
        "Chất lượng dữ liệu theo đơn vị / Data quality by unit",
        note,
        columns,
        rows,
    )


def submissions_table(data: MartData) -> Table:
    columns = (
        Column("unit_name", "Đơn vị báo cáo", "Reporting unit", "longtext"),
        Column("source", "Nguồn", "Source", "text"),
        Column("period_code", "Kỳ", "Period", "code"),
        Column("status", "Tình trạng", "Status", "text"),
        Column("due_date", "Hạn nộp", "Due date", "date"),
        Column("received_at", "Thời điểm nhận", "Received at", "datetime"),
        Column("rows_read", "Số dòng đọc", "Rows read", "count"),
        Column("rows_loaded", "Số dòng nạp", "Rows loaded", "count"),
        Column("rows_quarantined", "Số dòng cách ly", "Rows quarantined", "count"),
        Column("unit_code", "Mã đơn vị", "Unit code", "code"),
    )
    rows = [
        TableRow(
            (
                r["unit_name_vi"] or r["unit_code"],
                source_name(r["source"]),
                r["period_code"],
                label(STATUS_LABELS, r["status"]),
                r["due_date"],
                local_time(r["received_at"]),
                r["rows_read"],
                r["rows_loaded"],
                r["rows_quarantined"],
                r["unit_code"],
            )
        )
        for r in data.submissions
    ]
    note = (
        "Phụ lục: báo cáo của các kỳ trong kỳ này chưa nộp, bị từ chối hoặc nộp trễ; giờ Việt Nam (UTC+7) "
        "/ Annex: returns of the periods within this period that are missing, rejected or late; Viet Nam time."
    )
    return Table(
        "annex_returns",
        "Phụ lục - Annex",
        "Phụ lục: báo cáo thiếu, trễ, bị từ chối / Annex: missing, late and rejected returns",
        note,
        columns,
        rows,
    )


def quarantine_table(data: MartData) -> Table:
    columns = (
        Column("unit_name", "Đơn vị báo cáo", "Reporting unit", "longtext"),
        Column("source", "Nguồn", "Source", "text"),
        Column("period_code", "Kỳ", "Period", "code"),
        Column("rule", "Quy tắc", "Rule", "text"),
        Column("severity", "Mức độ", "Severity", "text"),
        Column("rows", "Số dòng", "Rows", "count"),
        Column("unit_code", "Mã đơn vị", "Unit code", "code"),
    )
    rows = [
        TableRow(
            (
                r["unit_name_vi"] or r["unit_code"],
                source_name(r["source"]),
                r["period_code"],
                r["rule"],
                label(SEVERITY_LABELS, r["severity"]),
                r["rows"],
                r["unit_code"],
            )
        )
        for r in data.quarantine
    ]
    note = (
        "Cách ly dòng: không được nạp; cảnh báo: đã nạp, cần xem lại "
        "/ Row quarantined: not loaded; flagged: loaded, to be checked."
    )
    return Table(
        "quarantine",
        "Dữ liệu cách ly - Quarantine",
        "Dữ liệu cách ly / Quarantined data",
        note,
        columns,
        rows,
    )


def trends_table(data: MartData) -> Table:
    years = sorted({int(r["report_year"]) for r in data.trends})
    by_code: dict[str, dict[int, Any]] = {}
    for r in data.trends:
        by_code.setdefault(r["indicator_code"], {})[int(r["report_year"])] = r["value"]
    columns = (
        Column("name_vi", "Chỉ tiêu", "Indicator", "longtext"),
        Column("unit", "Đơn vị tính", "Unit", "text"),
        *(Column(f"y{y}", str(y), "", "value") for y in years),
        Column("indicator_code", "Mã chỉ tiêu", "Code", "code"),
    )
    rows = [
        TableRow(
            (i["name_vi"], label(UNIT_LABELS, i["unit"]), *(by_code[code].get(y) for y in years), code),
            unit=i["unit"],
            tags=_indicator_tags(code, i["unit"], i["indicator_group"]),
        )
        for i in data.indicators
        if (code := i["indicator_code"]) in by_code
    ]
    note = (
        "Số liệu cả năm, cấp tỉnh, quy đổi theo đơn vị hiện nay, phạm vi mặc định "
        "/ Full years, province level, restated, default scope."
    )
    return Table("trends", "Xu hướng - Trends", "Xu hướng theo năm / Trends by year", note, columns, rows)


def definitions_table(data: MartData) -> Table:
    columns = (
        Column("name_vi", "Chỉ tiêu", "Indicator", "longtext"),
        Column("name_en", "Tên tiếng Anh", "English name", "longtext"),
        Column("group", "Nhóm", "Group", "text"),
        Column("unit", "Đơn vị tính", "Unit", "text"),
        Column("formula_vi", "Cách tính", "Formula (Vietnamese)", "longtext"),
        Column("formula_en", "Cách tính (tiếng Anh)", "Formula", "longtext"),
        Column("direction", "Chiều tốt", "Direction", "text"),
        Column("default_scope", "Phạm vi mặc định", "Default scope", "text"),
        Column("is_additive", "Cộng dồn được", "Additive", "text"),
        Column("indicator_code", "Mã chỉ tiêu", "Code", "code"),
    )
    rows = [
        TableRow(
            (
                i["name_vi"],
                i["name_en"],
                label(GROUP_LABELS, i["indicator_group"]),
                label(UNIT_LABELS, i["unit"]),
                i["formula_vi"],
                i["formula_en"],
                label(DIRECTION_LABELS, i["direction"]),
                label(SCOPE_LABELS, i["default_scope"]),
                label(YES_NO_LABELS, i["is_additive"]),
                i["indicator_code"],
            )
        )
        for i in data.indicators
    ]
    note = (
        "Định nghĩa do Thanh tra tỉnh duy trì (danh mục chỉ tiêu) / Definitions maintained by the "
        "provincial Inspectorate (the indicator list)."
    )
    return Table(
        "definitions",
        "Định nghĩa - Definitions",
        "Định nghĩa chỉ tiêu / Indicator definitions",
        note,
        columns,
        rows,
    )


def build_tables(data: MartData) -> list[Table]:
    """The sheets in reading order: the report (summary) first, definitions last."""
    return [
        summary_table(data),
        group_table(data, "detection"),
        group_table(data, "handling"),
        group_table(data, "recovery"),
        unit_quality_table(data),
        submissions_table(data),
        quarantine_table(data),
        trends_table(data),
        definitions_table(data),
    ]
