"""Validation in batches gives every file the report it would get alone (issue 11, item 3).

`validate_batch` runs one GX suite over the rows of many files and judges one-value rules
on distinct values; these tests hold its per-file reports equal to `validate` on each
file alone: on every readable file of the bundled sample (bad ones included), and on
frames built so that a batch would go wrong if the file key or each file's own period
end were forgotten. Then the pipeline: one batch with a file rejected at file level
stores its neighbours, and a batched intake writes what a file-by-file intake writes.
Real GX runs, real files, real PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from ingestion.contract.sources import SOURCES
from ingestion.intake.problems import Rejection
from ingestion.intake.validate import BatchItem, ValidationReport, validate, validate_batch
from tests.conftest import SAMPLES, _fresh_database_url
from tests.returns_factory import THANHTRA_HEADERS, thanhtra_row, write_csv

KEY = b"test-key-for-batch-validation-32"


def _verdicts(report: ValidationReport) -> tuple:
    """Everything of a report that reaches the warehouse or the sender, but its run id and time."""
    rejection = (
        (report.rejection.code, report.rejection.reason_vi, report.rejection.reason_en) if report.rejection else None
    )
    stored = report.result_json
    return (
        report.suite,
        report.success,
        report.outcomes,
        report.problems,
        rejection,
        stored["success"],
        stored["statistics"],
        [r["success"] for r in stored["results"]],
    )


def _sample_items() -> list[tuple[str, BatchItem]]:
    """Every sample file that reads as a return (bad rows and file-level failures included)."""
    from ingestion.intake.pipeline import _check_title, _identify
    from ingestion.intake.readers.isolated import shared_reader

    items = []
    for path in sorted(p for p in (SAMPLES).rglob("*") if p.is_file()):
        try:
            rn, source, period = _identify(path.name)
            read = shared_reader().read(path.read_bytes(), rn.extension, source.code, KEY)
            _check_title(read, rn)
        except Rejection:
            continue
        items.append((path.name, BatchItem(read.parsed.frame, source, period.end_date, read.parsed.written)))
    return items


@pytest.mark.slow  # ~105 GX runs one by one (the point: the batch gives the same)
def test_batch_reports_equal_one_by_one_on_every_sample_file() -> None:
    named = _sample_items()
    items = [item for _, item in named]
    alone = [_verdicts(validate(i.frame, i.source, i.period_end, i.written)) for i in items]
    together = [_verdicts(r) for r in validate_batch(items)]
    for source in SOURCES:  # and one batch per source
        picked = [n for n, i in enumerate(items) if i.source.code == source]
        for n, report in zip(picked, validate_batch([items[n] for n in picked]), strict=True):
            assert _verdicts(report) == alone[n], named[n][0]
    for (name, _), one, many in zip(named, alone, together, strict=True):
        assert many == one, name
    # the comparison covers what matters: bad rows of several rules, and file-level rejections
    rules = {p.rule for v in alone for p in v[3]}
    assert {"required", "bad_label", "duplicate_key", "negative", "after_period_end"} <= rules, rules
    assert {v[4][0] for v in alone if v[4]} >= {"missing_columns", "no_rows"}
    assert len(items) > 100 and len({i.source.code for i in items}) == len(SOURCES)


def _frame(ids: list[str], starts: list[str | None], kinds: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_number": range(2, 2 + len(ids)),
            "inspection_id": pd.Series(ids, dtype="str"),
            "title": pd.Series([f"Cuộc {i}" for i in ids], dtype="str"),
            "kind": pd.Series(kinds, dtype="str"),
            "start_date": pd.to_datetime(starts),
            "status": pd.Series(["in_progress"] * len(ids), dtype="str"),
        }
    )


def test_batch_keeps_keys_per_file_and_each_files_own_period_end() -> None:
    source = SOURCES["thanhtra"]
    kinds = sorted(source.column("kind").labels.values())
    items = [
        # 2024-06-30 is inside this file's period; the same date is after the other file's end
        BatchItem(
            _frame(["A-1", "A-2", "A-2"], ["2024-06-30", "1980-01-01", None], [kinds[0], "bogus", kinds[1]]),
            source,
            dt.date(2024, 12, 31),
        ),
        # A-1 again: a key repeated in another file is not a duplicate
        BatchItem(
            _frame(["A-1", "B-2"], ["2024-06-30", "2024-01-02"], ["bogus", kinds[0]]), source, dt.date(2024, 3, 31)
        ),
        BatchItem(_frame(["C-1"], ["2023-05-05"], [kinds[2]]), source, dt.date(2023, 12, 31)),
    ]
    alone = [validate(i.frame, i.source, i.period_end, i.written) for i in items]
    together = validate_batch(items)
    for one, many in zip(alone, together, strict=True):
        assert _verdicts(many) == _verdicts(one)
    problems = [{(p.row_number, p.rule) for p in r.problems} for r in together]
    assert problems[0] == {
        (3, "duplicate_key"),
        (4, "duplicate_key"),
        (3, "bad_label"),
        (3, "implausible_date"),
        (4, "required"),
    }
    assert problems[1] == {(2, "after_period_end"), (2, "bad_label")}
    assert problems[2] == set()
    assert together[2].success and not together[0].success
    assert len({r.run_id for r in together}) == 3  # one GX run, yet one stored run per file


def _intake(url: str, paths: list[Path], out: Path):
    from ingestion.intake.pipeline import process_batch, register_file
    from ingestion.intake.schema import ensure_schema

    with psycopg.connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        ids = [register_file(conn, p, p.name).file_id for p in paths]
        return process_batch(conn, ids, out), conn.execute(
            "select file_id, count(*), bool_or((result -> 'meta' ->> 'validated_in_batch')::boolean)"
            " from audit.validation_runs group by 1 order by 1"
        ).fetchall()


def test_a_file_rejected_at_file_level_does_not_hold_back_its_batch(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PCTN_PSEUDONYM_KEY", "batch-test-key")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    no_kind = [h for h in THANHTRA_HEADERS if h != source_header("thanhtra", "kind")]
    paths = [
        write_csv(inbox / "thanhtra_TT-TINH_2024-9M.csv", THANHTRA_HEADERS, [thanhtra_row(i) for i in range(1, 4)]),
        write_csv(inbox / "thanhtra_TT-TINH_2024-6M.csv", no_kind, [without_kind(i) for i in range(1, 4)]),
        write_csv(inbox / "thanhtra_TT-TINH_2024-Y.csv", THANHTRA_HEADERS, [thanhtra_row(i) for i in range(1, 6)]),
        write_csv(inbox / "thanhtra_TT-TINH_2024-Y_v2.csv", THANHTRA_HEADERS, [thanhtra_row(i) for i in range(1, 3)]),
    ]  # fmt: skip
    url = _fresh_database_url("pctn_batch")
    try:
        outcomes, runs = _intake(url, paths, tmp_path / "out")
    finally:
        from tests.conftest import drop_database

        drop_database(url)
    got = [(o.file_name, o.status, o.rows_loaded, o.reject_code) for o in outcomes]
    assert got == [
        ("thanhtra_TT-TINH_2024-9M.csv", "loaded", 3, None),
        ("thanhtra_TT-TINH_2024-6M.csv", "rejected", 0, "missing_columns"),
        ("thanhtra_TT-TINH_2024-Y.csv", "superseded", 5, None),  # v2, later in the same batch, replaces it
        ("thanhtra_TT-TINH_2024-Y_v2.csv", "loaded", 2, None),
    ]
    assert "Hình thức" in outcomes[1].reason_vi and "kind" in outcomes[1].reason_en
    # every file has its own stored validation run; the rejected one was judged alone, the others together
    assert [(n, batched) for _, n, batched in runs] == [(1, True), (1, None), (1, True), (1, True)]
    assert (tmp_path / "out" / "rejected" / "thanhtra_TT-TINH_2024-6M.csv.report.txt").exists()


def without_kind(i: int) -> list:
    row = thanhtra_row(i)
    return row[:2] + row[3:]  # `kind` is the contract's third column


def source_header(source: str, column: str) -> str:
    return SOURCES[source].column(column).header_vi


def _received_masked(contents: dict[str, list[str]]) -> dict[str, list[str]]:
    """The feedback's cells without the time the file was received (the two intakes run minutes apart)."""
    import re

    key = "audit.feedback_files (cells)"
    received = re.compile(r"(\['Ngày nhận / Received', )'[^']*'")
    return contents | {key: sorted(received.sub(r"\1'…'", cells) for cells in contents[key])}


@pytest.mark.slow  # two intakes of the sample slice
def test_batched_intake_stores_what_a_file_by_file_intake_stores(tmp_path: Path, monkeypatch) -> None:
    from ingestion.intake.pipeline import run_intake
    from tests.test_readme_claims import _contents, _drop, sample_slice

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sample_slice(inbox, extra_loaded=20)
    one, batch = _fresh_database_url("pctn_one"), _fresh_database_url("pctn_batch")
    try:
        monkeypatch.setenv("PCTN_INTAKE_BATCH_FILES", "1")
        a = run_intake(one, inbox, tmp_path / "out_one", workers=1)
        monkeypatch.setenv("PCTN_INTAKE_BATCH_FILES", "500")
        b = run_intake(batch, inbox, tmp_path / "out_batch", workers=1)
        rows_one, rows_batch = _received_masked(_contents(one)), _received_masked(_contents(batch))
    finally:
        _drop(one)
        _drop(batch)
    assert [o.as_dict() | {"file_id": 0} for o in a] == [o.as_dict() | {"file_id": 0} for o in b]
    assert sum(1 for o in a if o.status == "loaded") > 15 and any(o.rows_quarantined for o in a)
    assert set(rows_one) == set(rows_batch)
    for table, rows in rows_one.items():
        assert rows_batch[table] == rows, (table, sorted(set(rows) ^ set(rows_batch[table]))[:3])
    feedback_one = sorted(p.relative_to(tmp_path / "out_one") for p in (tmp_path / "out_one").rglob("*") if p.is_file())
    feedback_batch = sorted(
        p.relative_to(tmp_path / "out_batch") for p in (tmp_path / "out_batch").rglob("*") if p.is_file()
    )
    assert feedback_one == feedback_batch
