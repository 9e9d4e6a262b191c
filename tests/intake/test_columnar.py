"""The column-wise parse (per distinct value) gives what the per-cell parser gave.

`ingestion.intake.parse.parse_table` parses each distinct value of a column once and
maps the results back to the rows; `tests/reference_parse.py` is the per-cell
parser it replaced. Both run on every bundled sample return and on
hypothesis-generated tables of mixed cells (text, numbers, dates, booleans,
blanks, tricky spellings); frames (values and dtypes), problems (rule, row,
value as written, order), pseudonyms, written cells and extra columns must agree.
The fast paths of `fold` and `clean_text` are checked against their former
definitions the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ingestion.contract.sources import SOURCES
from ingestion.intake.filenames import parse_file_name
from ingestion.intake.parse import DistinctColumn, ParsedReturn, PseudonymColumn, distinct, parse_table
from ingestion.intake.problems import Rejection
from ingestion.intake.pseudonym import pseudonymise
from ingestion.intake.readers.table import SheetTable, read_table
from ingestion.intake.readers.values import clean_text, fold
from tests import reference_parse

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "returns"
KEY = b"columnar-test-key"


def assert_same(new: ParsedReturn, old: reference_parse.ParsedReturn) -> None:
    pd.testing.assert_frame_equal(new.frame, old.frame, check_dtype=True, check_exact=True)
    assert new.problems == old.problems
    assert new.present == old.present
    assert {k: list(v) for k, v in new.pseudonyms.items()} == old.pseudonyms
    assert set(new.written) == set(old.written)
    for name, cells in new.written.items():
        assert list(cells) == list(old.written[name]), name
        assert [type(c) for c in cells] == [type(c) for c in old.written[name]], name
    assert new.extra == old.extra
    assert new.extra_headers == old.extra_headers
    assert new.skipped == old.skipped
    assert new.pseudonymised_extras == old.pseudonymised_extras


def sample_tables() -> list[tuple[str, SheetTable, str]]:
    tables = []
    for path in sorted(SAMPLES.iterdir()):
        try:
            rn = parse_file_name(path.name)
        except Exception:  # a badly named sample file: rejected before it is read
            continue
        if rn.source not in SOURCES:
            continue
        try:
            tables.append((path.name, read_table(path.read_bytes(), rn.extension, SOURCES[rn.source]), rn.source))
        except Rejection:
            continue
    return tables


def test_bundled_sample_parses_the_same_column_wise() -> None:
    tables = sample_tables()
    assert len(tables) > 80  # nearly every bundled return is read (the rejected ones are not)
    problems = 0
    for name, table, source in tables:
        new = parse_table(table, SOURCES[source], KEY)
        old = reference_parse.parse_table(table, SOURCES[source], KEY)
        consumed = parse_table(dataclasses.replace(table, rows=list(table.rows)), SOURCES[source], KEY, consume=True)
        try:
            assert_same(new, old)
            assert_same(consumed, old)  # the reader child's way: the rows taken apart into columns as it goes
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
        problems += len(new.problems)
    assert problems > 0  # the sample's unreadable values are among what is compared


TRICKY_TEXT = st.sampled_from(
    [
        "1.234.567",
        "-5.000.000",
        "(1.000)",
        "1,5 tỷ",
        "250 triệu",
        "12/03/2024",
        "31/02/2024",
        "2024-03-12",
        "Điều 354",
        "khoản 3 Điều 356",
        "999",
        "Có",
        "không",
        "x",
        "1",
        "0",
        "1,5",
        "1.234,5",
        "abc",
        "  Thanh   tra ",
        "Tố cáo, tin báo",
        "Nguyễn Văn A; Trần Thị B",
        "\ufeffĐang điều tra",
        "9223372036854775808",
        "9007199254740993",
    ]
)
CELL = st.one_of(
    st.none(),
    TRICKY_TEXT,
    st.text(max_size=8),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)


@pytest.mark.parametrize("source_code", sorted(SOURCES))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a whole table takes minutes: report it as is
)
@given(data=st.data())
def test_generated_tables_parse_the_same_column_wise(source_code: str, data: st.DataObject) -> None:
    source = SOURCES[source_code]
    header = [c.header_vi for c in source.columns] + ["Ghi chú riêng", "Họ tên người liên hệ", ""]
    n = data.draw(st.integers(min_value=0, max_value=25))
    rows = [(i + 2, data.draw(st.lists(CELL, min_size=len(header), max_size=len(header) + 1))) for i in range(n)]
    formula = {(r, c) for r, cells in rows for c, v in enumerate(cells) if v is None and (r + c) % 5 == 0}
    table = SheetTable(header=header, header_row_number=1, rows=rows, formula_cells=formula)
    old = reference_parse.parse_table(table, source, KEY)
    assert_same(parse_table(table, source, KEY), old)
    # the reader child's way (`consume`, the rows taken apart into columns): on the contract's columns alone,
    # since a table with columns outside the contract keeps its rows for them
    width = len(source.columns)
    plain = SheetTable(
        header=header[:width],
        header_row_number=1,
        rows=[(r, cells[:width]) for r, cells in rows],
        formula_cells={(r, c) for r, c in formula if c < width},
    )
    old = reference_parse.parse_table(plain, source, KEY)
    assert_same(parse_table(dataclasses.replace(plain, rows=list(plain.rows)), source, KEY, consume=True), old)


def test_consumed_table_is_emptied_and_reads_like_a_list() -> None:
    """`consume` frees the grid (the rows are gone after parsing); pseudonyms still read as per-row lists."""
    source = SOURCES["dieutra"]
    header = [c.header_vi for c in source.columns]
    names = next(i for i, c in enumerate(source.columns) if c.type == "personal")
    rows = []
    for i, who in enumerate(["Nguyễn Văn A; Trần Thị B", None, "Nguyễn Văn A; Trần Thị B", "Lê C"]):
        cells: list = [None] * len(header)
        cells[names] = who
        rows.append((i + 2, cells))
    table = SheetTable(header=header, header_row_number=1, rows=rows)
    old = reference_parse.parse_table(table, source, KEY)
    parsed = parse_table(dataclasses.replace(table, rows=list(rows)), source, KEY, consume=True)
    assert_same(parsed, old)
    pseudo = parsed.pseudonyms[source.columns[names].name]
    assert isinstance(pseudo, PseudonymColumn) and len(pseudo.values) == 2  # one packed string per distinct cell
    assert [pseudo[i] for i in range(4)] == old.pseudonyms[source.columns[names].name]
    assert pseudo[1:3] == old.pseudonyms[source.columns[names].name][1:3]
    consumed = dataclasses.replace(table, rows=list(rows))
    parse_table(consumed, source, KEY, consume=True)
    assert consumed.rows == []


def test_large_amount_with_a_blank_keeps_every_digit() -> None:
    """Through an inferred float column 9,007,199,254,740,993 VND read ...992: Int64 is built directly."""
    source = SOURCES["dieutra"]
    money = next(c for c in source.columns if c.type == "money")
    header = [c.header_vi for c in source.columns]
    pos = header.index(money.header_vi)
    rows = []
    for i, amount in enumerate(["9007199254740993", None]):
        cells: list = [None] * len(header)
        cells[pos] = amount
        rows.append((i + 2, cells))
    parsed = parse_table(SheetTable(header=header, header_row_number=1, rows=rows), source, KEY)
    assert parsed.frame[money.name].tolist() == [9007199254740993, pd.NA]


def test_distinct_column_reads_like_the_list_it_replaces() -> None:
    cells = ["a", None, 1, 1.0, True, "a", dt.date(2024, 1, 1), None]
    col = distinct(cells)
    assert list(col) == cells
    assert [type(c) for c in col] == [type(c) for c in cells]  # 1, 1.0 and True stay apart
    assert len(col.values) == 5
    assert [col[i] for i in range(len(cells))] == cells
    assert col[1:3] == cells[1:3]
    text = distinct(["x", None, "y", "x"])
    assert text.codes.tolist() == [0, -1, 1, 0]
    names = DistinctColumn(text.codes, [["p"], ["q"]], missing=[])
    assert list(names) == [["p"], [], ["q"], ["p"]]


_WS = re.compile(r"\s+")
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060]")


def former_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WS.sub(" ", stripped.casefold()).strip()


def former_clean_text(value: str) -> str | None:
    text = _INVISIBLE.sub("", value)
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip() or None


VIETNAMESE = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("ĐđẤầẩẫậ\u0301\u0300\u0303\u1dc0\ufe20\t\n\u00a0\u2028\ufeff\u200b\u2060  ")),
    ),
    max_size=16,
)


@settings(max_examples=2000, deadline=None)
@given(VIETNAMESE)
def test_fast_fold_and_clean_text_match_their_former_definitions(text: str) -> None:
    assert fold(text) == former_fold(text)
    assert clean_text(text) == former_clean_text(text)


def test_pseudonym_is_the_same_hmac() -> None:
    for name in ["nguyễn văn a", "x", ""]:
        assert pseudonymise([name], KEY) == [hmac.new(KEY, name.encode(), hashlib.sha256).hexdigest()[:32]]


LINE_TEXT = st.text(alphabet=st.sampled_from([*'ab,;"\r\n \t', "Đ", "\u2028", "\x85"]), max_size=40)


@settings(max_examples=1500, deadline=None)
@given(LINE_TEXT, st.integers(min_value=1, max_value=50))
def test_csv_lines_are_those_of_a_stringio(text: str, piece_chars: int) -> None:
    """The reader iterates the text's lines piece by piece, without copying it whole; the csv module must see
    the same lines."""
    import csv
    import io

    from ingestion.intake.readers.table import _lines, text_pieces

    assert list(_lines(text_pieces(text, piece_chars))) == list(io.StringIO(text, newline=""))

    def records(lines):
        reader = csv.reader(lines, strict=True)
        out = []
        try:
            for record in reader:
                out.append((record, reader.line_num))
        except csv.Error as exc:
            out.append((str(exc), reader.line_num))
        return out

    assert records(_lines(text_pieces(text, piece_chars))) == records(io.StringIO(text, newline=""))


def test_reader_child_reports_its_own_peak_not_its_parents() -> None:
    """Linux carries `ru_maxrss` over fork and exec: the child's peak must be its own (`VmHWM`)."""
    from ingestion.intake.readers.isolated import IsolatedReader
    from ingestion.intake.readers.limits import ReaderLimits

    held = b"x" * (400 * 1024 * 1024)  # the parent holds 400 MB when it starts the child
    path = next(p for p in sorted(SAMPLES.iterdir()) if p.name.startswith("dieutra_") and p.suffix == ".csv")
    reader = IsolatedReader(ReaderLimits())
    try:
        result = reader.read(path.read_bytes(), "csv", "dieutra", KEY)
    finally:
        reader.close()
    assert len(held) > 0
    assert len(result.parsed.frame) > 0
    assert 0 < reader.last_peak_rss_kb < 300 * 1024  # pandas and calamine imported: ~100-200 MB, not 400+
