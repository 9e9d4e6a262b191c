"""What each sheet of the extract says: bilingual tables built from the mart rows.

The workbook and the CSV files are two renderings of the same `Table`s, so a cell
in the workbook and the same cell in its CSV cannot disagree. Labels shown to the
Inspectorate are Vietnamese with English beside them (`"Tỉnh / Province"`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal

from ingestion.contract.sources import SOURCES
from ingestion.extract.queries import (
    DETECTION_CHANNEL_PREFIX,
    DETECTION_TOTAL_CODE,
    MartData,
    ReportingPeriod,
    Row,
)

VIETNAM_TZ = timezone(timedelta(hours=7), "UTC+7")  # no daylight saving in Viet Nam

Kind = Literal["code", "text", "longtext", "count", "number", "value", "change", "pct", "date", "datetime"]
Cell = str | int | float | Decimal | date | datetime | None


@dataclass(frozen=True)
class Column:
    """One column: bilingual header and how its values are shown."""

    key: str
    header_vi: str
    header_en: str
    kind: Kind

    @property
    def header(self) -> str:
        """`"Chỉ tiêu / Indicator"`; a year needs no translation and stays `"2024"`."""
        return f"{self.header_vi} / {self.header_en}" if self.header_en else self.header_vi


@dataclass(frozen=True)
class TableRow:
    """One row of cells; `unit` is the indicator unit that formats `value`/`change` cells."""

    cells: tuple[Cell, ...]
    unit: str | None = None
    tags: frozenset[str] = frozenset()


@dataclass
class Table:
    """One sheet of the workbook and one CSV file."""

    slug: str  # ASCII, used in file names
    sheet_name: str  # Excel: at most 31 characters, no / \\ ? * [ ] :
    title: str
    note: str
    columns: tuple[Column, ...]
    rows: list[TableRow] = field(default_factory=list)
    freeze_columns: int = 2

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


def years_covered(text: str | None) -> int | str | None:
    """fct_phase_totals.years_covered read as text: a count stays a number, a list stays text."""
    return int(text) if text is not None and text.isdigit() else text


def source_label(code: str) -> str:
    source = SOURCES.get(code)
    return f"{source.name_vi} / {source.name_en}" if source else code


def fmt_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def period_line(period: ReportingPeriod) -> str:
    kind = KIND_LABELS.get(period.kind, period.kind)
    return (
        f"Kỳ báo cáo / Period: {period.code} ({kind}), "
        f"từ / from {fmt_date(period.start_date)} đến / to {fmt_date(period.end_date)}"
    )


def local_time(ts: datetime | None) -> datetime | None:
    """Timestamps are shown in Viet Nam time, without zone (Excel has none)."""
    if ts is None:
        return None
    if ts.tzinfo is None:
        return ts
    return ts.astimezone(VIETNAM_TZ).replace(tzinfo=None)


# --- sheet builders ----------------------------------------------------------------------------


def _indicator_tags(code: str, unit: str, group: str) -> frozenset[str]:
    tags = set()
    if group == "recovery" and unit == "ratio":
        tags.add("recovery_rate")
    if code.startswith(DETECTION_CHANNEL_PREFIX):
        tags.add("detection_channel")
    if code == DETECTION_TOTAL_CODE:
        tags.add("detection_total")
    return frozenset(tags)


def summary_table(data: MartData) -> Table:
    p = data.period
    if p.is_phase:
        return _phase_summary_table(data)
    same = "Cùng kỳ năm trước / Same period last year" if not p.is_year else "Năm trước / Previous year"
    columns = (
        Column("indicator_code", "Mã chỉ tiêu", "Code", "code"),
        Column("name", "Chỉ tiêu", "Indicator", "longtext"),
        Column("group", "Nhóm", "Group", "text"),
        Column("unit", "Đơn vị tính", "Unit", "text"),
        Column("direction", "Chiều tốt", "Direction", "text"),
        Column("value", "Kỳ này", "This period", "value"),
        Column("previous_value", *same.split(" / "), "value"),
        Column("change_abs", "Thay đổi", "Change", "change"),
        Column("change_pct", "Thay đổi (%)", "Change (%)", "pct"),
        Column("target_value", "Mục tiêu năm", "Yearly target", "value"),
        Column("target_met", "Đạt mục tiêu", "Target met", "text"),
    )
    rows = [
        TableRow(
            (
                r["indicator_code"],
                bilingual_name(r),
                label(GROUP_LABELS, r["indicator_group"]),
                label(UNIT_LABELS, r["unit"]),
                label(DIRECTION_LABELS, r["direction"]),
                r["value"],
                r["previous_value"],
                r["change_abs"],
                r["change_pct"],
                r["target_value"],
                label(MET_LABELS, r["target_met"]),
            ),
            unit=r["unit"],
        )
        for r in data.summary
    ]
    note = (
        "Cấp tỉnh, quy đổi theo đơn vị hành chính hiện nay, phạm vi mặc định của chỉ tiêu. "
        "Thay đổi (%) so với "
        + ("năm trước" if p.is_year else "cùng kỳ năm trước; mục tiêu chỉ có cho kỳ năm")
        + " / Province level, restated on today's units, each indicator's default scope. Change against the "
        + ("previous year." if p.is_year else "same period last year; targets exist for years only.")
    )
    return Table("summary", "Tổng hợp - Summary", "Tổng hợp chỉ tiêu / Indicator summary", note, columns, rows)


def _phase_summary_table(data: MartData) -> Table:
    years = data.period.years
    columns = (
        Column("indicator_code", "Mã chỉ tiêu", "Code", "code"),
        Column("name", "Chỉ tiêu", "Indicator", "longtext"),
        Column("group", "Nhóm", "Group", "text"),
        Column("unit", "Đơn vị tính", "Unit", "text"),
        Column("direction", "Chiều tốt", "Direction", "text"),
        *(Column(f"y{y}", str(y), "", "value") for y in years),
        Column("phase_value", "Cả giai đoạn", "Phase total", "value"),
        Column("years_covered", "Số năm có số liệu", "Years covered", "count"),
    )
    rows = []
    for r in data.summary:
        by_year = data.phase_years.get(r["indicator_code"], {})
        rows.append(
            TableRow(
                (
                    r["indicator_code"],
                    bilingual_name(r),
                    label(GROUP_LABELS, r["indicator_group"]),
                    label(UNIT_LABELS, r["unit"]),
                    label(DIRECTION_LABELS, r["direction"]),
                    *(by_year.get(y) for y in years),
                    r["phase_value"],
                    years_covered(r["years_covered"]),
                ),
                unit=r["unit"],
            )
        )
    note = (
        "Cấp tỉnh, quy đổi theo đơn vị hiện nay, phạm vi mặc định; cả giai đoạn chỉ cho chỉ tiêu cộng dồn được "
        "/ Province level, restated, default scope; phase totals for additive indicators only."
    )
    return Table("summary", "Tổng hợp - Summary", "Tổng hợp giai đoạn / Phase summary", note, columns, rows)


GROUP_SHEETS = {
    "detection": ("detection", "Phát hiện - Detection", "Phát hiện / Detection"),
    "handling": ("handling", "Xử lý - Handling", "Xử lý / Handling"),
    "recovery": ("recovery", "Thu hồi tài sản - Recovery", "Thu hồi tài sản / Asset recovery"),
}


def group_table(data: MartData, group: str) -> Table:
    slug, sheet_name, title = GROUP_SHEETS[group]
    rows_in = data.groups[group]
    base = (
        Column("indicator_code", "Mã chỉ tiêu", "Code", "code"),
        Column("name_vi", "Chỉ tiêu", "Indicator", "longtext"),
        Column("unit", "Đơn vị tính", "Unit", "text"),
        Column("unit_level", "Cấp", "Level", "text"),
        Column("unit_code", "Mã đơn vị", "Unit code", "code"),
        Column("unit_name", "Đơn vị báo cáo", "Reporting unit", "longtext"),
        Column("scope", "Phạm vi", "Scope", "text"),
    )

    def unit_name(r: Row) -> str | None:
        return PROVINCE_NAME if r["unit_level"] == "province" else r["unit_name_vi"]

    def head(r: Row) -> tuple[Cell, ...]:
        return (
            r["indicator_code"],
            r["name_vi"],
            label(UNIT_LABELS, r["unit"]),
            label(LEVEL_LABELS, r["unit_level"]),
            r["unit_code"],
            unit_name(r),
            label(SCOPE_LABELS, r["scope"]),
        )

    if data.period.is_phase:
        columns = (
            *base,
            Column("value", "Cả giai đoạn", "Phase total", "value"),
            Column("years_covered", "Số năm có số liệu", "Years covered", "count"),
        )
        rows = [TableRow((*head(r), r["value"], years_covered(r["years_covered"])), unit=r["unit"]) for r in rows_in]
        note = (
            f"Tổng giai đoạn {data.period.code}, chỉ tiêu cộng dồn được / "
            f"Totals over phase {data.period.code}, additive indicators only."
        )
    else:
        same = "Năm trước / Previous year" if data.period.is_year else "Cùng kỳ năm trước / Same period last year"
        columns = (
            *base,
            Column("value", "Kỳ này", "This period", "value"),
            Column("numerator", "Tử số", "Numerator", "number"),
            Column("denominator", "Mẫu số", "Denominator", "number"),
            Column("previous_value", *same.split(" / "), "value"),
        )
        rows = [
            TableRow((*head(r), r["value"], r["numerator"], r["denominator"], r["previous_value"]), unit=r["unit"])
            for r in rows_in
        ]
        note = (
            "Cấp tỉnh và ngành: quy đổi theo đơn vị hiện nay; cấp đơn vị: như đơn vị đã báo cáo. "
            "Tử số, mẫu số chỉ cho chỉ tiêu tỷ lệ / Province and agency rows restated on today's units; "
            "unit rows as reported. Numerator and denominator for ratios only."
        )
    return Table(slug, sheet_name, title, note, columns, rows)


def submissions_table(data: MartData) -> Table:
    columns = (
        Column("source", "Nguồn", "Source", "text"),
        Column("unit_code", "Mã đơn vị", "Unit code", "code"),
        Column("unit_name", "Đơn vị báo cáo", "Reporting unit", "longtext"),
        Column("period_code", "Kỳ", "Period", "code"),
        Column("status", "Tình trạng", "Status", "text"),
        Column("due_date", "Hạn nộp", "Due date", "date"),
        Column("received_at", "Thời điểm nhận", "Received at", "datetime"),
        Column("rows_read", "Số dòng đọc", "Rows read", "count"),
        Column("rows_loaded", "Số dòng nạp", "Rows loaded", "count"),
        Column("rows_quarantined", "Số dòng cách ly", "Rows quarantined", "count"),
    )
    rows = [
        TableRow(
            (
                source_label(r["source"]),
                r["unit_code"],
                r["unit_name_vi"],
                r["period_code"],
                label(STATUS_LABELS, r["status"]),
                r["due_date"],
                local_time(r["received_at"]),
                r["rows_read"],
                r["rows_loaded"],
                r["rows_quarantined"],
            )
        )
        for r in data.submissions
    ]
    note = (
        "Báo cáo của các kỳ trong kỳ này chưa nộp, bị từ chối hoặc nộp trễ; giờ Việt Nam (UTC+7) "
        "/ Returns of the periods within this period that are missing, rejected or late; Viet Nam time."
    )
    return Table(
        "data_quality",
        "Chất lượng dữ liệu - Quality",
        "Chất lượng dữ liệu: báo cáo thiếu, trễ / Data quality: missing and late returns",
        note,
        columns,
        rows,
        freeze_columns=3,
    )


def quarantine_table(data: MartData) -> Table:
    columns = (
        Column("source", "Nguồn", "Source", "text"),
        Column("unit_code", "Mã đơn vị", "Unit code", "code"),
        Column("unit_name", "Đơn vị báo cáo", "Reporting unit", "longtext"),
        Column("period_code", "Kỳ", "Period", "code"),
        Column("rule", "Quy tắc", "Rule", "text"),
        Column("severity", "Mức độ", "Severity", "text"),
        Column("rows", "Số dòng", "Rows", "count"),
    )
    rows = [
        TableRow(
            (
                source_label(r["source"]),
                r["unit_code"],
                r["unit_name_vi"],
                r["period_code"],
                r["rule"],
                label(SEVERITY_LABELS, r["severity"]),
                r["rows"],
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
        freeze_columns=3,
    )


def trends_table(data: MartData) -> Table:
    years = sorted({int(r["report_year"]) for r in data.trends})
    by_code: dict[str, dict[int, Any]] = {}
    for r in data.trends:
        by_code.setdefault(r["indicator_code"], {})[int(r["report_year"])] = r["value"]
    columns = (
        Column("indicator_code", "Mã chỉ tiêu", "Code", "code"),
        Column("name_vi", "Chỉ tiêu", "Indicator", "longtext"),
        Column("unit", "Đơn vị tính", "Unit", "text"),
        *(Column(f"y{y}", str(y), "", "value") for y in years),
    )
    rows = [
        TableRow(
            (i["indicator_code"], i["name_vi"], label(UNIT_LABELS, i["unit"]), *(by_code[code].get(y) for y in years)),
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
        Column("indicator_code", "Mã chỉ tiêu", "Code", "code"),
        Column("name_vi", "Chỉ tiêu", "Indicator", "longtext"),
        Column("name_en", "Tên tiếng Anh", "English name", "longtext"),
        Column("group", "Nhóm", "Group", "text"),
        Column("unit", "Đơn vị tính", "Unit", "text"),
        Column("formula_vi", "Cách tính", "Formula (Vietnamese)", "longtext"),
        Column("formula_en", "Cách tính (tiếng Anh)", "Formula", "longtext"),
        Column("direction", "Chiều tốt", "Direction", "text"),
        Column("default_scope", "Phạm vi mặc định", "Default scope", "text"),
        Column("is_additive", "Cộng dồn được", "Additive", "text"),
    )
    rows = [
        TableRow(
            (
                i["indicator_code"],
                i["name_vi"],
                i["name_en"],
                label(GROUP_LABELS, i["indicator_group"]),
                label(UNIT_LABELS, i["unit"]),
                i["formula_vi"],
                i["formula_en"],
                label(DIRECTION_LABELS, i["direction"]),
                label(SCOPE_LABELS, i["default_scope"]),
                label(YES_NO_LABELS, i["is_additive"]),
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
    """The sheets in reading order: summary first, definitions last."""
    return [
        summary_table(data),
        group_table(data, "detection"),
        group_table(data, "handling"),
        group_table(data, "recovery"),
        submissions_table(data),
        quarantine_table(data),
        trends_table(data),
        definitions_table(data),
    ]
