"""The reader child works while the parent stores (issue 11, per-file cost): submit / ready / collect.

A real child process and real files of the bundled sample; the pipeline test runs a real
intake on a real PostgreSQL and looks, at each file's end, at whether the child holds the next.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from ingestion.intake.readers.isolated import IsolatedReader
from ingestion.intake.readers.limits import ReaderLimits
from tests.conftest import SAMPLES

KEY = b"test-key"


def _sample_csvs(n: int) -> list[Path]:
    return [p for p in sorted(SAMPLES.iterdir()) if p.name.startswith("thanhtra_") and p.suffix == ".csv"][:n]


def test_submit_then_collect_gives_what_read_gives() -> None:
    path = _sample_csvs(1)[0]
    reader = IsolatedReader(ReaderLimits())
    try:
        whole = reader.read(path.read_bytes(), "csv", "thanhtra", KEY)
        reader.submit(path.read_bytes(), "csv", "thanhtra", KEY)
        with pytest.raises(RuntimeError, match="collect it first"):  # one file at a time
            reader.submit(path.read_bytes(), "csv", "thanhtra", KEY)
        deadline = time.monotonic() + 60
        while not reader.ready() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reader.ready()
        split = reader.collect()
    finally:
        reader.close()
    assert split.parsed.frame.equals(whole.parsed.frame)
    assert split.parsed.problems == whole.parsed.problems


def test_an_answer_waiting_past_the_deadline_is_taken_not_timed_out() -> None:
    """The parent was busy storing other files when the deadline passed, not the child: the answer counts."""
    path = _sample_csvs(1)[0]
    reader = IsolatedReader(dataclasses.replace(ReaderLimits(), timeout_s=1))
    try:
        reader.read(path.read_bytes(), "csv", "thanhtra", KEY)  # the child is up (its start is not timed)
        reader.submit(path.read_bytes(), "csv", "thanhtra", KEY)
        time.sleep(1.5)
        result = reader.collect()
    finally:
        reader.close()
    assert len(result.parsed.frame) > 0


def test_the_child_reads_the_next_file_while_one_is_stored(fresh_warehouse_url, tmp_path, monkeypatch) -> None:
    from ingestion.intake import pipeline
    from ingestion.intake.readers.isolated import shared_reader
    from tests.returns_factory import THANHTRA_HEADERS, thanhtra_row, write_csv

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i, unit in enumerate(["HOANGHOA", "SAMSON", "QUANGXUONG", "BIMSON"]):
        write_csv(inbox / f"thanhtra_TT-HUYEN-{unit}_2024-Y.csv", THANHTRA_HEADERS, [thanhtra_row(i + 1)])
    monkeypatch.setenv("PCTN_INTAKE_BATCH_FILES", "2")
    monkeypatch.setenv("PCTN_PSEUDONYM_KEY", "k")
    held_while_storing: list[bool] = []
    store = pipeline._store

    def watched(*args, **kwargs):
        held_while_storing.append(shared_reader()._request is not None)
        return store(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_store", watched)
    outcomes = pipeline.run_intake(fresh_warehouse_url, inbox, tmp_path / "out", workers=1)
    assert [o.status for o in outcomes] == ["loaded"] * 4
    # batches of two: while the first batch was stored, the child held a file of the second (read ahead);
    # by the time the second batch is stored every file is read
    assert held_while_storing == [True, True, False, False]
    assert shared_reader()._request is None
