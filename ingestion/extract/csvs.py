"""One CSV per sheet, for people and programs that do not want the workbook.

UTF-8 with a byte-order mark so Excel shows Vietnamese correctly when the file is
double-clicked; comma separated, CRLF line ends. Values are plain and unformatted
(numbers with a `.` decimal point and no grouping, ratios as fractions, dates ISO
`yyyy-mm-dd`, times in Viet Nam time) so a program reads them back exactly.

CSV injection: a text cell starting with `=`, `+`, `-`, `@`, tab or carriage return is
prefixed with `'` so a spreadsheet cannot run it as a formula (OWASP). Numbers are
written as numbers and are never prefixed: `-5` stays `-5`.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from ingestion.extract.sheets import Cell, Table

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """`=1+1` -> `'=1+1`: shown as text by spreadsheets, harmless elsewhere."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_value(value: Cell) -> str:
    """The CSV text of one cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def render_csv(table: Table) -> bytes:
    """The table as CSV bytes: header row, then one line per row, nothing else."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(c.flat_header) for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_value(v) for v in row.cells])
    return out.getvalue().encode("utf-8-sig")
