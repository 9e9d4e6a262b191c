"""Find the table inside a return file: title lines, the header row, and every row below it.

Official forms put title lines above the table (`Đơn vị báo cáo: …`,
`Kỳ báo cáo: …`), sometimes a row of column numbers `(1) (2) …` under the header,
a totals row (`Tổng cộng`) and signature lines below. This module turns CSV and
XLSX files into the same `SheetTable` so the rest of the intake never cares which
format a unit sent. Cells keep their native types (Excel dates and numbers) so
the value parsers can use them rather than re-parse their text.

Nothing below the header is dropped: every non-blank row is either a data row
(loaded or quarantined later) or a `SkippedRow` with its kind and text, which the
warehouse keeps and the feedback lists. A footer does not end the table: a record
after a signature-like line is still a record.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from ingestion.contract.sources import Column, Source
from ingestion.intake.problems import Code, Rejection, SkippedKind, SkippedRow
from ingestion.intake.readers.encodings import EncodingError, decode_bytes, repair_many
from ingestion.intake.readers.limits import EXCEL_MAX_CELL_CHARS, ReaderLimits
from ingestion.intake.readers.precheck import check_file, column_number, too_large
from ingestion.intake.readers.values import Cell, clean_text, fold

HEADER_SCAN_ROWS = 40
SKIPPED_TEXT_CHARS = 500
_COLUMN_NUMBER = re.compile(r"^\(?\d{1,3}\)?$")
_TOTALS = re.compile(r"^(?:tong cong|tong so|tong|cong|total|grand total|sum)\b")
_FOOTER = ("nguoi lap bieu", "thu truong", "ky ten", "(ky", "ky, ghi ro", "ngay thang nam", "xac nhan", "prepared by")
_NOTES = ("ghi chu", "luu y", "chu thich", "note", "notes:", "*")
# "Thanh Hóa, ngày 18 tháng 03 năm 2023": the place-and-date line above the signatures
_PLACE_DATE = re.compile(r"\bngay\s*\d{0,2}\s*thang\s*\d{0,2}\s*nam\s*\d{0,4}\s*$")
_UNIT_IN_TITLE = re.compile(r"don vi bao cao\s*:?\s*(.*)$")
_PERIOD_IN_TITLE = re.compile(r"ky bao cao\s*:?\s*(.*)$")
_UNIT_CODE = re.compile(r"\b([A-Z]{2,5}-[A-Z0-9]+(?:-[A-Z0-9]+)*)\b")
_PERIOD_CODE = re.compile(r"\b(\d{4}-(?:Q[1-4]|6M|9M|Y))\b")
# a person-name column the contract does not list: "Họ và tên …", "Họ tên …", "… name(s)"
_NAME_LIKE = re.compile(
    r"\bho\s*(?:va|,)?\s*ten\b|\bten\s+(?:nguoi|bi can|bi cao|doi tuong|can bo|nhan chung)\b|"
    r"\b(?:full\s*)?names?\b|\bnguoi\s+(?:to cao|khieu nai|bi to cao)\b"
)
_ASCII_DIGIT = re.compile(r"[0-9]")
SPARSE_CELLS = 2  # a record fills at least its required columns; a note or signature line a cell or two
Grid = list[tuple[int, list[Cell]]]


@dataclass
class SheetTable:
    """The table of one return, with each data row's number as the sender sees it."""

    header: list[str]
    header_row_number: int
    rows: list[tuple[int, list[Cell]]]
    skipped: list[SkippedRow] = field(default_factory=list)
    title_unit: str | None = None
    title_period: str | None = None
    encoding: str | None = None
    legacy_repair: str | None = None
    sheet_name: str | None = None
    formula_cells: set[tuple[int, int]] = field(default_factory=set)  # (row number, 0-based column) without a value

    @property
    def rows_read(self) -> int:
        """Physical non-blank rows below the header: data rows + skipped rows."""
        return len(self.rows) + len(self.skipped)


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


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", fold(text)).split())


def personal_column(text: str, source: Source) -> str | None:
    """The contract's personal column a header means, under any common spelling.

    `Họ tên bị can`, `Họ và tên bị can`, `Tên bị can`, `Danh sách bị can`,
    `Accused names`…: a person word of the column's role with a name word.
    """
    plain = _plain(text)
    words = f" {plain} "
    for col in source.columns:
        if col.type != "personal":
            continue
        if any(f" {role} " in words for role in col.person_roles) and (
            " ten " in words
            or " name " in words
            or " names " in words
            or " danh sach " in words
            or plain in col.person_roles
        ):
            return col.name
    return None


def looks_like_names(text: str) -> bool:
    """A header that suggests names of persons (not a contract column): never stored in clear."""
    return bool(_NAME_LIKE.search(_plain(text)))


def match_header(text: Cell, index: dict[str, str], source: Source | None = None) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    key = header_key(text)
    found = index.get(key) or index.get(fold(key))
    if found is None and source is not None:
        found = personal_column(text, source)
    return found


class FileData:
    """A file's bytes handed to the reader to own: a CSV's bytes are dropped once its text is decoded.

    The caller that wraps its bytes in one and keeps no other reference spares the
    reader holding the file twice over (bytes and text: 0.2 + 0.4 GB for 1M rows).
    """

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data

    def peek(self) -> bytes:
        assert self._data is not None, "the bytes were taken already"
        return self._data

    def take(self) -> bytes:
        """The bytes, no longer held here."""
        data, self._data = self.peek(), None
        return data


def read_table(
    data: bytes | FileData, extension: str, source: Source, limits: ReaderLimits | None = None
) -> SheetTable:
    """Read a CSV or XLSX return into a `SheetTable`, or reject the file."""
    limits = limits or ReaderLimits.from_env()
    owned = data if isinstance(data, FileData) else FileData(data)
    del data
    check_file(owned.peek(), extension, limits)
    if extension == "csv":
        try:
            decoded = decode_bytes(owned.take())
        except EncodingError as exc:
            raise Rejection(Code.BAD_ENCODING, exc.reason_vi, exc.reason_en) from exc
        encoding, repaired = decoded.encoding, decoded.repaired
        pieces = text_pieces(decoded.text)
        del decoded  # the whole text (2-4 bytes a character) goes; its pieces go as the records are read
        grid = _csv_rows(pieces, limits)
        table = _locate(grid, source)
        table.encoding = encoding
        table.legacy_repair = repaired
        return table
    return _xlsx_table(owned.take(), source, limits)


# --- CSV -----------------------------------------------------------------------------


PIECE_CHARS = 1 << 20


def text_pieces(text: str, size: int = PIECE_CHARS) -> list[str]:
    """The text cut into pieces of about `size` characters, each ending just after a `\n`.

    A cut after `\n` is always between two lines (never inside a `\r\n`), so the
    pieces' lines are the text's lines. The CSV reader frees each piece once its
    lines are read: the whole text and the whole grid of cells are never held at once
    (for 1M rows ~0.4 GB and ~0.5 GB). A text shorter than `size` is its one piece (no copy).
    """
    pieces: list[str] = []
    start, end = 0, len(text)
    while start < end:
        cut = text.find("\n", start + size)
        stop = end if cut == -1 else cut + 1
        pieces.append(text[start:stop])
        start = stop
    return pieces


def _head_lines(pieces: list[str], count: int) -> list[str]:
    """The first `count` lines of the pieces' text as `str.splitlines` cuts them (enough pieces to hold them)."""
    taken: list[str] = []
    lines = 0
    for piece in pieces:  # each piece but the last ends with a line break: their line counts add up
        taken.append(piece)
        lines += len(piece.splitlines())
        if lines > count:
            break
    return "".join(taken).splitlines()[:count]


def _csv_rows(pieces: list[str], limits: ReaderLimits) -> Grid:
    """Records of a CSV with the line each starts on; broken quoting is a rejection, never a swallow.

    `strict` makes the csv module fail on a quote that closes mid-field or never
    closes; a record that does parse but hides whole lines of records inside one
    quoted cell (a quote left open that closes by luck further down) is caught by
    `_swallowed`. `pieces` (`text_pieces`) is emptied as its lines are read.
    """
    sample = "\n".join(_head_lines(pieces, HEADER_SCAN_ROWS))
    delimiter = max((",", ";", "\t"), key=sample.count)
    chars = sum(map(len, pieces))
    csv.field_size_limit(max(chars + 1, 1 << 20))  # the cell limit is checked below, with a clear reason
    reader = csv.reader(_lines(pieces), delimiter=delimiter, strict=True)
    shared: dict[str, str] = {}  # one object for a repeated cell (labels, dates, counts), bounded
    rows: Grid = []
    start = 1
    width = 0
    try:
        for record in reader:
            if len(rows) >= limits.max_rows:
                raise too_large(
                    "số dòng", "the row count", f"> {limits.max_rows:,}", f"{limits.max_rows:,}", "PCTN_MAX_ROWS"
                )
            if len(record) > limits.max_columns:
                raise too_large(
                    f"số cột ở dòng {start}",
                    f"the column count on line {start}",
                    f"{len(record):,}",
                    f"{limits.max_columns:,}",
                    "PCTN_MAX_COLUMNS",
                )
            # a record on one line has no line break in any cell: the per-cell look is needed only for a
            # record that spans lines or holds a cell over the limit (most records: neither)
            if reader.line_num != start or (record and max(map(len, record)) > limits.max_cell_chars):
                for pos, cell in enumerate(record):
                    if len(cell) > limits.max_cell_chars:
                        raise _cell_too_long(start, pos, len(cell), limits)
                    if "\n" in cell or "\r" in cell:
                        _swallowed(cell, delimiter, max(width, len(record)), start, reader.line_num)
            width = max(width, len(record))
            if len(shared) < SHARED_CELLS:
                rows.append((start, [shared.setdefault(cell, cell) if cell != "" else None for cell in record]))
            else:
                rows.append((start, [shared.get(cell, cell) if cell != "" else None for cell in record]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise Rejection(
            Code.UNREADABLE,
            f"Tệp CSV bị lỗi cấu trúc (dấu ngoặc kép hoặc ký tự lạ) ở bản ghi bắt đầu từ dòng {start}"
            f" (đọc đến dòng {reader.line_num}): {exc}. Không dòng nào được nạp; hãy sửa rồi gửi lại",
            f"The CSV is malformed (quotes or stray characters) in the record starting on line {start}"
            f" (read up to line {reader.line_num}): {exc}. No row was loaded; fix it and send it again",
        ) from exc
    return rows


# a line as `io.StringIO(text, newline="")` yields one: up to and with `\r\n`, `\r` or `\n` (untranslated)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
SHARED_CELLS = 200_000  # distinct cells kept as one shared object each; the rest are unique anyway


def _lines(pieces: list[str]) -> Iterator[str]:
    """The pieces' lines, one at a time, each piece dropped once read (a StringIO would copy the whole text)."""
    pieces.reverse()
    while pieces:
        piece = pieces.pop()
        yield from (m.group() for m in _LINE.finditer(piece))


def _swallowed(cell: str, delimiter: str, width: int, start: int, end: int) -> None:
    """Reject a quoted cell that holds whole records: a quote opened and closed by accident."""
    lines = cell.splitlines()
    needed = max(width - 1, 2)
    if len(lines) >= 2 and any(line.count(delimiter) >= needed for line in lines[1:]):
        raise Rejection(
            Code.UNREADABLE,
            f"Tệp CSV có dấu ngoặc kép mở ở dòng {start} không được đóng đúng chỗ: các dòng {start}–{end}"
            " bị gộp vào một ô. Không dòng nào được nạp; hãy sửa dấu ngoặc kép rồi gửi lại",
            f"The CSV has a quote opened on line {start} that is not closed where it should be: lines"
            f" {start}–{end} run into one cell. No row was loaded; fix the quote and send it again",
        )


def _cell_too_long(row_number: int, pos: int, length: int, limits: ReaderLimits) -> Rejection:
    shown = f"{length:,}" if length < EXCEL_MAX_CELL_CHARS else f"{length:,}+"
    return too_large(
        f"số ký tự của ô ở dòng {row_number}, cột {pos + 1}",
        f"the length of the cell on row {row_number}, column {pos + 1}",
        shown,
        f"{min(limits.max_cell_chars, EXCEL_MAX_CELL_CHARS - 1):,}",
        "PCTN_MAX_CELL_CHARS",
    )


# --- XLSX ----------------------------------------------------------------------------


def _xlsx_table(data: bytes, source: Source, limits: ReaderLimits) -> SheetTable:
    """The table from the one visible worksheet whose header is this source's; hidden sheets are never read."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum  # only xlsx returns need it

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        visible = [
            (i, meta.name)
            for i, meta in enumerate(workbook.sheets_metadata)
            if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet
        ]
        found: list[tuple[int, int, str, SheetTable]] = []  # (required present, matches, name, table)
        for i, name in visible:
            grid = workbook.get_sheet_by_index(i).to_python(skip_empty_area=False)
            rows, scheme = _xlsx_grid(grid, limits)
            located = _find_header(rows, source)
            if located is None:
                continue
            table = _locate(rows, source, located)
            table.sheet_name = name
            table.legacy_repair = scheme
            required = sum(1 for c in source.required if c.name in _present(table.header, source))
            found.append((required, located[0], name, table))
    except Rejection:
        raise
    except Exception as exc:  # calamine raises its own error types for damaged workbooks
        raise Rejection(
            Code.UNREADABLE,
            f"Không mở được tệp Excel (.xlsx): {type(exc).__name__}",
            f"The Excel (.xlsx) file cannot be opened: {type(exc).__name__}",
        ) from exc
    if not visible:
        raise Rejection(
            Code.MISSING_COLUMNS,
            "Tệp Excel không có trang tính nào đang hiển thị (các trang ẩn không được đọc)",
            "The workbook has no visible worksheet (hidden sheets are never read)",
        )
    if not found:
        raise _no_header(source)
    found.sort(key=lambda f: (f[0], f[1]), reverse=True)
    best = found[0]
    rivals = [f for f in found[1:] if f[0] == best[0] and (best[0] == len(source.required) or f[1] == best[1])]
    if rivals:
        names = ", ".join(f"'{f[2]}'" for f in [best, *rivals])
        raise Rejection(
            Code.AMBIGUOUS_SHEET,
            f"Có nhiều trang tính hiển thị cùng mang bảng của biểu {source.code} ({names}): không biết đọc trang nào."
            " Hãy để lại một trang rồi gửi lại",
            f"Several visible worksheets hold a {source.code} table ({names}): which one to read is unclear."
            " Keep one and send the file again",
        )
    table = best[3]
    table.formula_cells = _formula_cells_without_value(data, best[2])
    return table


def _xlsx_grid(grid: list[Any], limits: ReaderLimits) -> tuple[Grid, str | None]:
    """The sheet's rows with legacy TCVN3/VNI text repaired, decided once for the whole sheet.

    `grid` is calamine's list of row lists; it becomes the `Grid` in place, row by row.
    """
    if len(grid) > limits.max_rows:
        raise too_large("số dòng", "the row count", f"{len(grid):,}", f"{limits.max_rows:,}", "PCTN_MAX_ROWS")
    # calamine cuts a longer string to Excel's 32,767 characters without a word: a cell that long was
    # (almost surely) cut, so it is refused like a CSV cell over the limit rather than loaded truncated
    cap = min(limits.max_cell_chars, EXCEL_MAX_CELL_CHARS - 1)
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if isinstance(cell, str) and len(cell) > cap:
                raise _cell_too_long(r + 1, c, len(cell), limits)
    # Legacy TCVN3/VNI text read from xlsx is Latin-1 only; a cell with any character
    # above U+00FF is genuine Unicode and needs no look (most cells, on big files).
    texts = list(
        {cell for row in grid for cell in row if isinstance(cell, str) and not cell.isascii() and max(cell) <= "\xff"}
    )
    repaired, scheme = repair_many(texts)
    fixed = dict(zip(texts, repaired, strict=True)) if scheme else {}
    # in place: each of calamine's row lists is released as soon as its replacement exists (one grid, not two)
    rows: Grid = grid
    for i, row in enumerate(grid):
        if fixed:
            cells = [None if cell == "" else fixed.get(cell, cell) if isinstance(cell, str) else cell for cell in row]
        else:
            cells = [None if cell == "" else cell for cell in row]
        rows[i] = (i + 1, cells)
    return rows, scheme


_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})(\d+)"')
_VALUE = re.compile(rb"<v>\s*[^<\s]")
_SHEET_ENTRY = re.compile(
    rb'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]+)"|<sheet\b[^>]*?r:id="([^"]+)"[^>]*?name="([^"]*)"'
)
_REL = re.compile(
    rb'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"|<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"'
)
MAX_FORMULA_CELLS = 10_000


def _sheet_part(zf: zipfile.ZipFile, sheet_name: str) -> str | None:
    import html

    workbook = zf.read("xl/workbook.xml")
    rels = zf.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in zf.namelist() else b""
    targets = {}
    for m in _REL.finditer(rels):
        rid, target = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        targets[rid.decode()] = target.decode()
    for m in _SHEET_ENTRY.finditer(workbook):
        name, rid = (m.group(1), m.group(2)) if m.group(1) is not None else (m.group(4), m.group(3))
        if html.unescape(name.decode("utf-8", "replace")) == sheet_name:
            target = targets.get(rid.decode())
            if target is None:
                return None
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _formula_cells_without_value(data: bytes, sheet_name: str) -> set[tuple[int, int]]:
    """Cells that hold a formula Excel never calculated (no cached `<v>`): calamine reads them as blank.

    Found by scanning the sheet XML for `<f` and looking at the enclosing `<c>`
    element only, so a sheet without formulas costs one pass of `bytes.find`.
    """
    found: set[tuple[int, int]] = set()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            part = _sheet_part(zf, sheet_name)
            if part is None or part not in zf.namelist():
                return found
            xml = zf.read(part)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return found
    pos = xml.find(b"<f")
    while pos != -1 and len(found) < MAX_FORMULA_CELLS:
        start = xml.rfind(b"<c ", 0, pos)
        end = xml.find(b"</c>", pos)
        if start == -1 or end == -1:
            break
        element = xml[start:end]
        ref = _CELL_REF.match(element)
        if ref and not _VALUE.search(element):
            found.add((int(ref.group(2)), column_number(ref.group(1).decode()) - 1))
        pos = xml.find(b"<f", end)
    return found


# --- locating the table --------------------------------------------------------------


def _is_blank(cells: Sequence[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _filled(cells: Sequence[Cell]) -> list[tuple[int, Cell]]:
    return [(i, c) for i, c in enumerate(cells) if c is not None and (not isinstance(c, str) or c.strip())]


def _present(header: Sequence[str], source: Source) -> set[str]:
    index = header_index(source)
    return {m for m in (match_header(h, index, source) for h in header) if m}


def _find_header(grid: Grid, source: Source) -> tuple[int, int] | None:
    """(matches, position) of the row with the most contract headers, at least two."""
    index = header_index(source)
    best: tuple[int, int] | None = None
    for pos, (_, cells) in enumerate(grid[:HEADER_SCAN_ROWS]):
        matches = len({m for m in (match_header(c, index, source) for c in cells) if m})
        if matches >= 2 and (best is None or matches > best[0]):
            best = (matches, pos)
    return best


def _no_header(source: Source) -> Rejection:
    required = ", ".join(c.header_vi for c in source.required)
    return Rejection(
        Code.MISSING_COLUMNS,
        f"Không tìm thấy dòng tiêu đề cột của biểu {source.code}; cần các cột: {required}",
        f"No header row of a {source.code} return was found; required columns: {required}",
    )


NAME_HIDDEN = "«tên đã ẩn / name hidden»"


def row_text(cells: Sequence[Cell], hidden: AbstractSet[int] = frozenset()) -> str:
    """A skipped row as the sender wrote it, cells joined, bounded; cells under a names column hidden."""
    text = " | ".join(NAME_HIDDEN if i in hidden else clean_text(c) or "" for i, c in _filled(cells))
    return text if len(text) <= SKIPPED_TEXT_CHARS else text[: SKIPPED_TEXT_CHARS - 1] + "…"


def _locate(grid: Grid, source: Source, located: tuple[int, int] | None = None) -> SheetTable:
    located = located or _find_header(grid, source)
    if located is None:
        raise _no_header(source)
    header_pos = located[1]
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
    _classify(grid[header_pos + 1 :], header, source, table)
    return table


def _classify(body: Grid, header: list[str], source: Source, table: SheetTable) -> None:
    """Sort every non-blank row below the header into data rows and skipped rows (nothing is dropped)."""
    index = header_index(source)
    by_position = {pos: match_header(h, index, source) for pos, h in enumerate(header)}
    identity = {pos for pos, name in by_position.items() if name and _is_identity(source.column(name))}
    names = {
        pos
        for pos, name in by_position.items()
        if (name and source.column(name).type == "personal")
        or (not name and header[pos] and looks_like_names(header[pos]))
    }
    header_folded = [fold(h) for h in header]
    width = len(header)

    kinds: list[SkippedKind | None] = []
    kept: list[tuple[int, list[Cell]]] = []
    last_record = -1  # the last record that is not sparse: what follows it of no kind is the footer
    for row in body:
        filled = _filled(row[1])
        if not filled:
            continue
        kind = _kind(filled, not kept, identity, header_folded)
        if kind is None and len(filled) > SPARSE_CELLS:
            last_record = len(kept)
        kinds.append(kind)
        kept.append(row)  # the grid's own tuple: a new one a row would be 56 bytes more for each of 1M rows
    # signature lines after the last record: names and titles that match no pattern are still footer
    for i in range(last_record + 1, len(kept)):
        if kinds[i] is None or kinds[i] == "note":
            kinds[i] = "footer"
    for row, kind in zip(kept, kinds, strict=True):
        row_number, cells = row
        if kind is None:
            # the grid's own row when it is wide enough (most rows): no new tuple, no new list
            table.rows.append((row_number, (list(cells) + [None] * width)[:width]) if len(cells) < width else row)
        else:
            hidden = names if kind not in ("column_numbers", "header") else frozenset()  # (13), a header: no name
            table.skipped.append(SkippedRow(row_number, kind, row_text(cells, hidden)))


def _is_identity(col: Column) -> bool:
    """Columns a totals row leaves empty: required text, labels and dates (it sums the numbers)."""
    return col.required and col.type in ("text", "enum", "date", "article")


def _repeats_header(texts: Sequence[tuple[int, Cell]], header_folded: list[str], filled: int) -> bool:
    """The row repeats the header in all but at most one filled cell (a header printed again on each page).

    Stops at the second cell that differs, so a record costs two folds, not one per cell.
    """
    needed = max(2, filled - 1)
    allowed_misses = len(texts) - needed
    misses = 0
    for i, c in texts:
        # folding keeps ASCII digits as they are: a cell with digits cannot fold to a header without any
        if not (
            i < len(header_folded)
            and not (_ASCII_DIGIT.search(str(c)) and not _ASCII_DIGIT.search(header_folded[i]))
            and fold(str(c)) == header_folded[i]
        ):
            misses += 1
            if misses > allowed_misses:
                return False
    return True


def _kind(
    filled: list[tuple[int, Cell]], first: bool, identity: set[int], header_folded: list[str]
) -> SkippedKind | None:
    texts = [(i, c) for i, c in filled if isinstance(c, str)]
    if first and len(filled) >= 2 and all(_COLUMN_NUMBER.match(clean_text(c) or "") for _, c in filled):
        return "column_numbers"
    if len(texts) == len(filled) and len(filled) >= 2 and _repeats_header(texts, header_folded, len(filled)):
        return "header"
    if texts:
        lead_pos, lead = texts[0]
        # a record whose key starts with "Tổng số…" fills its other required columns; a totals row does not
        # (checked first: it is cheap, and on a record it spares folding the lead cell)
        if (
            lead_pos == filled[0][0]
            and not any(i in identity for i, _ in filled if i != lead_pos)
            and _TOTALS.match(fold(str(lead)))
        ):
            return "totals"
    if len(filled) <= SPARSE_CELLS and len(texts) == len(filled):
        for _, cell in texts:
            text = fold(str(cell))
            if text.startswith(_FOOTER) or _PLACE_DATE.search(text):
                return "note"  # becomes `footer` when no record follows it
            if text.startswith(_NOTES):
                return "note"
    return None
