"""Property-based tests (hypothesis) of the table locator and the value parsers.

The locator's promise: whatever noise rows a clerk inserts (notes, signatures,
totals, column numbers, stray text, blank lines) and wherever, no record
disappears, and every non-blank row below the header is a record or a skipped
row. The parsers' promise: any input gives a value or a `ValueProblem`, never
another exception, and a value always fits its warehouse column.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.contract.sources import SOURCES
from ingestion.intake.readers.table import _locate
from ingestion.intake.readers.values import (
    MAX_COUNT,
    MAX_DECIMAL,
    MAX_MONEY,
    ValueProblem,
    parse_article,
    parse_bool,
    parse_count,
    parse_date,
    parse_decimal,
    parse_money,
)
from tests.returns_factory import THANHTRA_HEADERS, thanhtra_row

SOURCE = SOURCES["thanhtra"]
WIDTH = len(THANHTRA_HEADERS)

NOISE_TEXT = st.sampled_from(
    [
        "Người lập biểu",
        "Thủ trưởng đơn vị",
        "(Ký, ghi rõ họ tên)",
        "Thanh Hóa, ngày 18 tháng 03 năm 2024",
        "Ghi chú: số liệu tạm tính",
        "Tổng cộng",
        "Tổng số",
        "Cộng",
        "Nguyễn Văn Ký",
        "x",
        "(1)",
        "*",
        "Lưu ý",
        " ",
    ]
)


@st.composite
def noise_row(draw: st.DrawFn) -> list:
    """A sparse row: one or two cells of noise text anywhere, or a totals row with sums."""
    row: list = [None] * WIDTH
    if draw(st.booleans()):
        row[0] = draw(st.sampled_from(["Tổng cộng", "Tổng số", "Cộng", "Total"]))
        for pos in draw(st.lists(st.integers(9, 12), max_size=3)):
            row[pos] = draw(st.integers(0, 10**12))
        return row
    for pos in draw(st.lists(st.integers(0, WIDTH - 1), min_size=1, max_size=2, unique=True)):
        row[pos] = draw(NOISE_TEXT)
    return row


@st.composite
def table_with_noise(draw: st.DrawFn) -> tuple[list[tuple[int, list]], set[int]]:
    records = [thanhtra_row(i) for i in range(1, draw(st.integers(1, 12)) + 1)]
    body: list[tuple[list, bool]] = [(r, True) for r in records]
    for _ in range(draw(st.integers(0, 10))):
        body.insert(draw(st.integers(0, len(body))), (draw(noise_row()), False))
    for _ in range(draw(st.integers(0, 3))):
        body.insert(draw(st.integers(0, len(body))), ([None] * WIDTH, False))
    grid = [(1, ["Đơn vị báo cáo: TT-TINH"]), (2, list(THANHTRA_HEADERS))]
    record_rows: set[int] = set()
    for i, (cells, is_record) in enumerate(body, start=3):
        grid.append((i, cells))
        if is_record:
            record_rows.add(i)
    return grid, record_rows


def _non_blank(cells: list) -> bool:
    return any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table_with_noise())
def test_noise_rows_never_make_a_record_disappear(case):
    grid, record_rows = case
    table = _locate(grid, SOURCE)
    data = {n for n, _ in table.rows}
    skipped = {s.row_number for s in table.skipped}
    assert record_rows <= data  # every record is read as data
    assert not data & skipped
    non_blank = {n for n, cells in grid[2:] if _non_blank(cells)}
    assert data | skipped == non_blank  # data + skipped = every non-blank row below the header
    assert table.rows_read == len(non_blank)


CELLS = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.from_regex(r"-?\d{1,25}([.,\s]\d{3})*( ?(tỷ|triệu|nghìn|đồng))?", fullmatch=True),
)


@settings(max_examples=500, deadline=None)
@given(CELLS)
def test_parsers_give_a_value_that_fits_or_a_problem(cell):
    for parse, check in (
        (parse_money, lambda v: isinstance(v, int) and abs(v) <= MAX_MONEY),
        (parse_count, lambda v: isinstance(v, int) and abs(v) <= MAX_COUNT),
        (parse_decimal, lambda v: abs(v) < MAX_DECIMAL),
        (parse_article, lambda v: 1 <= v <= 426),
        (parse_date, lambda v: isinstance(v, dt.date)),
        (parse_bool, lambda v: isinstance(v, bool)),
    ):
        try:
            value = parse(cell)
        except ValueProblem:
            continue
        assert value is None or check(value), (parse.__name__, cell, value)


@given(st.integers(min_value=0, max_value=MAX_MONEY))
def test_money_written_with_dots_reads_back(amount):
    assert parse_money(f"{amount:,}".replace(",", ".")) == amount
