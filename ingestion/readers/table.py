"""Find the table inside a return file: title lines, the header row, data rows.

Official forms put title lines above the table (`Đơn vị báo cáo: …`,
`Kỳ báo cáo: …`), sometimes a row of column numbers `(1) (2) …` under the header,
a totals row (`Tổng cộng`) and signature lines below. This module turns CSV and
XLSX files into the same `SheetTable` so the rest of the intake never cares which
format a unit sent. Cells keep their native types (Excel dates and numbers) so
the value parsers can use them rather than re-parse their text.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from ingestion.contract.sources import Source
from ingestion.problems import Rejection
from ingestion.readers.encodings import EncodingError, decode_bytes, repair_many
from ingestion.readers.values import Cell, clean_text, fold

HEADER_SCAN_ROWS = 40
_COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")
_TOTALS = ("tong cong", "tong so", "cong", "total", "grand total")
_FOOTER = ("nguoi lap bieu", "thu truong", "ky ten", "(ky", "ky, ghi ro", "ngay thang nam", "xac nhan", "prepared by")
# "Thanh Hóa, ngày 18 tháng 03 năm 2023": the place-and-date line above the signatures
_PLACE_DATE = re.compile(r"\bngay\s*\d{0,2}\s*thang\s*\d{0,2}\s*nam\s*\d{0,4}\s*$")
_UNIT_IN_TITLE = re.compile(r"don vi bao cao\s*:?\s*(.*)$")
_PERIOD_IN_TITLE = re.compile(r"ky bao cao\s*:?\s*(.*)$")
_UNIT_CODE = re.compile(r"\b([A-Z]{2,5}-[A-Z0-9]+(?:-[A-Z0-9]+)*)\b")
_PERIOD_CODE = re.compile(r"\b(\d{4}-(?:Q[1-4]|6M|9M|Y))\b")


@dataclass
class SheetTable:
    """The table of one return, with each data row's number as the sender sees it."""

    header: list[str]
    header_row_number: int
    rows: list[tuple[int, list[Cell]]]
    title_unit: str | None = None
    title_period: str | None = None
    encoding: str | None = None
    legacy_repair: str | None = None
    notes: list[str] = field(default_factory=list)


def header_key(text: str) -> str:
    """How headers are compared: NFC, case- and whitespace-insensitive (line breaks too)."""
    return " ".join((clean_text(text) or "").casefold().split())


def header_index(source: Source) -> dict[str, str]:
    """Every accepted spelling of every header -> contract column name."""
    index: dict[str, str] = {}
    for col in source.columns:
        for spelling in (col.header_vi, col.name, *col.aliases):
            index[header_key(spelling)] = col.name
            index[fold(spelling)] = col.name
    return index


def match_header(text: Cell, index: dict[str, str]) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    key = header_key(text)
    return index.get(key) or index.get(fold(key))


def read_table(data: bytes, extension: str, source: Source) -> SheetTable:
    """Read a CSV or XLSX return into a `SheetTable`, or reject the file."""
    if extension == "csv":
        try:
            decoded = decode_bytes(data)
        except EncodingError as exc:
            raise Rejection("bad_encoding", exc.reason_vi, exc.reason_en) from exc
        grid = _csv_rows(decoded.text)
        table = _locate(grid, source)
        table.encoding = decoded.encoding
        table.legacy_repair = decoded.repaired
        return table
    grid, scheme = _xlsx_rows(data)
    table = _locate(grid, source)
    table.legacy_repair = scheme
    return table


def _csv_rows(text: str) -> list[tuple[int, list[Cell]]]:
    sample = "\n".join(text.splitlines()[:HEADER_SCAN_ROWS])
    delimiter = max((",", ";", "\t"), key=sample.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[Cell]]] = []
    start = 1
    try:
        for record in reader:
            rows.append((start, [cell if cell != "" else None for cell in record]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise Rejection(
            "unreadable",
            f"Tệp CSV bị lỗi cấu trúc ở dòng {reader.line_num}: {exc}",
            f"The CSV is malformed at line {reader.line_num}: {exc}",
        ) from exc
    return rows


def _xlsx_rows(data: bytes) -> tuple[list[tuple[int, list[Cell]]], str | None]:
    """The sheet's grid with legacy TCVN3/VNI text repaired, decided once for the whole sheet."""
    from python_calamine import CalamineWorkbook  # local: only xlsx returns need it

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        grid = sheet.to_python(skip_empty_area=False)
    except (zipfile.BadZipFile, ValueError, OSError, Exception) as exc:  # calamine raises its own error types
        raise Rejection(
            "unreadable",
            f"Không mở được tệp Excel (.xlsx): {type(exc).__name__}: {exc}",
            f"The Excel (.xlsx) file cannot be opened: {type(exc).__name__}: {exc}",
        ) from exc
    # Legacy TCVN3/VNI text read from xlsx is Latin-1 only; a cell with any character
    # above U+00FF is genuine Unicode and needs no look (most cells, on big files).
    texts = list(
        {cell for row in grid for cell in row if isinstance(cell, str) and not cell.isascii() and max(cell) <= "\xff"}
    )
    repaired, scheme = repair_many(texts)
    fixed = dict(zip(texts, repaired, strict=True)) if scheme else {}
    rows = [
        (i + 1, [None if cell == "" else fixed.get(cell, cell) if isinstance(cell, str) else cell for cell in row])
        for i, row in enumerate(grid)
    ]
    return rows, scheme


def _is_blank(cells: Sequence[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


_TOTALS_INITIALS = {"t", "c", "g"}


def _is_totals(lead: str) -> bool:
    return lead in _TOTALS or any(lead.startswith((word + " ", word + ":")) for word in _TOTALS[:2])


def _is_footer(cells: Sequence[Cell]) -> bool:
    """Signature block: a sparse row with a text cell that starts like one, or the place-and-date line.

    Only sparse rows count (signature lines fill a few cells; records fill many), so
    an inspection titled "Xác nhận …" is never mistaken for the footer.
    """
    filled = []
    for c in cells:
        if c is not None and (not isinstance(c, str) or c.strip()):
            filled.append(c)
            if len(filled) > 4:
                return False
    for cell in filled:
        if isinstance(cell, str) and cell.strip():
            text = fold(cell)
            if text.startswith(_FOOTER) or _PLACE_DATE.search(text):
                return True
    return False


def _locate(grid: list[tuple[int, list[Cell]]], source: Source) -> SheetTable:
    index = header_index(source)
    best: tuple[int, int] | None = None  # (matches, position in grid)
    for pos, (_, cells) in enumerate(grid[:HEADER_SCAN_ROWS]):
        matches = len({m for m in (match_header(c, index) for c in cells) if m})
        if matches >= 2 and (best is None or matches > best[0]):
            best = (matches, pos)
    if best is None:
        required = ", ".join(c.header_vi for c in source.required)
        raise Rejection(
            "missing_columns",
            f"Không tìm thấy dòng tiêu đề cột của biểu {source.code}; cần các cột: {required}",
            f"No header row of a {source.code} return was found; required columns: {required}",
        )
    header_pos = best[1]
    header_row_number, header_cells = grid[header_pos]
    header = [clean_text(c) or "" if c is not None else "" for c in header_cells]

    table = SheetTable(header=header, header_row_number=header_row_number, rows=[])
    for _, cells in grid[:header_pos]:
        for cell in cells:
            if not isinstance(cell, str):
                continue
            text = clean_text(cell) or ""
            folded = fold(text)
            if _UNIT_IN_TITLE.search(folded) and (code := _UNIT_CODE.search(text)):
                table.title_unit = code.group(1)
            if _PERIOD_IN_TITLE.search(folded) and (code := _PERIOD_CODE.search(text)):
                table.title_period = code.group(1)

    body = grid[header_pos + 1 :]
    # a header merged over two rows leaves a blank row; then maybe the (1) (2) (3) row
    lead_blank = 0
    while lead_blank < min(len(body), 3) and _is_blank(body[lead_blank][1]):
        lead_blank += 1
    if lead_blank < len(body):
        first = [c for c in body[lead_blank][1] if c is not None and str(c).strip()]
        if len(first) >= 2 and all(_COLUMN_NUMBER.match(str(c).strip()) for c in first):
            body = body[lead_blank + 1 :]
    width = len(header)
    for row_number, cells in body:
        first = next((c for c in cells if c is not None and (not isinstance(c, str) or c.strip())), None)
        if first is None:
            continue
        # only a row led by text starting like "Tổng"/"Cộng"/"Total" or a sparse row can be
        # a totals or footer row; checking that first keeps a million-row file fast
        if isinstance(first, str) and first.lstrip()[:1].lower() in _TOTALS_INITIALS and _is_totals(fold(first)):
            table.notes.append(f"row {row_number}: totals row skipped")
            continue
        if _is_footer(cells):
            break
        padded = (list(cells) + [None] * width)[:width] if len(cells) < width else list(cells)
        table.rows.append((row_number, padded))
    return table
