"""REFERENCE ONLY (tests): the per-cell parser the column-wise `ingestion.intake.parse` replaced.

Kept verbatim (but for whole numbers built straight as Int64, the one fix) so
`tests/intake/test_columnar.py` can prove the column-wise path gives the same frame,
problems, pseudonyms and written cells. Original docstring:

Turn a located table into typed columns of the contract, cell by cell.

Output is a pandas frame the expectation suite validates (one column per contract
column present, typed: dates as datetime64, money and counts as nullable Int64)
plus the problems found while parsing (a value that cannot be read at all) and
what must never reach the frame in clear (names, replaced by pseudonyms).
Parsers are memoised per column because returns repeat the same dates, labels and
article notations on many rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from ingestion.contract.sources import Column, Source
from ingestion.intake.problems import RowProblem, SkippedRow
from ingestion.intake.pseudonym import pseudonymise
from ingestion.intake.readers.table import SheetTable, header_index, looks_like_names, match_header
from ingestion.intake.readers.values import (
    Cell,
    ValueProblem,
    clean_text,
    fold,
    parse_article,
    parse_bool,
    parse_count,
    parse_date,
    parse_decimal,
    parse_label,
    parse_money,
    split_names,
)

_ROW_INDEX_HEADERS = {"stt", "tt", "so tt", "no", "no."}  # the form's running number, not data


@dataclass
class ParsedReturn:
    """Typed rows of one return, ready for validation and loading."""

    frame: pd.DataFrame  # row_number + contract columns present (personal data excluded)
    present: list[str]  # contract columns found in the header
    pseudonyms: dict[str, list[list[str]]]  # personal column -> per row, the pseudonyms
    extra: list[str | None]  # per row, JSON of columns not in the contract
    extra_headers: list[str]
    problems: list[RowProblem] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)  # rows below the header that are not records
    written: dict[str, list[Cell]] = field(default_factory=dict)  # column -> per row, the cell as written
    pseudonymised_extras: list[str] = field(default_factory=list)  # name-like headers kept only as pseudonyms

    @property
    def rows_read(self) -> int:
        """Physical non-blank rows below the header: records (loaded or quarantined) + skipped rows."""
        return len(self.frame) + len(self.skipped)


def _parser(col: Column) -> Callable[[Cell], Any]:
    match col.type:
        case "date":
            return parse_date
        case "money":
            return parse_money
        case "count":
            return parse_count
        case "decimal":
            return parse_decimal
        case "article":
            return parse_article
        case "bool":
            return parse_bool
        case "enum":
            labels = col.labels
            return lambda v: parse_label(v, labels)
        case _:
            return clean_text


def _memo_key(value: Cell) -> Any:
    return (type(value).__name__, value)


FORMULA_RULE = "formula_no_value"
# types whose parsed value reads differently from what was typed (`-5.000.000` -> -5000000): the
# quarantine shows the cell as written for these; text and labels are kept as written already
_NORMALISED_TYPES = frozenset({"money", "count", "decimal", "date", "article", "bool"})


def parse_table(table: SheetTable, source: Source, key: bytes) -> ParsedReturn:  # noqa: C901  -- the reference, verbatim
    """Typed columns, pseudonyms and problems of one located table.

    A header the contract does not list is kept aside in `extra_columns`, except a
    header that looks like names of persons: its cells are kept only as pseudonyms,
    since a name must never be stored in clear whatever the column is called.
    """
    index = header_index(source)
    positions: dict[str, int] = {}
    extras: list[tuple[int, str]] = []
    named_extras: set[int] = set()
    for pos, head in enumerate(table.header):
        name = match_header(head, index, source)
        if name and name not in positions:
            positions[name] = pos
        elif head and fold(head) not in _ROW_INDEX_HEADERS:
            extras.append((pos, head))
            if looks_like_names(head):
                named_extras.add(pos)
    width = len(table.header)
    widest = max((len(cells) for _, cells in table.rows), default=0)
    blank_headed = [pos for pos in range(widest) if pos >= width or not table.header[pos]]
    present = [c.name for c in source.columns if c.name in positions]

    problems: list[RowProblem] = []
    row_numbers = [n for n, _ in table.rows]
    data: dict[str, list[Any]] = {"row_number": row_numbers}
    pseudonyms: dict[str, list[list[str]]] = {}
    written: dict[str, list[Cell]] = {}

    for col in source.columns:
        if col.name not in positions:
            continue
        pos = positions[col.name]
        cells = [cells[pos] if pos < len(cells) else None for _, cells in table.rows]
        for row_number, cell in zip(row_numbers, cells, strict=True):
            if cell is None and (row_number, pos) in table.formula_cells:
                problems.append(
                    RowProblem(
                        row_number=row_number,
                        column=col.header_vi,
                        value=None,
                        rule=FORMULA_RULE,
                        severity="row",
                        reason_vi="Ô chứa công thức chưa được tính (không có giá trị):"
                        " mở tệp bằng Excel, lưu lại rồi gửi",
                        reason_en="The cell holds a formula with no calculated value: open the file in Excel, save it,"
                        " and send it again",
                    )
                )
        if col.type == "personal":
            pseudonyms[col.name] = [pseudonymise(split_names(c), key) for c in cells]
            continue
        if col.type in _NORMALISED_TYPES:  # the cells themselves (no copy): turned into text only for a problem
            written[col.name] = cells
        parse = _parser(col)
        memo: dict[Any, tuple[Any, ValueProblem | None]] = {}
        values: list[Any] = []
        for row_number, cell in zip(row_numbers, cells, strict=True):
            k = _memo_key(cell)
            hit = memo.get(k)
            if hit is None:
                try:
                    hit = (parse(cell), None)
                except ValueProblem as exc:
                    hit = (None, exc)
                memo[k] = hit
            value, problem = hit
            values.append(value)
            if problem is not None:
                problems.append(
                    RowProblem(
                        row_number=row_number,
                        column=col.header_vi,
                        value=clean_text(cell),
                        rule=problem.rule,
                        severity="row",
                        reason_vi=f"Giá trị không đọc được; cần {problem.expected_vi}",
                        reason_en=f"Value cannot be read; expected {problem.expected_en}",
                    )
                )
        data[col.name] = values

    frame = pd.DataFrame(data)
    for col in source.columns:
        if col.name not in frame:
            continue
        if col.type == "date":
            frame[col.name] = pd.to_datetime(frame[col.name])
        elif col.type in ("money", "count", "article"):
            frame[col.name] = pd.array(data[col.name], dtype="Int64")
        elif col.type == "decimal":
            frame[col.name] = frame[col.name].map(lambda d: float(d) if isinstance(d, Decimal) else None)
        elif col.type == "bool":
            frame[col.name] = frame[col.name].astype("boolean")

    extra_json: list[str | None] = []
    for _, cells in table.rows:
        kept: dict[str, Any] = {}
        for pos, head in extras:
            if pos < len(cells) and cells[pos] is not None:
                if pos in named_extras:
                    kept[f"{head} (pseudonyms)"] = pseudonymise(split_names(cells[pos]), key)
                else:
                    kept[head] = clean_text(cells[pos])
        for pos in blank_headed:
            if pos < len(cells) and (text := clean_text(cells[pos])) is not None:
                kept[f"(cột {pos + 1} / column {pos + 1})"] = text
        extra_json.append(json.dumps(kept, ensure_ascii=False, default=str) if kept else None)
    return ParsedReturn(
        frame=frame,
        present=present,
        pseudonyms=pseudonyms,
        extra=extra_json,
        extra_headers=[h for _, h in extras],
        problems=problems,
        skipped=list(table.skipped),
        written=written,
        pseudonymised_extras=[h for pos, h in extras if pos in named_extras],
    )
