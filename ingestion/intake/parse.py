"""Turn a located table into typed columns of the contract, column by column.

Output is a pandas frame the expectation suite validates (one column per contract
column present, typed: dates as datetime64, money and counts as nullable Int64)
plus the problems found while parsing (a value that cannot be read at all) and
what must never reach the frame in clear (names, replaced by pseudonyms).

Each column is first reduced to its distinct values (`distinct`): a column of 1M
rows rarely holds more than a few thousand, so each is parsed, converted to the
column's dtype and pseudonymised once, and the results are mapped back to the rows
with an index. `written` and `pseudonyms` keep that form (`DistinctColumn`: codes
per row and the distinct values), which reads like a list and is small to send
from the reader's process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ingestion.contract.sources import Column, Source
from ingestion.intake.problems import Code, RowProblem, SkippedRow
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
    pseudonyms: dict[str, Sequence[list[str]]]  # personal column -> per row, the pseudonyms
    extra: list[str | None]  # per row, JSON of columns not in the contract
    extra_headers: list[str]
    problems: list[RowProblem] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)  # rows below the header that are not records
    written: dict[str, Sequence[Cell]] = field(default_factory=dict)  # column -> per row, the cell as written
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


def _distinct_key(value: Cell) -> Any:
    """What makes two cells the same value: `1`, `1.0` and `True` are equal in Python but not to a parser."""
    return (type(value).__name__, value)


@dataclass
class DistinctColumn(Sequence[Any]):
    """A column stored as its distinct values and, per row, the index of its value (-1: no value).

    A column of 1M rows rarely holds more than a few thousand distinct values: each
    is parsed, pseudonymised and sent from the reader's process once, and a row is
    only an int32 code. Reads like a list (`col[i]`, `len`, iteration).
    """

    codes: np.ndarray  # int32 per row; -1 for a missing cell (None)
    values: list[Any]
    missing: Any = None  # what a row without a value reads as

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        code = int(self.codes[index])
        return self.missing if code < 0 else self.values[code]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.take(self.values, self.missing).tolist())

    def take(self, per_value: Sequence[Any], missing: Any = None) -> np.ndarray:
        """Per row, the element of `per_value` (one per distinct value) its value maps to; `missing` if none."""
        lookup = np.empty(len(per_value) + 1, dtype=object)
        for i, v in enumerate(per_value):  # element-wise: a value may itself be a list (pseudonyms)
            lookup[i] = v
        lookup[len(per_value)] = missing
        return lookup[self.codes]  # -1 is the last slot


PSEUDONYM_CHARS = 32  # `pseudonymise`: 16 bytes of HMAC as hex


@dataclass
class PseudonymColumn(DistinctColumn):
    """The pseudonyms of a personal column: per distinct cell, its pseudonyms as one packed string.

    Names are mostly unique per row, so a 1M-row return has about 1M distinct cells:
    a list of two 32-character strings costs ~250 bytes, the same pseudonyms packed
    into one ASCII string ~115 (kept in the reader child, pickled, and held by the
    worker until the COPY). Reads like the list of per-row lists it replaces.
    """

    missing: Any = field(default_factory=list)

    @staticmethod
    def pack(pseudonyms: list[str]) -> str:
        assert all(len(p) == PSEUDONYM_CHARS for p in pseudonyms)
        return "".join(pseudonyms)

    @staticmethod
    def unpack(packed: str) -> list[str]:
        return [packed[i : i + PSEUDONYM_CHARS] for i in range(0, len(packed), PSEUDONYM_CHARS)]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        code = int(self.codes[index])
        return list(self.missing) if code < 0 else self.unpack(self.values[code])

    def __iter__(self) -> Iterator[Any]:
        return iter(self.take(self.lists(), self.missing).tolist())

    def lists(self) -> list[list[str]]:
        """Per distinct cell, its pseudonyms as a list."""
        return [self.unpack(v) for v in self.values]


def distinct(cells: Sequence[Cell]) -> DistinctColumn:
    """Codes and distinct values of one column, keyed by type and value (so `1` and `1.0` stay apart).

    Cells of a CSV are all text or None: pandas' hash table (C) factorises them. Cells of
    a workbook mix types, which a Python dict keyed by (type, value) keeps apart.
    """
    if all(type(c) is str for c in cells if c is not None):
        codes, uniques = pd.factorize(np.array(cells, dtype=object), use_na_sentinel=True)
        return DistinctColumn(codes.astype(np.int32, copy=False), list(uniques))
    index: dict[Any, int] = {}
    values: list[Any] = []
    out = np.empty(len(cells), dtype=np.int32)
    for i, cell in enumerate(cells):
        if cell is None:
            out[i] = -1
            continue
        k = _distinct_key(cell)
        code = index.get(k)
        if code is None:
            code = index[k] = len(values)
            values.append(cell)
        out[i] = code
    return DistinctColumn(out, values)


FORMULA_RULE = Code.FORMULA_NO_VALUE
# types whose parsed value reads differently from what was typed (`-5.000.000` -> -5000000): the
# quarantine shows the cell as written for these; text and labels are kept as written already
_NORMALISED_TYPES = frozenset({"money", "count", "decimal", "date", "article", "bool"})


def parse_table(table: SheetTable, source: Source, key: bytes, *, consume: bool = False) -> ParsedReturn:
    """Typed columns, pseudonyms and problems of one located table.

    A header the contract does not list is kept aside in `extra_columns`, except a
    header that looks like names of persons: its cells are kept only as pseudonyms,
    since a name must never be stored in clear whatever the column is called.

    With `consume`, the table's rows are taken apart into columns and emptied, so
    the row grid (two objects a row) is freed before the typed columns are built
    and each column's cells as soon as it is parsed: the reader child's peak is
    then about one copy of the data, not the grid plus the result (issue 11).
    """
    positions, extras, named_extras = _locate_columns(table, source)
    width = len(table.header)
    widest = max((len(cells) for _, cells in table.rows), default=0)
    blank_headed = [pos for pos in range(widest) if pos >= width or not table.header[pos]]
    present = [c.name for c in source.columns if c.name in positions]
    n_rows = len(table.rows)

    problems: list[RowProblem] = []
    row_numbers = [n for n, _ in table.rows]
    data: dict[str, Any] = {"row_number": row_numbers}
    pseudonyms: dict[str, Sequence[list[str]]] = {}
    written: dict[str, Sequence[Cell]] = {}
    wanted = [positions[c.name] for c in source.columns if c.name in positions]
    columns = _columns(table, wanted, consume=consume and not extras and not blank_headed)

    # names first: their cells (mostly one distinct string a row) are freed before the typed columns exist;
    # the frame's columns and the problems keep the contract's order
    found_in: dict[str, list[RowProblem]] = {}
    typed: dict[str, pd.Series] = {}
    for col in sorted(source.columns, key=lambda c: c.type != "personal"):
        if col.name not in positions:
            continue
        pos = positions[col.name]
        cells = _take_column(columns, table, pos)
        found_in[col.name] = _formula_problems(table, col, pos, row_numbers, cells) if table.formula_cells else []
        column = distinct(cells)
        del cells  # the column's cells: only its distinct values are needed from here
        if col.type == "personal":
            pseudonyms[col.name] = PseudonymColumn(
                column.codes, [PseudonymColumn.pack(pseudonymise(split_names(v), key)) for v in column.values]
            )
            del column
            continue
        if col.type in _NORMALISED_TYPES:  # the cells, as distinct values: turned into text only for a problem
            written[col.name] = column
        typed[col.name], found = _parse_distinct(column, col)
        found_in[col.name] += _value_problems(column, col, found, row_numbers)
        del column
    for col in source.columns:
        problems += found_in.get(col.name, [])
        if col.name in typed:
            data[col.name] = typed.pop(col.name)
    pseudonyms = {c.name: pseudonyms[c.name] for c in source.columns if c.name in pseudonyms}
    written = {c.name: written[c.name] for c in source.columns if c.name in written}

    frame = pd.DataFrame(data)
    del data
    if not extras and not blank_headed:  # nothing outside the contract: no row has extra columns
        extra_json: list[str | None] = [None] * n_rows
    else:
        extra_json = _extra_json(table, extras, named_extras, blank_headed, key)
    return _parsed(frame, present, pseudonyms, extra_json, extras, named_extras, problems, table, written)


def _columns(table: SheetTable, wanted: list[int], *, consume: bool) -> dict[int, Sequence[Cell]] | None:
    """With `consume`, the cells of each wanted position, the table's rows emptied; else None (read per column).

    A data row from the readers is at least as wide as the header (`_classify` pads it);
    a table with a narrower row (built by hand) is read per column instead.
    """
    if not consume or not table.rows or min(len(cells) for _, cells in table.rows) <= max(wanted, default=-1):
        return None
    grid = (cells for _, cells in table.rows)
    by_position = dict(zip(range(max(wanted, default=-1) + 1), zip(*grid, strict=False), strict=False))
    table.rows.clear()  # the row lists and their tuples go; the cells live on in the columns
    return {pos: by_position[pos] for pos in wanted}


def _take_column(columns: dict[int, Sequence[Cell]] | None, table: SheetTable, pos: int) -> Sequence[Cell]:
    """The cells of one position, from the transposed columns (released from there) or read from the rows."""
    if columns is not None:
        return columns.pop(pos)
    return [cells[pos] if pos < len(cells) else None for _, cells in table.rows]


def _locate_columns(table: SheetTable, source: Source) -> tuple[dict[str, int], list[tuple[int, str]], set[int]]:
    """The position of each contract column found, the headers outside the contract, and which of those hold names."""
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
    return positions, extras, named_extras


def _formula_problems(
    table: SheetTable, col: Column, pos: int, row_numbers: list[int], cells: Sequence[Cell]
) -> list[RowProblem]:
    """A row problem for each empty cell of the column that holds a formula Excel never calculated."""
    return [
        RowProblem(
            row_number=row_number,
            column=col.header_vi,
            value=None,
            rule=FORMULA_RULE,
            severity="row",
            reason_vi="Ô chứa công thức chưa được tính (không có giá trị): mở tệp bằng Excel, lưu lại rồi gửi",
            reason_en="The cell holds a formula with no calculated value: open the file in Excel, save it,"
            " and send it again",
        )
        for row_number, cell in zip(row_numbers, cells, strict=True)
        if cell is None and (row_number, pos) in table.formula_cells
    ]


def _value_problems(
    column: DistinctColumn, col: Column, found: list[tuple[int, ValueProblem]], row_numbers: list[int]
) -> list[RowProblem]:
    """A row problem for each row whose cell holds one of the distinct values that did not read, in row order."""
    rows: list[tuple[int, int, ValueProblem]] = []  # (row index, distinct code, problem)
    for code, problem in found:
        for row in np.flatnonzero(column.codes == code).tolist():
            rows.append((row, code, problem))
    rows.sort(key=lambda p: p[0])
    problems = []
    for row, code, problem in rows:
        cell = None if code < 0 else column.values[code]
        problems.append(
            RowProblem(
                row_number=row_numbers[row],
                column=col.header_vi,
                value=clean_text(cell),
                rule=problem.rule,
                severity="row",
                reason_vi=f"Giá trị không đọc được; cần {problem.expected_vi}",
                reason_en=f"Value cannot be read; expected {problem.expected_en}",
            )
        )
    return problems


def _extra_json(
    table: SheetTable,
    extras: list[tuple[int, str]],
    named_extras: set[int],
    blank_headed: list[int],
    key: bytes,
) -> list[str | None]:
    """Per row, the cells outside the contract as JSON (names as pseudonyms only), or None for a row with none."""
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
    return extra_json


def _parsed(
    frame: pd.DataFrame,
    present: list[str],
    pseudonyms: dict[str, Sequence[list[str]]],
    extra_json: list[str | None],
    extras: list[tuple[int, str]],
    named_extras: set[int],
    problems: list[RowProblem],
    table: SheetTable,
    written: dict[str, Sequence[Cell]],
) -> ParsedReturn:
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


def _typed(col: Column, parsed: list[Any]) -> pd.Series:
    """The column's dtype in the frame, applied to its distinct parsed values.

    Whole numbers go straight into `Int64`: through an inferred float column (what a
    list with a blank becomes) an amount above 2^53 VND would lose its last digits.
    """
    if col.type in ("money", "count", "article"):
        return pd.Series(pd.array(parsed, dtype="Int64"))
    values = pd.DataFrame({"v": parsed})["v"]  # inferred as a frame infers a column of per-row values
    if col.type == "date":
        return pd.to_datetime(values)
    if col.type == "decimal":
        return values.map(lambda d: float(d) if isinstance(d, Decimal) else None)
    if col.type == "bool":
        return values.astype("boolean")
    return values


def _parse_distinct(column: DistinctColumn, col: Column) -> tuple[pd.Series, list[tuple[int, ValueProblem]]]:
    """Parse each distinct value once, convert them to the column's dtype, and map them back to the rows.

    Returns the typed column and, per distinct value that cannot be read, its code
    (-1 for the missing value) and the problem.
    """
    parse = _parser(col)
    parsed: list[Any] = []
    found: list[tuple[int, ValueProblem]] = []
    for code, cell in enumerate(column.values):
        try:
            parsed.append(parse(cell))
        except ValueProblem as exc:
            parsed.append(None)
            found.append((code, exc))
    index = column.codes
    if (column.codes < 0).any():  # the missing value is parsed too (a blank tick box reads as no)
        try:
            parsed.append(parse(None))
        except ValueProblem as exc:
            parsed.append(None)
            found.append((-1, exc))
        index = np.where(column.codes < 0, len(parsed) - 1, column.codes)
    typed = _typed(col, parsed)
    return typed.take(index).reset_index(drop=True), found
