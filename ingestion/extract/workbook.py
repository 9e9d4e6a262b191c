"""Render the extract's tables as one XLSX workbook the Inspectorate can read and print.

Choices that matter to the reader:
- numbers stay numbers with a number format (VND `#,##0`, ratios `0.0%`, dates
  `dd/mm/yyyy`), so Excel shows the reader's locale separators and sums still work;
- text is always written with `write_string` and the workbook refuses to turn strings
  into formulas, so a mart text such as `=1+1` or `@SUM(A1)` stays text;
- every sheet has a frozen, repeated header row, a filter, widths that fit, and an A4
  landscape print layout one page wide with the period and page number in the margins;
- native Excel charts (recovery rates, detection) read their data from the Trends sheet;
- the output depends only on the tables and the build metadata: properties carry the
  build time, not the clock, so the same marts and build time give the same bytes.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ingestion.extract.queries import ReportingPeriod
from ingestion.extract.sheets import Column, Table, local_time, period_line

TITLE_ROW, PERIOD_ROW, NOTE_ROW, BUILD_ROW = 0, 1, 2, 3
HEADER_ROW = 5  # row 4 stays empty between the title block and the table
FIRST_DATA_ROW = HEADER_ROW + 1

VALUE_FORMATS = {
    "cases": "#,##0",
    "persons": "#,##0",
    "inspections": "#,##0",
    "returns": "#,##0",
    "rows": "#,##0",
    "vnd": "#,##0",
    "m2": "#,##0.0",
    "days": "#,##0.0",
    "ratio": "0.0%",
}
CHANGE_FORMATS = {
    "ratio": "+0.0%;-0.0%;0.0%",
    "m2": "+#,##0.0;-#,##0.0;0.0",
    "days": "+#,##0.0;-#,##0.0;0.0",
}
CHANGE_DEFAULT = "+#,##0;-#,##0;0"
KIND_FORMATS = {
    "count": "#,##0",
    "number": "#,##0",
    "pct": "+0.0%;-0.0%;0.0%",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
}
MAX_WIDTH = {"longtext": 40, "text": 18, "code": 34}
LINE_HEIGHT = 15  # points per line of 11 pt text
HEADER_BG = "#DCE6F1"
GRIDLINES = {"visible": True, "line": {"color": "#D9D9D9"}}
RECOVERY_TITLE = "Tỷ lệ thu hồi tài sản theo năm / Asset recovery rates by year"
BORDER_COLOR = "#BFBFBF"


@dataclass(frozen=True)
class BuildInfo:
    """Where the extract came from: printed on every sheet and in the file properties."""

    period: ReportingPeriod
    built_at: datetime  # timezone-aware
    dbt_invocation_id: str | None
    content_sha256: str


class _Formats:
    """One Format object per distinct look (xlsxwriter wants them shared, not per cell)."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self._cache: dict[tuple[str, str], Format] = {}
        self.title = wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F3864"})
        self.period = wb.add_format({"bold": True, "font_size": 11})
        self.note = wb.add_format({"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"})
        self.build = wb.add_format({"font_color": "#595959", "font_size": 9})
        self.header = wb.add_format(
            {
                "bold": True,
                "text_wrap": True,
                "valign": "vcenter",
                "align": "center",
                "bg_color": HEADER_BG,
                "border": 1,
                "border_color": BORDER_COLOR,
            }
        )
        self.met = wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
        self.not_met = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})

    def cell(self, column: Column, unit: str | None) -> Format:
        if column.kind == "value":
            num = VALUE_FORMATS.get(unit or "", "General")
        elif column.kind == "change":
            num = CHANGE_FORMATS.get(unit or "", CHANGE_DEFAULT)
        else:
            num = KIND_FORMATS.get(column.kind, "@" if column.kind in ("code", "text", "longtext") else "General")
        key = (column.kind, num)
        if key not in self._cache:
            props: dict[str, Any] = {"num_format": num, "border": 1, "border_color": BORDER_COLOR, "valign": "top"}
            if column.kind in ("longtext", "text"):
                props["text_wrap"] = True
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]


def _display_length(column: Column, value: Any, unit: str | None) -> int:
    """About how many characters a value takes once formatted (for column widths)."""
    if value is None:
        return 0
    if isinstance(value, str):
        return max((len(line) for line in value.splitlines()), default=0)
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, bool):
        return 5
    number = float(value)
    if not math.isfinite(number):
        return 6
    if (column.kind in ("value", "change") and unit == "ratio") or column.kind == "pct":
        return len(f"{number * 100:,.1f}") + 2
    decimals = 1 if unit in ("m2", "days") and column.kind in ("value", "change") else 0
    return len(f"{abs(number):,.{decimals}f}") + (2 if column.kind == "change" else 1)


def _widths(table: Table) -> list[int]:
    widths = []
    for i, column in enumerate(table.columns):
        parts = [column.header_vi, column.header_en]
        need = max(len(p) for p in parts) + 2
        for row in table.rows:
            need = max(need, _display_length(column, row.cells[i], row.unit) + 2)
        widths.append(min(max(need, 8), MAX_WIDTH.get(column.kind, 22)))
    return widths


def _wrapped_lines(text: str, width: int) -> int:
    """How many lines `text` takes when wrapped at spaces in a column `width` characters wide.

    Neither Excel nor LibreOffice recomputes row heights when opening a file, so the
    workbook sets them from this estimate.
    """
    usable = max(int((width - 1) * 1.2), 4)  # text is narrower than the `0` a width unit is
    lines = 0
    for paragraph in text.splitlines() or [""]:
        n, current = 1, 0
        for word in paragraph.split(" "):
            length = len(word)
            if current and current + 1 + length > usable:
                n, current = n + 1, length
            else:
                current += (1 if current else 0) + length
            while current > usable:  # a word longer than the column breaks anywhere
                n, current = n + 1, current - usable
        lines += n
    return max(lines, 1)


def _header_lines(table: Table, widths: list[int]) -> int:
    return max(_wrapped_lines(c.header, w) for c, w in zip(table.columns, widths, strict=True))


def _row_lines(table: Table, widths: list[int], cells: tuple[Any, ...]) -> int:
    lines = 1
    for column, width, value in zip(table.columns, widths, cells, strict=True):
        if column.kind in ("longtext", "text") and isinstance(value, str):
            lines = max(lines, _wrapped_lines(value, width))
    return lines


def _write_cell(ws: Worksheet, row: int, col: int, value: Any, fmt: Format) -> None:
    """Write one cell by its Python type; strings can never become formulas."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, datetime | date):
        ws.write_datetime(row, col, value, fmt)
    elif isinstance(value, int | float | Decimal):
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _escape_header_footer(text: str) -> str:
    return text.replace("&", "&&")


def _write_table(wb: Workbook, ws: Worksheet, fmts: _Formats, table: Table, info: BuildInfo) -> int:
    """Title block, header and rows; returns the last row used."""
    ncols = len(table.columns)
    widths = _widths(table)
    for i, width in enumerate(widths):
        ws.set_column(i, i, width)
    total_width = sum(widths)

    ws.write_string(TITLE_ROW, 0, table.title, fmts.title)
    ws.write_string(PERIOD_ROW, 0, period_line(info.period), fmts.period)
    if ncols > 1:
        ws.merge_range(NOTE_ROW, 0, NOTE_ROW, ncols - 1, "", fmts.note)
    ws.write_string(NOTE_ROW, 0, table.note, fmts.note)
    ws.set_row(NOTE_ROW, LINE_HEIGHT * _wrapped_lines(table.note, total_width) + 2)
    built = local_time(info.built_at)
    assert built is not None
    ws.write_string(
        BUILD_ROW,
        0,
        f"Lập lúc / Built: {built:%d/%m/%Y %H:%M} (UTC+7) · dbt run: {info.dbt_invocation_id or '—'} "
        f"· SHA-256 dữ liệu / data: {info.content_sha256[:16]}",
        fmts.build,
    )

    for i, column in enumerate(table.columns):
        ws.write_string(HEADER_ROW, i, column.header, fmts.header)
    ws.set_row(HEADER_ROW, LINE_HEIGHT * _header_lines(table, widths) + 3)

    for r, row in enumerate(table.rows, start=FIRST_DATA_ROW):
        lines = _row_lines(table, widths, row.cells)
        if lines > 1:
            ws.set_row(r, LINE_HEIGHT * lines + 2)
        for c, (column, value) in enumerate(zip(table.columns, row.cells, strict=True)):
            _write_cell(ws, r, c, value, fmts.cell(column, row.unit))
    last_row = HEADER_ROW + len(table.rows)

    ws.freeze_panes(FIRST_DATA_ROW, table.freeze_columns)
    ws.autofilter(HEADER_ROW, 0, max(last_row, HEADER_ROW), ncols - 1)

    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(HEADER_ROW)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_header(
        f"&L&8PCTN Thanh Hóa&C&8{_escape_header_footer(table.title)}"
        f"&R&8Kỳ / Period {_escape_header_footer(info.period.code)}"
    )
    ws.set_footer(f"&L&8Lập / Built {built:%d/%m/%Y %H:%M}&R&8Trang / Page &P/&N")
    return last_row


def _add_target_highlight(ws: Worksheet, fmts: _Formats, table: Table) -> None:
    if not table.rows or "target_met" not in {c.key for c in table.columns}:
        return
    col = table.column_index("target_met")
    last = HEADER_ROW + len(table.rows)
    ws.conditional_format(
        FIRST_DATA_ROW, col, last, col, {"type": "text", "criteria": "begins with", "value": "Đạt", "format": fmts.met}
    )
    ws.conditional_format(
        FIRST_DATA_ROW,
        col,
        last,
        col,
        {"type": "text", "criteria": "begins with", "value": "Chưa", "format": fmts.not_met},
    )


def _trend_series(trends: Table, tag: str) -> list[tuple[int, str]]:
    return [(FIRST_DATA_ROW + i, row.cells[1] or row.cells[0]) for i, row in enumerate(trends.rows) if tag in row.tags]


def _charts(wb: Workbook, trends: Table) -> list[Any]:
    """Charts on the Trends data: recovery rates by year, and detection by channel (or in total)."""
    year_cols = [i for i, c in enumerate(trends.columns) if c.key.startswith("y")]
    if not year_cols or not trends.rows:
        return []
    first_col, last_col = year_cols[0], year_cols[-1]
    sheet = trends.sheet_name
    categories = [sheet, HEADER_ROW, first_col, HEADER_ROW, last_col]
    charts = []

    recovery = _trend_series(trends, "recovery_rate")
    if recovery:
        chart = wb.add_chart({"type": "line"})
        for row, _name in recovery:
            chart.add_series(
                {
                    "name": [sheet, row, 1],
                    "categories": categories,
                    "values": [sheet, row, first_col, row, last_col],
                    "marker": {"type": "circle", "size": 6},
                    "data_labels": {"value": False},
                }
            )
        chart.set_title(
            {"name": "Tỷ lệ thu hồi tài sản theo năm / Asset recovery rates by year", "name_font": {"size": 11}}
        )
        chart.set_y_axis({"num_format": "0%", "min": 0, "major_gridlines": GRIDLINES})
        chart.set_x_axis({"name": "Năm / Year"})
        chart.set_legend({"position": "bottom", "font": {"size": 8}})
        charts.append(chart)

    channels = _trend_series(trends, "detection_channel")
    total = _trend_series(trends, "detection_total")
    if channels or total:
        chart = wb.add_chart({"type": "column", "subtype": "stacked"} if channels else {"type": "column"})
        for row, _name in channels or total:
            chart.add_series(
                {
                    "name": [sheet, row, 1],
                    "categories": categories,
                    "values": [sheet, row, first_col, row, last_col],
                    "data_labels": {"value": not channels},
                }
            )
        title = (
            "Vụ án khởi tố mới theo nguồn phát hiện / New cases by detection channel"
            if channels
            else "Phát hiện: vụ án khởi tố mới theo năm / Detection: new cases initiated by year"
        )
        chart.set_title({"name": title, "name_font": {"size": 11}})
        chart.set_y_axis({"num_format": "#,##0", "min": 0, "major_gridlines": GRIDLINES})
        chart.set_x_axis({"name": "Năm / Year"})
        chart.set_legend({"position": "bottom", "font": {"size": 8}} if channels else {"none": True})
        charts.append(chart)
    return charts


CHART_WIDTH, CHART_HEIGHT = 560, 320  # pixels, at least


def render_workbook(tables: list[Table], info: BuildInfo) -> bytes:
    """The workbook as bytes; identical inputs give identical bytes."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,
            "default_date_format": "dd/mm/yyyy",
        },
    )
    created = info.built_at.astimezone(UTC).replace(tzinfo=None)
    code = info.period.code
    wb.set_properties(
        {
            "title": f"Chỉ tiêu PCTN tỉnh Thanh Hóa, kỳ {code} / Anti-corruption indicators, {code}",
            "subject": "Chiến lược quốc gia PCTN đến 2030, Kế hoạch 53/KH-UBND / National anti-corruption strategy",
            "author": "Nền tảng dữ liệu PCTN / PCTN data platform",
            "company": "Thanh tra tỉnh Thanh Hóa / Thanh Hóa provincial Inspectorate",
            "keywords": f"PCTN, {info.period.code}",
            "comments": f"dbt run {info.dbt_invocation_id or '-'}; data SHA-256 {info.content_sha256}",
            "created": created,
        }
    )
    wb.set_custom_property("period_code", info.period.code)
    wb.set_custom_property("content_sha256", info.content_sha256)
    if info.dbt_invocation_id:
        wb.set_custom_property("dbt_invocation_id", info.dbt_invocation_id)

    fmts = _Formats(wb)
    sheets = {t.slug: wb.add_worksheet(t.sheet_name) for t in tables}
    last_rows = {t.slug: _write_table(wb, sheets[t.slug], fmts, t, info) for t in tables}

    summary = tables[0]
    ws = sheets[summary.slug]
    ws.set_tab_color("#1F3864")
    _add_target_highlight(ws, fmts, summary)
    trends = next((t for t in tables if t.slug == "trends"), None)
    charts = _charts(wb, trends) if trends else []
    chart_row = last_rows[summary.slug] + 2
    # two charts side by side across the table's width, so they print as large as the table
    table_px = sum(int(w * 7 + 5) for w in _widths(summary))
    width = max(CHART_WIDTH, (table_px - 30) // 2)
    height = max(CHART_HEIGHT, int(width * 0.55))
    for i, chart in enumerate(charts):
        chart.set_size({"width": width, "height": height})
        ws.insert_chart(chart_row, 0, chart, {"x_offset": 10 + i * (width + 10), "y_offset": 5})
    if charts:
        chart_rows = math.ceil((height + 20) / 20)
        ws.print_area(0, 0, chart_row + chart_rows, len(summary.columns) - 1)
        ws.set_h_pagebreaks([chart_row])  # the charts print together on their own page
    ws.activate()
    wb.close()
    return buffer.getvalue()
