"""What keeps one large file within memory gives the same result as before (issue 11, item 5).

The CSV text is read in pieces (`text_pieces`): the pieces' lines and first lines
must be the whole text's. The isolated reader hands its answer over column by
column, streamed: what the parent rebuilds must be what the child parsed. And the
reader child's peak per row on a 100k-row return stays under a bound that the
row-grid reader (about 1.5 KB a row) did not meet.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingestion.intake.parse import PseudonymColumn
from ingestion.intake.pseudonym import pseudonym_key
from ingestion.intake.readers.isolated import IsolatedReader, read_and_parse
from ingestion.intake.readers.limits import ReaderLimits
from ingestion.intake.readers.table import _LINE, FileData, _head_lines, _lines, text_pieces
from tests.returns_factory import DIEUTRA_HEADERS, dieutra_row, write_csv

LINE_TEXT = st.lists(st.sampled_from(["a", "ụ", ",", '"', "\n", "\r", "\r\n", "\x0b", "\u2028", "\x85"])).map("".join)


@given(text=LINE_TEXT, size=st.integers(min_value=1, max_value=40), count=st.integers(min_value=0, max_value=6))
def test_pieces_hold_the_texts_lines(text: str, size: int, count: int) -> None:
    pieces = text_pieces(text, size)
    assert "".join(pieces) == text
    assert all(p.endswith("\n") for p in pieces[:-1])  # cut between lines, never inside `\r\n`
    assert _head_lines(list(pieces), count) == text.splitlines()[:count]
    assert list(_lines(list(pieces))) == [m.group() for m in _LINE.finditer(text)]


def test_short_text_is_its_own_piece() -> None:
    text = "a,b\r\n1,2\r\n"
    assert text_pieces(text)[0] is text  # no copy of a file smaller than a piece


def test_isolated_answer_is_the_in_process_parse(tmp_path, monkeypatch) -> None:
    """Streamed, column by column: frame (values, dtypes, order), pseudonyms, problems as parsed in process."""
    monkeypatch.setenv("PCTN_PSEUDONYM_KEY", "reader-memory-test")
    rows = [dieutra_row(i) for i in range(1, 40)] + [dieutra_row(40, initiation_date="31/02/2024")]
    data = write_csv(tmp_path / "dieutra_CA-TINH_2024-Y.csv", DIEUTRA_HEADERS, rows).read_bytes()
    key = pseudonym_key()
    limits = ReaderLimits.from_env()
    here = read_and_parse(data, "csv", "dieutra", key, limits).parsed
    reader = IsolatedReader(limits)
    try:
        there = reader.read(FileData(data), "csv", "dieutra", key).parsed
    finally:
        reader.close()
    pd.testing.assert_frame_equal(there.frame, here.frame, check_exact=True)
    assert list(there.frame.columns) == list(here.frame.columns)
    assert set(there.pseudonyms) == set(here.pseudonyms)
    for name, column in there.pseudonyms.items():
        assert isinstance(column, PseudonymColumn)
        assert list(column) == list(here.pseudonyms[name])
    assert there.problems == here.problems and there.problems  # the bad date is among what is compared
    assert {k: list(v) for k, v in there.written.items()} == {k: list(v) for k, v in here.written.items()}
    assert there.skipped == here.skipped and there.extra == here.extra


def test_file_data_is_taken_once() -> None:
    owned = FileData(b"abc")
    assert owned.peek() == b"abc" and owned.take() == b"abc"
    with pytest.raises(AssertionError):
        owned.take()
