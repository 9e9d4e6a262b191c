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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ingestion.extract.queries import ReportingPeriod
from ingestion.extract.sheets import Block, Cell, Column, Table, TableRow, local_time, period_line, period_title

TITLE_ROW, PERIOD_ROW, NOTE_ROW, BUILD_ROW = 0, 1, 2, 3
HEADER_ROW = 5  # row 4 stays empty between the title block and the table
FIRST_DATA_ROW = HEADER_ROW + 1

ISSUER = "THANH TRA TỈNH THANH HÓA"
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
DOCUMENT_NUMBER = "Số: …/BC-TTr"
PLACE = "Thanh Hóa"
SIGNERS = (
    ("NGƯỜI LẬP BIỂU", "Prepared by", "(Ký, ghi rõ họ tên / Signature and full name)"),
    ("CHÁNH THANH TRA", "Chief Inspector", "(Ký, ghi rõ họ tên, đóng dấu / Signature, full name and seal)"),
)
# A4 landscape with the margins below, in points: what one printed page holds.
PAGE_WIDTH_PT, PAGE_HEIGHT_PT = 842 - 2 * 0.4 * 72, 595 - 2 * 0.6 * 72 - 10

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
    "points": "+0.0;-0.0;0.0",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
}
MAX_WIDTH = {"longtext": 40, "text": 22, "code": 34}
LINE_HEIGHT = 15  # points per line of 11 pt text
HEADER_BG = "#DCE6F1"
GRIDLINES = {"visible": True, "line": {"color": "#D9D9D9"}}
BORDER_COLOR = "#BFBFBF"


def document_date(built: datetime) -> str:
    """`Thanh Hóa, ngày 06 tháng 01 năm 2026`: day below 10 and month below 3 take a zero (Decree 30/2020)."""
    day = f"{built.day:02d}" if built.day < 10 else str(built.day)
    month = f"{built.month:02d}" if built.month < 3 else str(built.month)
    return f"{PLACE}, ngày {day} tháng {month} năm {built.year}"


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
        self._cache: dict[tuple[str, str, bool], Format] = {}
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
        center = {"align": "center", "valign": "vcenter"}
        self.heading_bold = wb.add_format({"bold": True, **center})
        self.heading_motto = wb.add_format({"bold": True, "underline": True, **center})
        self.heading = wb.add_format(center)
        self.heading_italic = wb.add_format({"italic": True, **center})
        self.doc_title = wb.add_format({"bold": True, "font_size": 14, **center})
        self.doc_subtitle = wb.add_format({"bold": True, "text_wrap": True, **center})
        self.doc_english = wb.add_format({"italic": True, "font_color": "#595959", "text_wrap": True, **center})
        self.section = wb.add_format(
            {"bold": True, "bg_color": "#F2F2F2", "border": 1, "border_color": BORDER_COLOR, "valign": "top"}
        )
        self.block_title = wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F3864"})
        self.empty = wb.add_format(
            {"italic": True, "align": "center", "border": 1, "border_color": BORDER_COLOR, "font_color": "#595959"}
        )
        self.not_met = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})

    def cell(self, column: Column, unit: str | None, bold: bool = False) -> Format:
        if column.kind == "value":
            num = VALUE_FORMATS.get(unit or "", "General")
        elif column.kind == "change":
            num = CHANGE_FORMATS.get(unit or "", CHANGE_DEFAULT)
        else:
            num = KIND_FORMATS.get(column.kind, "@" if column.kind in ("code", "text", "longtext") else "General")
        key = (column.kind, num, bold)
        if key not in self._cache:
            props: dict[str, Any] = {"num_format": num, "border": 1, "border_color": BORDER_COLOR, "valign": "top"}
            if column.kind in ("longtext", "text"):
                props["text_wrap"] = True
            if bold:
                props["bold"] = True
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
    if (column.kind in ("value", "change") and unit == "ratio") or column.kind in ("pct", "points"):
        return len(f"{number * 100:,.1f}") + 2
    decimals = 1 if unit in ("m2", "days") and column.kind in ("value", "change") else 0
    return len(f"{abs(number):,.{decimals}f}") + (2 if column.kind == "change" else 1)


def _column_width(column: Column, cells: list[tuple[Any, str | None]]) -> int:
    need = max(len(p) for p in (column.header_vi, column.header_en)) + 2
    for value, unit in cells:
        need = max(need, _display_length(column, value, unit) + 3)
    return min(max(need, 8), MAX_WIDTH.get(column.kind, 20))


def _widths(table: Table) -> list[int]:
    return [
        _column_width(column, [(row.cells[i], row.unit) for row in table.rows])
        for i, column in enumerate(table.columns)
    ]


def _block_widths(blocks: list[Block]) -> list[int]:
    """One width per column index, wide enough for that column in every block."""
    widths: list[int] = []
    for block in blocks:
        for i, column in enumerate(block.columns):
            unit = block.units[i] if i < len(block.units) else None
            w = _column_width(column, [(row.cells[i], unit) for row in block.rows])
            if column.super_header:
                w = max(w, 11)
            if i < len(widths):
                widths[i] = max(widths[i], w)
            else:
                widths.append(w)
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


def _print_setup(ws: Worksheet, title: str, info: BuildInfo, built: datetime) -> None:
    """A4 landscape, one page wide, period and page number in the margins."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_header(
        f"&L&8{ISSUER}&C&8{_escape_header_footer(title)}&R&8Kỳ / Period {_escape_header_footer(info.period.code)}"
    )
    ws.set_footer(f"&L&8Lập / Built {built:%d/%m/%Y %H:%M}&R&8Trang / Page &P/&N")


def _build_line(info: BuildInfo, built: datetime) -> str:
    return (
        f"Lập lúc / Built: {built:%d/%m/%Y %H:%M} (UTC+7) · dbt run: {info.dbt_invocation_id or '—'} "
        f"· SHA-256 dữ liệu / data: {info.content_sha256[:16]}"
    )


def _merge_text(ws: Worksheet, row: int, first: int, last: int, text: str, fmt: Format) -> None:
    if last > first:
        ws.merge_range(row, first, row, last, text, fmt)
    else:
        ws.write_string(row, first, text, fmt)


def _document_heading(ws: Worksheet, fmts: _Formats, ncols: int, info: BuildInfo, built: datetime) -> int:
    """Issuer and number on the left, national name, motto and place-date on the right,
    then the title naming the period and its official dates; returns the next free row."""
    split = 1 if ncols > 3 else 0
    left_last, right_first, last = split, split + 1, ncols - 1
    _merge_text(ws, 0, 0, left_last, ISSUER, fmts.heading_bold)
    _merge_text(ws, 0, right_first, last, NATIONAL_NAME, fmts.heading_bold)
    _merge_text(ws, 1, 0, left_last, DOCUMENT_NUMBER, fmts.heading)
    _merge_text(ws, 1, right_first, last, NATIONAL_MOTTO, fmts.heading_motto)
    _merge_text(ws, 2, right_first, last, document_date(built), fmts.heading_italic)
    p = info.period
    _merge_text(ws, 4, 0, last, "BÁO CÁO", fmts.doc_title)
    _merge_text(
        ws,
        5,
        0,
        last,
        f"Số liệu thực hiện Chiến lược quốc gia phòng, chống tham nhũng, tiêu cực {period_title(p)} "
        "(Nghị quyết 168/NQ-CP, Kế hoạch 53/KH-UBND)",
        fmts.doc_subtitle,
    )
    ws.set_row(5, LINE_HEIGHT * 2 + 2)
    dates = f"từ ngày {p.start_date:%d/%m/%Y} đến ngày {p.end_date:%d/%m/%Y}"
    _merge_text(ws, 6, 0, last, f"(Kỳ báo cáo {p.code}: {dates})", fmts.heading_italic)
    _merge_text(
        ws,
        7,
        0,
        last,
        f"Anti-corruption strategy indicators, Thanh Hóa province, period {p.code} "
        f"({p.start_date:%d/%m/%Y} – {p.end_date:%d/%m/%Y}); issued by the provincial Inspectorate",
        fmts.doc_english,
    )
    ws.set_row(7, LINE_HEIGHT * 2 + 2)
    return 9


def _signature(ws: Worksheet, fmts: _Formats, row: int, ncols: int) -> int:
    """Người lập biểu on the left, Chánh Thanh tra on the right; returns the last row used."""
    split = 1 if ncols > 3 else 0
    for (title, english, hint), (first, last) in zip(SIGNERS, ((0, split), (split + 1, ncols - 1)), strict=True):
        _merge_text(ws, row, first, last, title, fmts.heading_bold)
        _merge_text(ws, row + 1, first, last, english, fmts.heading_italic)
        _merge_text(ws, row + 2, first, last, hint, fmts.heading_italic)
    return row + 5  # room to sign


def _visible(table: Table) -> list[int]:
    """Column indexes the sheet shows (a section column becomes heading rows instead)."""
    return [i for i, c in enumerate(table.columns) if c.key != table.section_key]


def _write_rows(ws: Worksheet, fmts: _Formats, table: Table, widths: list[int], header_row: int) -> int:
    """Header and rows of a plain table (with section rows); returns the last row used."""
    cols = _visible(table)
    ncols = len(cols)
    for out, i in enumerate(cols):
        ws.write_string(header_row, out, table.columns[i].header, fmts.header)
    ws.set_row(
        header_row,
        LINE_HEIGHT * max(_wrapped_lines(table.columns[i].header, w) for i, w in zip(cols, widths, strict=True)) + 3,
    )
    r = header_row
    if not table.rows:
        r += 1
        _merge_text(ws, r, 0, ncols - 1, table.empty_text, fmts.empty)
        return r
    section_at = table.column_index(table.section_key) if table.section_key else None
    current: Any = object()
    for row in table.rows:
        if section_at is not None and row.cells[section_at] != current:
            current = row.cells[section_at]
            r += 1
            _merge_text(ws, r, 0, ncols - 1, str(current or ""), fmts.section)
        r += 1
        cells = tuple(row.cells[i] for i in cols)
        lines = 1
        for i, w, value in zip(cols, widths, cells, strict=True):
            if table.columns[i].kind in ("longtext", "text") and isinstance(value, str):
                lines = max(lines, _wrapped_lines(value, w))
        if lines > 1:
            ws.set_row(r, LINE_HEIGHT * lines + 2)
        bold = "total" in row.tags
        for out, (i, value) in enumerate(zip(cols, cells, strict=True)):
            _write_cell(ws, r, out, value, fmts.cell(table.columns[i], row.unit, bold))
    return r


def _block_height(block: Block, widths: list[int]) -> float:
    """Points the block takes: title, two header rows, rows (same estimates as written)."""
    height = LINE_HEIGHT * 2 + _block_header_height(block, widths) + LINE_HEIGHT + 3
    for row in block.rows:
        height += _block_row_height(block, widths, row)
    return height


def _header_spans(cols: Sequence[Column]) -> Iterator[tuple[int, int, str | None]]:
    """(first, last, super header) of each run of columns under one super header; a column without one alone."""
    i = 0
    while i < len(cols):
        c = cols[i]
        j = i
        if c.super_header:
            while j + 1 < len(cols) and cols[j + 1].super_header == c.super_header:
                j += 1
        yield i, j, c.super_header or None
        i = j + 1


def _block_header_height(block: Block, widths: list[int]) -> float:
    lines = 1
    for i, j, super_header in _header_spans(block.columns):
        if super_header:
            lines = max(lines, _wrapped_lines(super_header, sum(widths[i : j + 1])))
    return LINE_HEIGHT * lines + 3


def _block_row_height(block: Block, widths: list[int], row: TableRow) -> float:
    lines = 1
    for column, w, value in zip(block.columns, widths, row.cells, strict=False):
        if column.kind in ("longtext", "text") and isinstance(value, str):
            lines = max(lines, _wrapped_lines(value, w))
    return LINE_HEIGHT * lines + 2 if lines > 1 else LINE_HEIGHT


def _write_blocks(ws: Worksheet, fmts: _Formats, table: Table, widths: list[int], first_row: int) -> int:
    """Each block: title, an indicator heading merged over its columns, sub-headings, rows.

    A block never starts on a page where it would not fit: a page break goes before it
    (the estimate uses the fit-to-width scale the sheet prints at).
    """
    assert table.blocks is not None
    width_pt = sum((w * 7 + 5) * 0.75 for w in widths)
    scale = min(1.0, PAGE_WIDTH_PT / width_pt) if width_pt else 1.0
    page_height = PAGE_HEIGHT_PT / scale
    used: float = sum(LINE_HEIGHT for _ in range(first_row)) + 3 * LINE_HEIGHT  # title block rows, note
    breaks: list[int] = []
    r = first_row - 1
    if not table.blocks:
        _merge_text(ws, first_row, 0, max(len(widths), 1) - 1, table.empty_text, fmts.empty)
        return first_row
    for block in table.blocks:
        height = _block_height(block, widths)
        if used + height > page_height and used > 0 and r > first_row:
            breaks.append(r + 1)
            used = 0.0
        used += height
        r += 1
        ws.write_string(r, 0, block.title, fmts.block_title)
        ws.set_row(r, LINE_HEIGHT + 5)
        r += 1
        top, sub = r, r + 1
        cols = block.columns
        for i, j, super_header in _header_spans(cols):
            if super_header:
                _merge_text(ws, top, i, j, super_header, fmts.header)
                for k in range(i, j + 1):
                    ws.write_string(sub, k, cols[k].header, fmts.header)
            else:
                ws.merge_range(top, i, sub, i, cols[i].header, fmts.header)
        ws.set_row(top, _block_header_height(block, widths))
        r = sub
        for row in block.rows:
            r += 1
            h = _block_row_height(block, widths, row)
            if h > LINE_HEIGHT:
                ws.set_row(r, h)
            bold = "total" in row.tags
            for k, (column, value) in enumerate(zip(cols, row.cells, strict=True)):
                unit = block.units[k] if k < len(block.units) else None
                _write_cell(ws, r, k, value, fmts.cell(column, unit, bold))
        r += 1  # an empty row between blocks
        used += LINE_HEIGHT
    if breaks:
        ws.set_h_pagebreaks(breaks)
    return r


def _write_table(
    wb: Workbook, ws: Worksheet, fmts: _Formats, table: Table, info: BuildInfo, *, document: bool
) -> tuple[int, int]:
    """Heading (the document's on the first sheet), then the table or its blocks.

    Returns the header row and the last row used."""
    if table.blocks is not None:
        widths = _block_widths(table.blocks) or [40]
    else:
        all_widths = _widths(table)
        widths = [all_widths[i] for i in _visible(table)]
    ncols = len(widths)
    for i, width in enumerate(widths):
        ws.set_column(i, i, width)
    total_width = sum(widths)
    built = local_time(info.built_at)
    assert built is not None

    if document:
        row = _document_heading(ws, fmts, ncols, info, built)
        ws.write_string(row, 0, table.title, fmts.period)
        row += 1
    else:
        ws.write_string(TITLE_ROW, 0, table.title, fmts.title)
        ws.write_string(PERIOD_ROW, 0, period_line(info.period), fmts.period)
        row = NOTE_ROW
    _merge_text(ws, row, 0, ncols - 1, table.note, fmts.note)
    ws.set_row(row, LINE_HEIGHT * _wrapped_lines(table.note, total_width) + 2)
    ws.write_string(row + 1, 0, _build_line(info, built), fmts.build)
    header_row = row + 3

    if table.blocks is not None:
        last_row = _write_blocks(ws, fmts, table, widths, header_row)
    else:
        last_row = _write_rows(ws, fmts, table, widths, header_row)
        ws.freeze_panes(header_row + 1, table.freeze_columns)
        ws.repeat_rows(header_row)
        if table.rows and not table.section_key:
            ws.autofilter(header_row, 0, last_row, ncols - 1)
    _print_setup(ws, table.title, info, built)
    if document:
        last_row = _signature(ws, fmts, last_row + 2, ncols)
        ws.fit_to_pages(1, 1)  # the document page: heading, headline table and signatures on one sheet of paper
    return header_row, last_row


def _add_target_highlight(ws: Worksheet, fmts: _Formats, table: Table, header_row: int, last_row: int) -> None:
    if not table.rows or "target_met" not in {c.key for c in table.columns}:
        return
    col = _visible(table).index(table.column_index("target_met"))
    for value, fmt in (("Đạt", fmts.met), ("Chưa", fmts.not_met)):
        ws.conditional_format(
            header_row + 1,
            col,
            last_row,
            col,
            {"type": "text", "criteria": "begins with", "value": value, "format": fmt},
        )


def _trend_series(trends: Table, tag: str) -> list[tuple[int, Cell]]:
    return [(FIRST_DATA_ROW + i, row.cells[0]) for i, row in enumerate(trends.rows) if tag in row.tags]


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
                    "name": [sheet, row, 0],
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
                    "name": [sheet, row, 0],
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
        legend: dict[str, Any] = {"position": "bottom", "font": {"size": 8}} if channels else {"none": True}
        chart.set_legend(legend)
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
    positions = {
        t.slug: _write_table(wb, sheets[t.slug], fmts, t, info, document=(i == 0)) for i, t in enumerate(tables)
    }

    summary = tables[0]
    ws = sheets[summary.slug]
    ws.set_tab_color("#1F3864")
    _add_target_highlight(ws, fmts, summary, *positions[summary.slug])
    trends = next((t for t in tables if t.slug == "trends"), None)
    if trends is not None:
        _place_charts(wb, sheets[trends.slug], trends, positions[trends.slug][1])
    ws.activate()
    wb.close()
    return buffer.getvalue()


def _place_charts(wb: Workbook, ws: Worksheet, trends: Table, last_row: int) -> None:
    """The charts below the Trends table, side by side, on a page of their own."""
    charts = _charts(wb, trends)
    if not charts:
        return
    chart_row = last_row + 2
    table_px = sum(int(w * 7 + 5) for w in _widths(trends))
    width = max(CHART_WIDTH, (table_px - 30) // 2)
    height = max(CHART_HEIGHT, int(width * 0.55))
    for i, chart in enumerate(charts):
        chart.set_size({"width": width, "height": height})
        ws.insert_chart(chart_row, 0, chart, {"x_offset": 10 + i * (width + 10), "y_offset": 5})
    chart_rows = math.ceil((height + 20) / 20)
    ws.print_area(0, 0, chart_row + chart_rows, len(trends.columns) - 1)
    ws.set_h_pagebreaks([chart_row])
