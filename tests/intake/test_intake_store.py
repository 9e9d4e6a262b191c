"""The per-file transaction with fewer round trips stores exactly what it stored before (issue 11, R2).

`_store` now clears an earlier attempt with one statement, skips empty COPYs, writes the
validation results by COPY and sends its answer-less statements in pipelines. These tests
hold what matters: a file reprocessed (`force`) ends with the same rows in every table it
writes, not twice and not fewer, and the outcomes read back in one query come in the order
asked. Real files of the bundled sample (quarantined, flagged and skipped rows), real
PostgreSQL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from ingestion.intake.pipeline import final_outcomes, process_file, run_intake
from ingestion.intake.schema import ensure_schema
from tests.conftest import SAMPLES

# one return with rows of every kind: quarantined, flagged, skipped below the header
SAMPLE = "dieutra_CA-TINH_2024-Y.xlsx"
TABLES = (
    "raw.dieutra_cases",
    "audit.quarantine",
    "audit.skipped_rows",
    "audit.validation_runs",
    "audit.validation_results",
    "audit.feedback_files",
)


def _rows(conn: psycopg.Connection, file_id: int) -> dict[str, int]:
    return {
        t: conn.execute(f"select count(*) from {t} where file_id = %s", (file_id,)).fetchone()[0]  # type: ignore[index]
        for t in TABLES
    }


def _content(conn: psycopg.Connection, file_id: int) -> dict[str, list[tuple]]:
    """What each table holds for the file, but the columns a new attempt must change (ids, times)."""
    return {
        "raw": conn.execute(
            "select row_number, case_id, accused_names_pseudonyms from raw.dieutra_cases where file_id = %s"
            " order by row_number",
            (file_id,),
        ).fetchall(),
        "quarantine": conn.execute(
            "select row_number, column_name, value, rule, severity, reason_en, row_data::text from audit.quarantine"
            " where file_id = %s order by row_number, column_name, rule",
            (file_id,),
        ).fetchall(),
        "skipped": conn.execute(
            "select row_number, kind, text from audit.skipped_rows where file_id = %s order by row_number", (file_id,)
        ).fetchall(),
        "results": conn.execute(
            "select expectation_type, rule, column_name, severity, success, element_count, unexpected_count,"
            " unexpected_sample::text from audit.validation_results where file_id = %s"
            " order by expectation_type, rule, column_name",
            (file_id,),
        ).fetchall(),
    }


def test_reprocessing_a_file_rewrites_every_table_once(warehouse_url, conn, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / SAMPLE, inbox / SAMPLE)
    (first,) = run_intake(warehouse_url, inbox, tmp_path / "out", workers=1)
    assert first.status == "loaded" and first.rows_quarantined > 0 and first.rows_skipped > 0
    counts, content = _rows(conn, first.file_id), _content(conn, first.file_id)
    # the file wrote into every table, so a clearing that missed one would show below
    assert all(n > 0 for n in counts.values()), counts
    assert counts["audit.validation_runs"] == 1 and counts["audit.feedback_files"] == 1

    again = process_file(conn, first.file_id, tmp_path / "out2", force=True)

    assert (again.status, again.rows_loaded, again.rows_quarantined, again.rows_skipped) == (
        first.status,
        first.rows_loaded,
        first.rows_quarantined,
        first.rows_skipped,
    )
    assert _rows(conn, first.file_id) == counts
    assert _content(conn, first.file_id) == content
    assert conn.execute("select process_count from registry.files where file_id = %s", (first.file_id,)).fetchone() == (
        2,
    )


def test_outcomes_read_together_come_in_the_order_asked(warehouse_url, conn, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("thads_THADS-TINH_2024-Y.xlsx", "xetxu_TA-TINH_2024-Y.xlsx"):
        shutil.copy(SAMPLES / name, inbox / name)
    outcomes = run_intake(warehouse_url, inbox, None, workers=1)
    ids = [o.file_id for o in outcomes]
    assert [o.file_id for o in final_outcomes(conn, ids[::-1])] == ids[::-1]
    assert final_outcomes(conn, ids) == outcomes
    with pytest.raises(LookupError, match="not registered"):
        final_outcomes(conn, [*ids, 10**12])


def test_rows_inserted_in_the_pipeline_equal_rows_copied(fresh_warehouse_url, tmp_path: Path, monkeypatch) -> None:
    """Quarantine, skipped-row and result rows go by INSERT in the store's pipeline when few, by COPY when
    many (`load.INSERT_MAX_ROWS`): both ways store the same rows."""
    from ingestion.intake import load

    warehouse_url = fresh_warehouse_url
    conn = psycopg.connect(warehouse_url, autocommit=True)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / SAMPLE, inbox / SAMPLE)
    monkeypatch.setattr(load, "INSERT_MAX_ROWS", 0)  # every audit row by COPY
    (first,) = run_intake(warehouse_url, inbox, tmp_path / "out", workers=1)
    copied = _content(conn, first.file_id)
    assert copied["quarantine"] and copied["skipped"] and copied["results"]
    monkeypatch.setattr(load, "INSERT_MAX_ROWS", 10**6)  # every audit row by INSERT, in the pipeline
    again = process_file(conn, first.file_id, tmp_path / "out2", force=True)
    assert again.rows_quarantined == first.rows_quarantined
    assert _content(conn, first.file_id) == copied
    conn.close()


def test_a_store_that_fails_leaves_nothing_and_releases_the_claim(fresh_warehouse_url, tmp_path: Path) -> None:
    """`_store` opens and ends its transaction in its pipelines: a failure mid-way (here a real error
    raised by the server during the COPY) rolls all of it back, leaves the file `received`, the
    connection idle and the file's claim released, so the same connection processes it next."""
    from ingestion.intake.registry import register_file

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / SAMPLE, inbox / SAMPLE)
    with psycopg.connect(fresh_warehouse_url, autocommit=True) as conn:
        ensure_schema(conn)
        file_id = register_file(conn, inbox / SAMPLE, SAMPLE).file_id
        conn.execute(
            "create function public.fail_copy() returns trigger language plpgsql as"
            " $$ begin raise exception 'disk full (test)'; end $$"
        )
        conn.execute(
            "create trigger fail_copy before insert on raw.dieutra_cases"
            " for each row execute function public.fail_copy()"
        )
        with pytest.raises(psycopg.errors.RaiseException, match="disk full"):
            process_file(conn, file_id, tmp_path / "out", wait=False)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        held = conn.execute("select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()")
        assert held.fetchone() == (0,)
        assert conn.execute("select status from registry.files where file_id = %s", (file_id,)).fetchone() == (
            "received",
        )
        assert all(n == 0 for n in _rows(conn, file_id).values())
        conn.execute("drop trigger fail_copy on raw.dieutra_cases")
        assert process_file(conn, file_id, tmp_path / "out", wait=False).status == "loaded"
        assert held.execute(
            "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()"
        ).fetchone() == (0,)


def _raw_content(conn: psycopg.Connection, table: str, file_id: int) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            f"select (to_jsonb(t) - 'file_id')::text from {table} t where file_id = %s order by row_number",
            (file_id,),
        )
    ]


def test_small_files_copied_row_by_row_store_what_the_csv_path_stores(conn, monkeypatch) -> None:
    """`copy_raw` gives psycopg the rows of a small file (`load.SMALL_COPY_ROWS`) and formats a larger one
    as CSV with pandas: every value of every column (typed, pseudonym arrays, extra columns) lands the
    same either way, on the bundled sample's largest readable file of each source."""
    from ingestion.contract.sources import SOURCES
    from ingestion.intake import load
    from ingestion.intake.readers.isolated import read_and_parse
    from ingestion.intake.readers.limits import ReaderLimits

    ensure_schema(conn)
    largest: dict[str, Path] = {}
    for path in sorted(SAMPLES.iterdir()):
        code = path.name.split("_")[0]
        readable = code in SOURCES and path.suffix in {".csv", ".xlsx"}
        if readable and (code not in largest or path.stat().st_size > largest[code].stat().st_size):
            largest[code] = path
    assert set(largest) == set(SOURCES)
    compared = 0
    for n, (code, path) in enumerate(sorted(largest.items())):
        source = SOURCES[code]
        parsed = read_and_parse(path.read_bytes(), path.suffix[1:], code, b"test-key", ReaderLimits.from_env()).parsed
        keep = list(range(len(parsed.frame)))
        assert 0 < len(keep) <= load.SMALL_COPY_ROWS, path.name
        small, csv_path = 900_000 + 2 * n, 900_001 + 2 * n
        load.copy_raw(conn, small, parsed, source, keep)
        monkeypatch.setattr(load, "SMALL_COPY_ROWS", 0)  # the same rows through the pandas CSV
        load.copy_raw(conn, csv_path, parsed, source, keep)
        monkeypatch.setattr(load, "SMALL_COPY_ROWS", 200)
        rows = _raw_content(conn, f"raw.{source.raw_table}", small)
        assert rows == _raw_content(conn, f"raw.{source.raw_table}", csv_path)
        assert len(rows) == len(keep)
        compared += len(rows)
    assert compared > 50
