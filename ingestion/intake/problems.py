"""The two kinds of bad input the contract names, as values the pipeline passes on.

A `Rejection` refuses a whole file (it is moved aside with a report); a
`RowProblem` quarantines or flags one row. Both carry a rule code and a reason in
Vietnamese and English, because the sending unit and the Inspectorate read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


class Rejection(Exception):
    """A file that cannot be read as a return."""

    def __init__(self, code: str, reason_vi: str, reason_en: str) -> None:
        super().__init__(f"{code}: {reason_en}")
        self.code = code
        self.reason_vi = reason_vi
        self.reason_en = reason_en


@dataclass(frozen=True)
class RowProblem:
    """One problem in one row: `row` severity quarantines it, `warn` only flags it."""

    row_number: int
    column: str | None
    value: str | None
    rule: str
    severity: Literal["row", "warn"]
    reason_vi: str
    reason_en: str


SkippedKind = Literal["totals", "footer", "note", "column_numbers", "header"]


@dataclass(frozen=True)
class SkippedRow:
    """A non-blank row below the header that is not a record: kept with its text, never dropped.

    `kind`: `totals` (Tổng cộng), `footer` (signatures, place and date after the
    last record), `note` (a note or signature-like line among the records),
    `column_numbers` (the `(1) (2) (3)` row under the header), `header` (the
    header repeated, e.g. at a page break). The sender sees each in its feedback.
    """

    row_number: int
    kind: SkippedKind
    text: str
