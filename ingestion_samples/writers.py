"""How each office writes its returns: layout, encoding and value formats.

The contract ("Values", "One return = one file") lists the mess the intake must
accept; an `Office` is one sending unit's habits, so the sample shows every kind
of it: official xlsx forms with title lines, wrapped or merged headers, a column
number row and a totals row; Excel numbers and dates next to `1.234.567`,
`1 234 567`, `1,5 tỷ`, `250 triệu` and `dd/mm/yyyy` text; CSV in UTF-8 (with or
without BOM), Windows-1258, and cp1252 holding TCVN3/VNI text; English headers
from system exports; labels typed without diacritics; NFD text.

Output is byte-deterministic: no clock, fixed xlsx document properties
(xlsxwriter also fixes the zip timestamps), and per-cell style choices drawn
from a CRC of the cell's identity rather than `hash()`.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import xlsxwriter

from ingestion.contract.sources import Column, Source
from ingestion.intake.readers.encodings import LegacyScheme, encode_legacy

FIXED_TIMESTAMP = datetime(2026, 1, 5, 8, 0, 0)  # xlsx docProps created/modified: never the clock
TONES = "\u0300\u0301\u0303\u0309\u0323"


@dataclass(frozen=True)
class Raw:
    """A value typed by a person as text, written verbatim (used for the bad values of the sample)."""

    text: str


@dataclass(frozen=True)
class Office:
    """One sending unit's way of writing returns."""

    fmt: Literal["xlsx", "csv"]
    encoding: Literal["utf-8", "utf-8-sig", "cp1258", "cp1252", "utf-16"] = "utf-8"
    legacy: LegacyScheme | None = None  # text typed in a TCVN3 / VNI font
    headers: Literal["vi", "en"] = "vi"
    labels: Literal["vi", "plain"] = "vi"  # plain: without diacritics, lower case ("da ket luan")
    nfd: bool = False
    money: Literal["number", "dots", "spaces", "plain", "words", "mixed"] = "number"
    dates: Literal["excel", "dmy", "d/m", "iso", "mixed"] = "excel"
    decimals: Literal["number", "comma", "dot"] = "number"
    bools: Literal["co_khong", "one_zero"] = "co_khong"
    articles: Literal["mixed", "number", "dieu"] = "mixed"
    layout: Literal["official", "merged", "plain"] = "official"
    column_numbers: bool = True
    omit: tuple[str, ...] = ()  # optional contract columns this office does not keep
    line_end: str = "\r\n"
    delimiter: str = ","

    @property
    def ext(self) -> str:
        return "xlsx" if self.fmt == "xlsx" else "csv"


def strip_diacritics(s: str) -> str:
    """'Đã kết luận' -> 'da ket luan': how labels look when typed without a Vietnamese keyboard."""
    s = s.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c)).lower()


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 as Windows writes it: base letters precomposed where the code page has them, tones combining."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONES))
        tones = "".join(c for c in decomposed if c in TONES)
        out += (base + tones).encode("cp1258")
    return bytes(out)


def _pick(key: str, options: Sequence[str]) -> str:
    return options[zlib.crc32(key.encode("utf-8")) % len(options)]


def format_money(value: int, style: str, key: str) -> str | int:
    """A VND amount as this office writes it (an int means an Excel number cell)."""
    if style == "mixed":
        style = _pick(key, ("number", "number", "dots", "words", "spaces"))
    if style == "number":
        return value
    if style == "words" and value > 0:
        if value % 1_000_000_000 == 0:
            return f"{value // 1_000_000_000} tỷ"
        if value >= 1_000_000_000 and value % 100_000_000 == 0:
            return f"{value // 1_000_000_000},{value % 1_000_000_000 // 100_000_000} tỷ"
        if value < 1_000_000_000 and value % 1_000_000 == 0:
            return f"{value // 1_000_000} triệu"
        style = "dots"
    if style == "spaces":
        return f"{value:,}".replace(",", " ")
    if style == "plain":
        return str(value)
    return f"{value:,}".replace(",", ".")


def format_date(value: date, style: str, key: str, fmt: str) -> str | date:
    """A date as this office writes it (a `date` means an Excel date cell)."""
    if style == "mixed":
        style = _pick(key, ("excel", "excel", "excel", "dmy"))
    if style == "excel" and fmt == "xlsx":
        return value
    if style == "iso":
        return value.isoformat()
    if style == "d/m":
        return f"{value.day}/{value.month}/{value.year}"
    return value.strftime("%d/%m/%Y")


def format_article(article: int, style: str, key: str, fmt: str) -> str | int:
    """The Penal Code article in one of the notations offices use."""
    if style == "number":
        return article if fmt == "xlsx" else str(article)
    if style == "dieu":
        return f"Điều {article}"
    clause = 1 + zlib.crc32(f"k:{key}".encode()) % 4
    return _pick(key, (str(article), f"Điều {article}", f"{article} BLHS", f"khoản {clause} Điều {article}"))


CellValue = str | int | float | date | None


def format_value(column: Column, value: object, office: Office, key: str) -> CellValue:
    """One contract value -> the cell this office writes (before its font/normal-form habits)."""
    if value is None:
        return None
    if isinstance(value, Raw):
        return value.text
    if column.type == "money":
        assert isinstance(value, int)
        money = format_money(value, office.money, key)
        return money if office.fmt == "xlsx" or isinstance(money, str) else str(money)
    if column.type == "date":
        assert isinstance(value, date)
        return format_date(value, office.dates, key, office.fmt)
    if column.type == "count":
        return int(value) if office.fmt == "xlsx" else str(value)  # type: ignore[call-overload]
    if column.type == "decimal":
        assert isinstance(value, Decimal)
        if office.fmt == "xlsx" and office.decimals == "number":
            return float(value)
        text = format(value.normalize(), "f")
        return text.replace(".", ",") if office.decimals == "comma" else text
    if column.type == "bool":
        if office.bools == "one_zero":
            return ("1" if value else "0") if office.fmt == "csv" else int(bool(value))
        label = "Có" if value else "Không"
        return strip_diacritics(label) if office.labels == "plain" else label
    if column.type == "article":
        assert isinstance(value, int)
        return format_article(value, office.articles, key, office.fmt)
    if column.type == "personal":
        assert isinstance(value, list)
        return "; ".join(value) if value else None
    if column.type == "enum":
        return strip_diacritics(str(value)) if office.labels == "plain" else str(value)
    return str(value)


def header_text(column: Column, office: Office) -> str:
    if office.headers == "en":
        return column.name
    return column.header_vi


def _wrapped(header: str) -> str:
    """Official forms wrap long headers: a line break before the unit in brackets, or mid-way."""
    if " (" in header:
        return header.replace(" (", "\n(", 1)
    words = header.split(" ")
    if len(header) > 18 and len(words) > 2:
        half = len(words) // 2
        return " ".join(words[:half]) + "\n" + " ".join(words[half:])
    return header


def _typed(office: Office, text: str) -> str:
    """Apply the office's keyboard habits to a text: legacy font, or decomposed Unicode."""
    if office.legacy:
        return encode_legacy(text, office.legacy)
    if office.nfd:
        return unicodedata.normalize("NFD", text)
    return text


@dataclass(frozen=True)
class TitleLines:
    """The lines above the table of an official form (contract: "title lines")."""

    unit_line: str  # "Đơn vị báo cáo: TT-TINH - Thanh tra tỉnh Thanh Hóa"
    period_line: str  # "Kỳ báo cáo: 2024-Y"
    form_no: str  # "Biểu số 01/PCTN"
    title: str
    place_date: str  # "Thanh Hóa, ngày 20 tháng 12 năm 2024"


@dataclass(frozen=True)
class Layout:
    """Where the data rows sit in a written return (for expected row numbers)."""

    first_data_line: int  # 1-based sheet row / CSV line of the first data row
    skipped_rows: int = 0  # non-blank rows below the header that are not records (column numbers, totals, footer)


def render_csv(columns: Sequence[Column], rows: Sequence[Sequence[CellValue]], office: Office) -> tuple[bytes, Layout]:
    """A CSV return: one header line, one line per record, in the office's encoding."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=office.delimiter, lineterminator=office.line_end)
    writer.writerow([_typed(office, header_text(c, office)) for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else _typed(office, v) if isinstance(v, str) else str(v) for v in row])
    text = buf.getvalue()
    if office.encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + text.encode("utf-8")
    elif office.encoding == "cp1258":
        data = encode_cp1258(text)
    elif office.encoding == "utf-16":
        data = b"\xff\xfe" + text.encode("utf-16-le")
    else:
        data = text.encode(office.encoding)  # cp1252 only holds legacy-font text: strict on purpose
    return data, Layout(first_data_line=2)


def render_xlsx(
    columns: Sequence[Column],
    rows: Sequence[Sequence[CellValue]],
    office: Office,
    titles: TitleLines | None,
    *,
    notes: Sequence[str | None] | None = None,
    totals: bool = True,
) -> tuple[bytes, Layout]:
    """An xlsx return, in the official form's layout unless the office exports plain sheets.

    The official layout: national motto, `Đơn vị báo cáo`, `Kỳ báo cáo`, `Biểu số`,
    a title; one header row (wrapped, or merged over two sheet rows), the column
    number row `(1) (2) …`, data rows with an STT column and a notes column (not in
    the contract: kept aside by the intake), the `Tổng cộng` row and signatures.
    """
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": FIXED_TIMESTAMP, "author": "PCTN", "title": titles.title if titles else ""})
    ws = wb.add_worksheet("Bieu")
    bold = wb.add_format({"bold": True})
    center_bold = wb.add_format({"bold": True, "align": "center", "valign": "vcenter"})
    header_fmt = wb.add_format({"bold": True, "text_wrap": True, "align": "center", "valign": "vcenter", "border": 1})
    cell_fmt = wb.add_format({"border": 1, "valign": "top"})
    text_fmt = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
    money_fmt = wb.add_format({"border": 1, "num_format": "#,##0"})
    decimal_fmt = wb.add_format({"border": 1, "num_format": "#,##0.0"})
    date_fmt = wb.add_format({"border": 1, "num_format": "dd/mm/yyyy"})
    italic = wb.add_format({"italic": True, "align": "center"})
    t = lambda s: _typed(office, s)  # noqa: E731

    official = office.layout != "plain" and titles is not None
    headers = [header_text(c, office) for c in columns]
    if official:
        headers = ["STT", *headers, "Ghi chú"]
    ncols = len(headers)
    last_col = ncols - 1
    r = 0
    if official:
        assert titles is not None
        r = _write_title_block(ws, titles, last_col, t, bold, center_bold)
    r = _write_headers(ws, r, headers, office, official, t, header_fmt)
    if official and office.column_numbers:
        for c in range(ncols):
            ws.write_string(r, c, f"({c + 1})", italic)
        r += 1
    first_data = r
    skipped = 1 if official and office.column_numbers else 0
    sums: dict[int, int | float] = {}
    for i, row in enumerate(rows):
        values: list[CellValue] = list(row)
        if official:
            values = [i + 1, *values, notes[i] if notes else None]
        for c, v in enumerate(values):
            col = columns[c - 1] if official and 0 < c <= len(columns) else (columns[c] if not official else None)
            if v is None:
                ws.write_blank(r, c, None, cell_fmt)
            elif isinstance(v, date):
                ws.write_datetime(r, c, datetime(v.year, v.month, v.day), date_fmt)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                fmt = decimal_fmt if isinstance(v, float) else money_fmt if col and col.type == "money" else cell_fmt
                ws.write_number(r, c, v, fmt)
                if col is not None and col.type in ("money", "count", "decimal"):
                    sums[c] = sums.get(c, 0) + v
            else:
                ws.write_string(r, c, t(str(v)), text_fmt)
        r += 1
    if official and totals:
        ws.write_string(r, 0, t("Tổng cộng"), bold)
        for c, total in sorted(sums.items()):
            ws.write_number(r, c, total, money_fmt)
        assert titles is not None
        _write_signatures(ws, r + 2, titles, last_col, t, bold, italic)
        skipped += 4  # the totals row, the place-and-date line and two signature lines
    ws.set_column(0, 0, 6 if official else 16)
    ws.set_column(1, last_col, 16)
    wb.close()
    return buf.getvalue(), Layout(first_data_line=first_data + 1, skipped_rows=skipped)


def _write_title_block(
    ws: Any, titles: TitleLines, last_col: int, t: Callable[[str], str], bold: Any, center_bold: Any
) -> int:
    """National motto, `Đơn vị báo cáo`, `Kỳ báo cáo`, `Biểu số` and the title; the row the header starts on."""
    ws.merge_range(0, 0, 0, last_col, t("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), center_bold)
    ws.merge_range(1, 0, 1, last_col, t("Độc lập - Tự do - Hạnh phúc"), center_bold)
    ws.write_string(3, 0, t(titles.unit_line), bold)
    ws.write_string(4, 0, t(titles.period_line), bold)
    ws.write_string(5, 0, t(titles.form_no))
    ws.merge_range(6, 0, 6, last_col, t(titles.title), center_bold)
    return 8


def _write_headers(
    ws: Any, r: int, headers: list[str], office: Office, official: bool, t: Callable[[str], str], header_fmt: Any
) -> int:
    """The header row at row `r` (merged over two sheet rows in the merged layout); the next free row."""
    merged = office.layout == "merged" and official
    for c, h in enumerate(headers):
        text = t(_wrapped(h) if office.headers == "vi" else h)
        if merged:
            ws.merge_range(r, c, r + 1, c, text, header_fmt)
        else:
            ws.write_string(r, c, text, header_fmt)
    return r + (2 if merged else 1)


def _write_signatures(
    ws: Any, r: int, titles: TitleLines, last_col: int, t: Callable[[str], str], bold: Any, italic: Any
) -> None:
    """The place-and-date line and the two signatures (`Người lập biểu`, `Thủ trưởng đơn vị`) from row `r`."""
    ws.write_string(r, max(last_col - 3, 1), t(titles.place_date), italic)
    ws.write_string(r + 1, 1, t("Người lập biểu"), bold)
    ws.write_string(r + 1, max(last_col - 3, 2), t("Thủ trưởng đơn vị"), bold)
    ws.write_string(r + 2, 1, t("(Ký, ghi rõ họ tên)"), italic)
    ws.write_string(r + 2, max(last_col - 3, 2), t("(Ký tên, đóng dấu)"), italic)


def contract_columns(source: Source, office: Office) -> list[Column]:
    """The columns this office's return carries: every required one, optional ones it keeps."""
    return [c for c in source.columns if c.required or c.name not in office.omit]
