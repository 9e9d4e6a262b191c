"""The hostile corpus: every bad or messy file ends as a clear outcome, with nothing lost.

Each test writes one real hostile file beside two good returns into a fresh
inbox, runs the real intake into a fresh database, and checks the hostile file's
outcome and reason, that the good files beside it loaded, and that the reader
stayed under its memory bound. The files are built in `tests/hostile_files.py`.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import psycopg
import pytest

from ingestion.intake.pipeline import run_intake
from ingestion.intake.readers.isolated import shared_reader
from ingestion.intake.readers.limits import ReaderLimits
from tests import hostile_files as h
from tests.clear_names import name_pattern, scan_tables
from tests.returns_factory import (
    DIEUTRA_HEADERS,
    THANHTRA_HEADERS,
    dieutra_row,
    thanhtra_row,
    write_csv,
    write_official_xlsx,
)

GOOD = {"thanhtra_TT-TINH_2024-Y.csv": 3, "dieutra_CA-TINH_2024-Y.xlsx": 2}
HOSTILE_XLSX = "thanhtra_TT-HUYEN-HOANGHOA_2024-Y.xlsx"
HOSTILE_CSV = "thanhtra_TT-HUYEN-HOANGHOA_2024-Y.csv"
PARENT_RSS_BOUND_KB = 3 * 1024 * 1024  # the intake process itself (GX, pandas) stays far below this


def _good_files(inbox: Path) -> None:
    write_csv(
        inbox / "thanhtra_TT-TINH_2024-Y.csv", THANHTRA_HEADERS, [thanhtra_row(i, title=f"T{i}") for i in (1, 2, 3)]
    )
    write_official_xlsx(
        inbox / "dieutra_CA-TINH_2024-Y.xlsx", "CA-TINH", "2024-Y", DIEUTRA_HEADERS, [dieutra_row(1), dieutra_row(2)]
    )


class Run:
    def __init__(self, url: str, outcomes: list, out: Path) -> None:
        self.url = url
        self.by_name = {o.file_name: o for o in outcomes}
        self.out = out

    def __getitem__(self, name: str):
        return self.by_name[name]

    def query(self, sql: str, *args: object) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, args).fetchall()


@pytest.fixture()
def intake(fresh_warehouse_url: str, tmp_path: Path):
    """Run the intake on an inbox of two good files plus the given hostile ones."""

    def run(files: dict[str, bytes]) -> Run:
        inbox = tmp_path / "inbox"
        inbox.mkdir(exist_ok=True)
        _good_files(inbox)
        for name, data in files.items():
            (inbox / name).write_bytes(data)
        before = len(shared_reader().peaks_kb)
        outcomes = run_intake(fresh_warehouse_url, inbox, tmp_path / "out", workers=1)
        result = Run(fresh_warehouse_url, outcomes, tmp_path / "out")
        for name, rows in GOOD.items():  # the good files beside it always load
            assert (result[name].status, result[name].rows_loaded) == ("loaded", rows), result[name].reason_en
        limits = ReaderLimits.from_env()
        assert all(kb <= limits.memory_mb * 1024 for kb in shared_reader().peaks_kb[before:])
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < PARENT_RSS_BOUND_KB
        for o in outcomes:  # every row accounted for
            if o.status == "loaded":
                assert o.rows_read == o.rows_loaded + o.rows_quarantined + o.rows_skipped
        return result

    return run


def _rejected(run: Run, name: str, code: str, *words: str) -> None:
    o = run[name]
    assert (o.status, o.reject_code) == ("rejected", code), o.reason_en
    assert o.reason_vi and o.reason_en
    for word in words:
        assert word in o.reason_en, o.reason_en
    assert (run.out / "rejected" / (name + ".report.txt")).exists()
    assert (run.out / "feedback").is_dir()


# --- rejected whole -------------------------------------------------------------------------


def test_far_cell_with_dimension_is_refused_before_reading(intake):
    run = intake({HOSTILE_XLSX: h.far_cell(dimension=True)})
    _rejected(run, HOSTILE_XLSX, "too_large", "PCTN_MAX_CELLS", "1,048,576 rows × 16,384 columns")


def test_far_cell_without_dimension_kills_only_its_reader(intake, monkeypatch):
    monkeypatch.setenv("PCTN_READER_MEMORY_MB", "1024")
    run = intake({HOSTILE_XLSX: h.far_cell(dimension=False), "thanhtra_TT-HUYEN-SAMSON_2024-Y.csv": h.many_rows_csv(2)})
    _rejected(run, HOSTILE_XLSX, "reader_crashed", "PCTN_READER_MEMORY_MB")
    assert run["thanhtra_TT-HUYEN-SAMSON_2024-Y.csv"].status == "loaded"  # the file after it, on a new reader


def test_zip_bomb_is_refused_by_its_ratio(intake):
    run = intake({HOSTILE_XLSX: h.zip_bomb(64)})
    _rejected(run, HOSTILE_XLSX, "too_large", "PCTN_MAX_ZIP_RATIO")


def test_uncompressed_size_limit_is_a_setting(intake, monkeypatch):
    monkeypatch.setenv("PCTN_MAX_UNCOMPRESSED_BYTES", "40000")
    run = intake({HOSTILE_XLSX: h.xlsx_with_cell(20_000)})
    _rejected(run, HOSTILE_XLSX, "too_large", "PCTN_MAX_UNCOMPRESSED_BYTES")


def test_file_over_the_byte_limit_is_not_read_and_has_a_receipt(fresh_warehouse_url, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _good_files(inbox)
    (inbox / HOSTILE_CSV).write_bytes(h.many_rows_csv(2000))
    monkeypatch.setenv("PCTN_MAX_FILE_BYTES", "200000")
    outcomes = run_intake(fresh_warehouse_url, inbox, tmp_path / "out", workers=1)
    assert {o.file_name for o in outcomes} == set(GOOD)
    with psycopg.connect(fresh_warehouse_url) as conn:
        (receipt,) = conn.execute(
            "select entry_path, reason_code, reason_en from registry.receipts where outcome = 'not_read'"
        ).fetchall()
    assert receipt[:2] == (HOSTILE_CSV, "too_large") and "PCTN_MAX_FILE_BYTES" in receipt[2]


def test_truncated_zip(intake):
    _rejected(intake({HOSTILE_XLSX: h.truncated_zip()}), HOSTILE_XLSX, "unreadable", "damaged or truncated")


def test_sheet_xml_with_dtd_entities(intake):
    _rejected(intake({HOSTILE_XLSX: h.dtd_entities()}), HOSTILE_XLSX, "unreadable", "DTD")


def test_password_protected_workbook(intake):
    _rejected(intake({HOSTILE_XLSX: h.encrypted()}), HOSTILE_XLSX, "encrypted", "password", "save it without one")


@pytest.mark.parametrize("name", [HOSTILE_CSV, HOSTILE_XLSX])
def test_empty_file(intake, name):
    _rejected(intake({name: b""}), name, "empty_file", "empty (0 bytes)")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        (HOSTILE_CSV, h.csv_with_cell(5_000_000)),
        (HOSTILE_XLSX, h.xlsx_with_cell(40_000)),
        (HOSTILE_CSV, h.csv_with_cell(50_000)),
    ],
    ids=["csv-5MB-cell", "xlsx-40k-cell", "csv-50k-cell"],
)
def test_oversized_cell_same_reason_in_csv_and_xlsx(intake, name, data):
    _rejected(intake({name: data}), name, "too_large", "PCTN_MAX_CELL_CHARS", "32,766", "row 2, column 2")


def test_unterminated_quote_names_its_line(intake):
    _rejected(intake({HOSTILE_CSV: h.unterminated_quote()}), HOSTILE_CSV, "unreadable", "line 4", "No row was loaded")


def test_quote_closed_by_luck_swallowing_records(intake):
    _rejected(intake({HOSTILE_CSV: h.quote_closed_by_luck()}), HOSTILE_CSV, "unreadable", "lines 4–7 run into one cell")


def test_two_visible_sheets_with_the_table_are_ambiguous(intake):
    _rejected(intake({HOSTILE_XLSX: h.two_matching_sheets()}), HOSTILE_XLSX, "ambiguous_sheet", "'Bieu', 'Ban sao'")


def test_a_table_only_on_a_hidden_sheet_is_never_read(intake):
    _rejected(intake({HOSTILE_XLSX: h.only_hidden_table()}), HOSTILE_XLSX, "missing_columns")


def test_reader_timeout_ends_only_that_file(intake, monkeypatch):
    monkeypatch.setenv("PCTN_READER_TIMEOUT_S", "2")
    run = intake({HOSTILE_CSV: h.many_rows_csv(150_000)})
    _rejected(run, HOSTILE_CSV, "reader_timeout", "PCTN_READER_TIMEOUT_S")


# --- loaded, every row accounted for -----------------------------------------------------------


def _ids(run: Run, name: str) -> list[str]:
    return [
        r[0]
        for r in run.query(
            "select inspection_id from raw.thanhtra_inspections where file_id = %s order by row_number",
            run[name].file_id,
        )
    ]


@pytest.mark.parametrize(
    "builder", [h.hidden_old_data_first, h.very_hidden_old_data_first], ids=["hidden", "very-hidden"]
)
def test_hidden_sheet_of_old_data_is_ignored(intake, builder):
    run = intake({HOSTILE_XLSX: builder()})
    assert (run[HOSTILE_XLSX].status, run[HOSTILE_XLSX].rows_loaded) == ("loaded", 3)
    assert _ids(run, HOSTILE_XLSX) == ["TTR-2024-001", "TTR-2024-002", "TTR-2024-003"]  # none of the 900s


def test_table_on_a_later_visible_sheet_is_found(intake):
    run = intake({HOSTILE_XLSX: h.table_on_later_sheet()})
    assert (run[HOSTILE_XLSX].status, run[HOSTILE_XLSX].rows_loaded) == ("loaded", 3)


def test_signature_line_between_records_does_not_end_the_table(intake):
    run = intake({HOSTILE_CSV: h.signature_line_mid_table(10)})
    o = run[HOSTILE_CSV]
    assert (o.status, o.rows_read, o.rows_loaded, o.rows_skipped) == ("loaded", 11, 10, 1)
    assert run.query("select row_number, kind, text from audit.skipped_rows where file_id = %s", o.file_id) == [
        (6, "note", "Người lập biểu")
    ]


def test_record_whose_key_starts_with_tong_so_is_data(intake):
    run = intake({HOSTILE_CSV: h.key_starting_with_tong_so()})
    assert _ids(run, HOSTILE_CSV) == ["TTR-2024-001", "Tổng số 12/TTr"]


def test_numbers_beyond_the_warehouse_types_are_row_problems(intake):
    run = intake({HOSTILE_CSV: h.overflowing_numbers()})
    o = run[HOSTILE_CSV]
    assert (o.status, o.rows_loaded, o.rows_quarantined) == ("loaded", 1, 3)
    got = run.query("select row_number, rule, value from audit.quarantine where file_id = %s order by 1", o.file_id)
    assert got == [(2, "bad_count", "99999999999"), (3, "bad_money", "99999999999 tỷ"), (4, "bad_decimal", "1e30")]


def test_formula_without_a_value_is_its_own_problem(intake):
    run = intake({HOSTILE_XLSX: h.formula_without_value()})
    o = run[HOSTILE_XLSX]
    assert (o.status, o.rows_loaded, o.rows_quarantined) == ("loaded", 2, 1)
    assert run.query("select row_number, rule from audit.quarantine where file_id = %s", o.file_id) == [
        (3, "formula_no_value")
    ]


def test_quarantine_keeps_the_value_as_written(intake):
    run = intake({HOSTILE_CSV: h.negative_as_written()})
    got = run.query("select rule, value from audit.quarantine where file_id = %s", run[HOSTILE_CSV].file_id)
    assert got == [("negative", "-5.000.000")]


@pytest.mark.parametrize(
    ("name", "builder", "rows"),
    [
        ("bom", h.bom_in_the_middle, 3),
        ("crlf-lf", h.mixed_line_ends, 4),
        ("long-cell", h.long_cell_within_limit, 2),
    ],
)
def test_messy_csv_loads_every_record(intake, name, builder, rows):
    run = intake({HOSTILE_CSV: builder()})
    assert (run[HOSTILE_CSV].status, run[HOSTILE_CSV].rows_loaded, run[HOSTILE_CSV].rows_read) == ("loaded", rows, rows)


@pytest.mark.parametrize(
    ("name", "builder", "rows"), [("million-blank-rows", h.million_blank_rows, 3), ("merged", h.merged_over_data, 4)]
)
def test_messy_xlsx_loads_every_record(intake, name, builder, rows):
    run = intake({HOSTILE_XLSX: builder()})
    assert (run[HOSTILE_XLSX].status, run[HOSTILE_XLSX].rows_loaded) == ("loaded", rows)


# --- names --------------------------------------------------------------------------------------


def _clear_names_in_warehouse(url: str) -> list[str]:
    """Every text, JSON and array column of every table searched for the corpus's clear names (folded)."""
    with psycopg.connect(url) as conn:
        scan = scan_tables(conn, name_pattern(list(h.CLEAR_NAMES)))
    assert scan.tables and scan.values, "nothing to scan"
    return scan.hits


@pytest.mark.parametrize(
    "header", ["Họ và tên bị can", "Tên bị can", "HỌ VÀ TÊN BỊ CAN", "Ho va ten bi can", "Accused names"]
)
def test_names_header_variants_are_pseudonymised(intake, header):
    name = "dieutra_CA-HUYEN-HOANGHOA_2024-Y.csv"
    run = intake({name: h.names_under_variant_header(header)})
    assert run[name].status == "loaded"
    (pseudonyms,) = run.query(
        "select accused_names_pseudonyms from raw.dieutra_cases where file_id = %s and row_number = 2",
        run[name].file_id,
    )[0]
    assert len(pseudonyms) == 2
    assert _clear_names_in_warehouse(run.url) == []


def test_unknown_column_of_names_is_kept_only_as_pseudonyms(intake):
    run = intake({HOSTILE_CSV: h.unknown_names_column()})
    assert run[HOSTILE_CSV].status == "loaded"
    (extra,) = run.query(
        "select extra_columns from raw.thanhtra_inspections where file_id = %s and row_number = 2",
        run[HOSTILE_CSV].file_id,
    )[0]
    assert (
        list(extra) == ["Họ và tên người tố cáo (pseudonyms)"]
        and len(extra["Họ và tên người tố cáo (pseudonyms)"]) == 1
    )
    assert _clear_names_in_warehouse(run.url) == []


def test_quarantined_row_data_holds_no_name(intake):
    name = "dieutra_CA-HUYEN-HOANGHOA_2024-Y.csv"
    run = intake({name: h.quarantined_row_with_names()})
    (row_data,) = run.query("select row_data from audit.quarantine where file_id = %s", run[name].file_id)[0]
    assert len(row_data["accused_names_pseudonyms"]) == 2
    assert _clear_names_in_warehouse(run.url) == []


# --- the inbox itself ------------------------------------------------------------------------------


def test_inbox_entries_that_are_not_regular_files_get_receipts(fresh_warehouse_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _good_files(inbox)
    secret = tmp_path / "secret.csv"
    secret.write_text("Họ tên\n" + h.CLEAR_NAMES[2] + "\n", encoding="utf-8")
    (inbox / "thanhtra_TT-HUYEN-SAMSON_2024-Y.csv").symlink_to(secret)
    (inbox / "dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    (inbox / ".~lock.thanhtra_TT-TINH_2024-Y.csv#").write_text("lock", encoding="utf-8")
    os.mkfifo(inbox / "pipe.csv")
    (inbox / "linked-folder").symlink_to(tmp_path, target_is_directory=True)

    outcomes = run_intake(fresh_warehouse_url, inbox, tmp_path / "out", workers=1)
    assert {o.file_name for o in outcomes} == set(GOOD)
    again = run_intake(fresh_warehouse_url, inbox, tmp_path / "out", workers=1)
    assert {o.status for o in again} == {"duplicate"}
    with psycopg.connect(fresh_warehouse_url) as conn:
        receipts = conn.execute(
            "select entry_path, outcome, reason_code from registry.receipts order by outcome, entry_path"
        ).fetchall()
        stored = conn.execute("select count(*) from registry.file_contents").fetchone()[0]
    assert receipts == [
        ("dieutra_CA-TINH_2024-Y.xlsx", "new", None),
        ("thanhtra_TT-TINH_2024-Y.csv", "new", None),
        (".~lock.thanhtra_TT-TINH_2024-Y.csv#", "not_read", "hidden"),
        ("dangling.csv", "not_read", "symlink"),
        ("linked-folder", "not_read", "symlink"),
        ("pipe.csv", "not_read", "special_file"),
        ("thanhtra_TT-HUYEN-SAMSON_2024-Y.csv", "not_read", "symlink"),
    ]  # and the second run added none
    assert stored == 2  # the link's target was never read or stored
    assert _clear_names_in_warehouse(fresh_warehouse_url) == []


def test_formula_text_stays_text_in_the_feedback_workbook(intake):
    """A value that a spreadsheet would run (`=HYPERLINK(…)`, `=1+1`) is written as text, never as a formula."""
    import zipfile

    from ingestion.intake.feedback import feedback_file_name

    run = intake({HOSTILE_CSV: h.formula_text_values()})
    o = run[HOSTILE_CSV]
    assert (o.status, o.rows_loaded, o.rows_quarantined) == ("loaded", 2, 1)
    assert run.query("select value from audit.quarantine where file_id = %s", o.file_id) == [("=1+1",)]
    workbook = run.out / "feedback" / feedback_file_name(HOSTILE_CSV)
    with zipfile.ZipFile(workbook) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
        strings = z.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() else ""
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)
    assert "=1+1" in strings  # shown to the sender, as text
