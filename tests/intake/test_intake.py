"""Intake on real files: every rejection reason and row rule of the contract.

Each test writes a real return (xlsx in the official layout or csv), runs the real
pipeline into a real PostgreSQL, and reads back the registry, raw and audit rows.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from ingestion.intake.pipeline import process_file, run_intake
from ingestion.intake.pseudonym import MissingKeyError
from ingestion.intake.registry import register_bytes, unseal_to
from ingestion.intake.schema import ensure_schema
from tests.returns_factory import (
    DIEUTRA_HEADERS,
    THANHTRA_HEADERS,
    dieutra_row,
    thanhtra_row,
    write_csv,
    write_official_xlsx,
)


def intake_one(url: str, path: Path, out: Path):
    (outcome,) = run_intake(url, path.parent, out, paths=[path])
    return outcome


def quarantine(conn: psycopg.Connection, file_id: int) -> list[tuple]:
    return conn.execute(
        "select row_number, column_name, value, rule, severity from audit.quarantine where file_id = %s order by 1, 4",
        (file_id,),
    ).fetchall()


@pytest.fixture()
def inbox(tmp_path: Path) -> Path:
    p = tmp_path / "inbox"
    p.mkdir()
    return p


def test_official_xlsx_layout_loads_every_row(warehouse_url, conn, inbox, tmp_path):
    path = write_official_xlsx(
        inbox / "thanhtra_TT-TINH_2024-Y.xlsx",
        "TT-TINH - Thanh tra tỉnh Thanh Hóa",
        "2024-Y",
        THANHTRA_HEADERS,
        [thanhtra_row(i) for i in range(1, 6)],
    )
    o = intake_one(warehouse_url, path, tmp_path / "out")
    # 5 records, and 3 rows that are not records (column numbers, totals, signature), each kept as skipped
    assert (o.status, o.rows_read, o.rows_loaded, o.rows_quarantined, o.rows_skipped) == ("loaded", 8, 5, 0, 3)
    row = conn.execute(
        "select row_number, kind, status, violation_vnd, recommended_recovery_vnd, recovered_vnd, start_date,"
        " violation_land_m2 from raw.thanhtra_inspections where file_id = %s order by row_number limit 1",
        (o.file_id,),
    ).fetchone()
    # header on row 6, column numbers on row 7: the first record is row 8 of the sheet
    assert row[0] == 8
    assert row[1:6] == ("planned", "concluded", 1_500_000_000, 1_200_000_000, 800_000_000)
    assert str(row[6]) == "2024-01-15"
    assert float(row[7]) == 1250.5
    assert (tmp_path / "out" / "feedback" / "thanhtra_TT-TINH_2024-Y.phan-hoi.feedback.xlsx").exists()


def test_english_headers_and_windows_1258_csv(warehouse_url, conn, inbox, tmp_path):
    from ingestion.contract.sources import SOURCES

    header = [c.name for c in SOURCES["dieutra"].columns]
    path = write_csv(inbox / "dieutra_CA-TINH_2024-Y.csv", header, [dieutra_row(1)], encoding="cp1258")
    o = intake_one(warehouse_url, path, tmp_path / "out")
    assert (o.status, o.rows_loaded) == ("loaded", 1)
    title, article, channel = conn.execute(
        "select case_title, article, detection_channel from raw.dieutra_cases where file_id = %s", (o.file_id,)
    ).fetchone()
    assert title == "Vụ tham ô tài sản tại Ban quản lý dự án số 1"
    assert (article, channel) == (353, "inspection")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("kiemtoan_TT-TINH_2024-Y.csv", "unknown_source"),
        ("thanhtra-TT-TINH-2024.csv", "bad_file_name"),
        ("thanhtra_TT-TINH_2024-Q5.csv", "bad_period"),
        ("thanhtra_TT-HUYEN-ATLANTIS_2024-Y.csv", "unknown_unit"),
        ("thanhtra_CA-TINH_2024-Y.csv", "unknown_unit"),  # police do not send inspection returns
        ("thanhtra_TT-HUYEN-HOANGHOA_2025-Y.csv", "unit_not_valid"),  # districts end 30/06/2025
    ],
)
def test_rejections_by_name(warehouse_url, conn, inbox, tmp_path, name, code):
    # distinct content per case: the same bytes under another name would be a duplicate
    path = write_csv(inbox / name, THANHTRA_HEADERS, [thanhtra_row(1, title=name)])
    o = intake_one(warehouse_url, path, tmp_path / "out")
    assert (o.status, o.reject_code) == ("rejected", code)
    assert o.reason_vi and o.reason_en
    # kept aside unchanged, sealed in the warehouse; no clear copy in the output folder
    assert not (tmp_path / "out" / "rejected" / name).exists()
    assert code in (tmp_path / "out" / "rejected" / (name + ".report.txt")).read_text(encoding="utf-8")
    copy = unseal_to(conn, o.file_id, tmp_path / "unsealed")
    assert copy.read_bytes() == path.read_bytes()


def test_missing_required_column_rejects(warehouse_url, conn, inbox, tmp_path):
    header = [h for h in THANHTRA_HEADERS if h != "Trạng thái"]
    rows = [[v for h, v in zip(THANHTRA_HEADERS, thanhtra_row(1), strict=True) if h != "Trạng thái"]]
    o = intake_one(warehouse_url, write_csv(inbox / "thanhtra_TT-TINH_2024-Y.csv", header, rows), tmp_path / "o")
    assert (o.status, o.reject_code) == ("rejected", "missing_columns")
    assert "Trạng thái" in o.reason_vi


def test_no_data_rows_rejects(warehouse_url, inbox, tmp_path):
    path = write_official_xlsx(inbox / "thanhtra_TT-TINH_2023-Y.xlsx", "TT-TINH", "2023-Y", THANHTRA_HEADERS, [])
    o = intake_one(warehouse_url, path, tmp_path / "o")
    assert (o.status, o.reject_code) == ("rejected", "no_rows")


def test_title_lines_must_agree_with_name(warehouse_url, inbox, tmp_path):
    path = write_official_xlsx(
        inbox / "thanhtra_TT-TINH_2023-6M.xlsx", "TT-TINH", "2023-Y", THANHTRA_HEADERS, [thanhtra_row(1)]
    )
    o = intake_one(warehouse_url, path, tmp_path / "o")
    assert (o.status, o.reject_code) == ("rejected", "title_mismatch")


def test_corrupt_xlsx_is_unreadable(warehouse_url, inbox, tmp_path):
    good = write_official_xlsx(inbox / "x.xlsx", "TT-TINH", "2023-Q1", THANHTRA_HEADERS, [thanhtra_row(1)])
    bad = inbox / "thanhtra_TT-TINH_2023-Q1.xlsx"
    bad.write_bytes(good.read_bytes()[:700])
    good.unlink()
    o = intake_one(warehouse_url, bad, tmp_path / "o")
    assert (o.status, o.reject_code) == ("rejected", "unreadable")


def test_row_rules_quarantine_and_flag(warehouse_url, conn, inbox, tmp_path):
    rows = [
        thanhtra_row(1),
        thanhtra_row(2, title=None),  # required
        thanhtra_row(3, start_date="32/01/2024"),  # bad_date
        thanhtra_row(4, violation_vnd="nhiều tiền"),  # bad_money
        thanhtra_row(5, kind="Thường xuyên"),  # bad_label
        thanhtra_row(6, persons_proposed=-1),  # negative
        thanhtra_row(7, conclusion_date="20/12/2024"),  # after 2024-Y's end (14/12/2024)
        thanhtra_row(8, inspection_id="TTR-2024-001"),  # duplicate_key with row 1
        thanhtra_row(9, conclusion_no=None),  # conditional_required
        thanhtra_row(10, recovered_vnd="2 tỷ"),  # warn: recovered above recommended
        thanhtra_row(11, kind="dot xuat", status="dang tien hanh", conclusion_no=None, conclusion_date=None),
    ]
    path = write_csv(inbox / "thanhtra_TT-TINH_2024-Y.csv", THANHTRA_HEADERS, rows)
    o = intake_one(warehouse_url, path, tmp_path / "o")
    assert o.status == "loaded"
    assert o.rows_read == 11
    assert o.rows_read == o.rows_loaded + o.rows_quarantined
    found = {(r[0], r[3], r[4]) for r in quarantine(conn, o.file_id)}
    # CSV line numbers as the unit sees them: header is line 1, record i is line i + 1
    expected = {
        (3, "required", "row"),
        (4, "bad_date", "row"),
        (5, "bad_money", "row"),
        (6, "bad_label", "row"),
        (7, "negative", "row"),
        (8, "after_period_end", "row"),
        (2, "duplicate_key", "row"),
        (9, "duplicate_key", "row"),
        (10, "conditional_required", "row"),
        (11, "recovered_above_recommended", "warn"),
    }
    assert expected <= found
    assert o.rows_quarantined == 9 and o.rows_flagged == 1 and o.rows_loaded == 2
    loaded = conn.execute(
        "select row_number, kind, status from raw.thanhtra_inspections where file_id = %s order by 1", (o.file_id,)
    ).fetchall()
    assert loaded == [(11, "planned", "concluded"), (12, "ad_hoc", "in_progress")]
    value = conn.execute(
        "select value from audit.quarantine where file_id = %s and rule = 'bad_money'", (o.file_id,)
    ).fetchone()
    assert value == ("nhiều tiền",)
    # the feedback workbook lists every problem with its row number
    import openpyxl

    wb = openpyxl.load_workbook(tmp_path / "o" / "feedback" / "thanhtra_TT-TINH_2024-Y.phan-hoi.feedback.xlsx")
    listed = {(r[0], r[6]) for r in wb["Lỗi - Problems"].iter_rows(min_row=2, values_only=True)}
    assert {(n, rule) for n, rule, _ in expected} <= listed
    results = conn.execute(
        "select count(*), count(*) filter (where not success) from audit.validation_results where file_id = %s",
        (o.file_id,),
    ).fetchone()
    assert results[0] > 20 and results[1] >= 8


def test_same_bytes_twice_are_ingested_once(warehouse_url, conn, inbox, tmp_path):
    path = write_csv(
        inbox / "thanhtra_TT-TINH_2022-Y.csv",
        THANHTRA_HEADERS,
        [thanhtra_row(1, start_date="01/02/2022", conclusion_date="01/03/2022")],
    )
    resend = inbox / "resend"
    resend.mkdir()
    (resend / path.name).write_bytes(path.read_bytes())
    outcomes = run_intake(warehouse_url, inbox, tmp_path / "o")
    assert [o.status for o in outcomes] == ["duplicate", "loaded"] or [o.status for o in outcomes] == [
        "loaded",
        "duplicate",
    ]
    sha = conn.execute("select sha256 from registry.files where file_id = %s", (outcomes[0].file_id,)).fetchone()[0]
    assert conn.execute("select count(*) from registry.files where sha256 = %s", (sha,)).fetchone()[0] == 1
    assert conn.execute("select count(*) from registry.receipts where sha256 = %s", (sha,)).fetchone()[0] == 2


def test_correction_supersedes_and_keeps_history(warehouse_url, conn, inbox, tmp_path):
    v1 = write_csv(
        inbox / "thanhtra_TT-SO-XAYDUNG_2024-6M.csv",
        THANHTRA_HEADERS,
        [thanhtra_row(1, start_date="01/02/2024", conclusion_date="01/03/2024"), thanhtra_row(2, title=None)],
    )
    o1 = intake_one(warehouse_url, v1, tmp_path / "o")
    v2 = write_csv(
        inbox / "thanhtra_TT-SO-XAYDUNG_2024-6M_v2.csv",
        THANHTRA_HEADERS,
        [
            thanhtra_row(1, start_date="01/02/2024", conclusion_date="01/03/2024"),
            thanhtra_row(2, start_date="01/02/2024", conclusion_date="01/03/2024"),
        ],
    )
    o2 = intake_one(warehouse_url, v2, tmp_path / "o")
    status = dict(
        conn.execute(
            "select file_id, status from registry.files where file_id in (%s, %s)", (o1.file_id, o2.file_id)
        ).fetchall()
    )
    assert status == {o1.file_id: "superseded", o2.file_id: "loaded"}
    assert (
        conn.execute("select count(*) from raw.thanhtra_inspections where file_id = %s", (o1.file_id,)).fetchone()[0]
        == 1
    )
    assert (
        conn.execute("select count(*) from raw.thanhtra_inspections where file_id = %s", (o2.file_id,)).fetchone()[0]
        == 2
    )


def test_names_are_pseudonymised(warehouse_url, conn, inbox, tmp_path):
    path = write_csv(
        inbox / "dieutra_CA-TINH_2023-Y.csv", DIEUTRA_HEADERS, [dieutra_row(7, initiation_date="01/03/2023")]
    )
    o = intake_one(warehouse_url, path, tmp_path / "o")
    (pseudonyms,) = conn.execute(
        "select accused_names_pseudonyms from raw.dieutra_cases where file_id = %s", (o.file_id,)
    ).fetchone()
    assert len(pseudonyms) == 2 and all(len(p) == 32 for p in pseudonyms)
    dump = conn.execute("select string_agg(t::text, ' ') from raw.dieutra_cases t").fetchone()[0]
    assert "Nguyễn Văn Thử" not in dump and "nguyễn văn thử" not in dump


def test_processing_again_is_idempotent(warehouse_url, conn, inbox, tmp_path):
    path = write_csv(
        inbox / "dieutra_CA-TINH_2022-Y.csv", DIEUTRA_HEADERS, [dieutra_row(9, initiation_date="01/03/2022")]
    )
    o = intake_one(warehouse_url, path, tmp_path / "o")
    again = process_file(conn, o.file_id, None, force=True)
    assert (again.status, again.rows_loaded) == ("loaded", 1)
    assert conn.execute("select count(*) from raw.dieutra_cases where file_id = %s", (o.file_id,)).fetchone()[0] == 1


def test_no_key_stops_with_a_clear_error(warehouse_url, conn, monkeypatch):
    ensure_schema(conn)
    reg = register_bytes(conn, "dieutra_CA-TINH_2021-Y.csv", b"x,y\n1,2\n")
    monkeypatch.delenv("PCTN_PSEUDONYM_KEY")
    with pytest.raises(MissingKeyError, match="PCTN_PSEUDONYM_KEY"):
        process_file(conn, reg.file_id)
    assert conn.execute("select status from registry.files where file_id = %s", (reg.file_id,)).fetchone() == (
        "received",
    )


def test_data_docs_rebuilt_from_the_warehouse(warehouse_url, conn, inbox, tmp_path):
    from ingestion.intake.datadocs import build_data_docs

    path = write_csv(inbox / "thanhtra_TT-SO-YTE_2024-Y.csv", THANHTRA_HEADERS, [thanhtra_row(5, title="Data docs")])
    o = intake_one(warehouse_url, path, tmp_path / "o")
    index = build_data_docs(warehouse_url, tmp_path / "docs")
    assert index.name == "index.html" and index.exists()
    page = tmp_path / "docs" / "files" / f"{o.file_id}.html"  # one validation page per file
    assert page.exists() and path.name in page.read_text(encoding="utf-8")


def test_text_with_tabs_newlines_and_backslashes_survives_copy(warehouse_url, conn, inbox, tmp_path):
    tricky = 'Thanh tra "dự án"\\nhà ở\tkhu\\ A'
    path = write_csv(
        inbox / "thanhtra_TT-SO-TAICHINH_2024-Y.csv",
        THANHTRA_HEADERS,
        [thanhtra_row(1, inspected_entity="Ban QLDA\nsố 2 \\ phòng 3", title=tricky)],
    )
    o = intake_one(warehouse_url, path, tmp_path / "o")
    title, entity = conn.execute(
        "select title, inspected_entity from raw.thanhtra_inspections where file_id = %s", (o.file_id,)
    ).fetchone()
    # whitespace inside a cell is folded by the reader; backslashes and quotes are kept as sent
    assert title == 'Thanh tra "dự án"\\nhà ở khu\\ A'
    assert entity == "Ban QLDA số 2 \\ phòng 3"


@pytest.mark.parametrize(
    ("overrides", "rule", "column"),
    [
        ({"article": "Điều 999"}, "bad_article", "Điều luật"),
        ({"accused_count": "2,5"}, "bad_count", "Số bị can"),
        ({"initiation_date": "01/01/1985"}, "implausible_date", "Ngày khởi tố"),
        ({"detection_channel": "Mạng xã hội"}, "bad_label", "Nguồn phát hiện"),
        ({"damage_vnd": "-1 tỷ", "secured_vnd": None}, "negative", "Thiệt hại (đồng)"),
        ({"secured_vnd": "3 tỷ"}, "secured_above_damage", "Đã thu hồi, kê biên, phong tỏa (đồng)"),
    ],
)
def test_more_row_rules_each_in_its_own_file(warehouse_url, conn, inbox, tmp_path, overrides, rule, column):
    import openpyxl

    name = f"dieutra_CA-TINH_2021-Y_v{abs(hash(rule)) % 1000 + 2}.csv"
    rows = [
        dieutra_row(1, initiation_date="01/02/2021"),
        dieutra_row(2, **{"initiation_date": "01/02/2021", **overrides}),
    ]
    o = intake_one(warehouse_url, write_csv(inbox / name, DIEUTRA_HEADERS, rows), tmp_path / "o")
    severity = "warn" if rule.endswith("_above_damage") else "row"
    assert (o.rows_read, o.rows_quarantined, o.rows_flagged) == (2, int(severity == "row"), int(severity == "warn"))
    assert [(r[0], r[1], r[3], r[4]) for r in quarantine(conn, o.file_id)] == [(3, column, rule, severity)]
    wb = openpyxl.load_workbook(tmp_path / "o" / "feedback" / name.replace(".csv", ".phan-hoi.feedback.xlsx"))
    listed = [r for r in wb["Lỗi - Problems"].iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[1], r[6]) for r in listed] == [(3, column, rule)]
    failed = conn.execute(
        "select rule, severity, unexpected_count from audit.validation_results where file_id = %s and not success",
        (o.file_id,),
    ).fetchall()
    if rule not in ("bad_article", "bad_count"):  # unreadable values are the parser's finding, not the suite's
        assert (rule, severity, 1) in failed


def test_thads_yes_no_and_land_decimal(warehouse_url, conn, inbox, tmp_path):
    from ingestion.contract.sources import SOURCES

    header = [c.header_vi for c in SOURCES["thads"].columns]
    rows = [
        ["QD-1/2024", "12/2023/HS-ST", "VA-1", "01/03/2024", "1 tỷ", "Có", "200 triệu", "Đang thi hành"],
        ["QD-2/2024", "13/2023/HS-ST", None, "01/03/2024", "1 tỷ", "có lẽ", "0", "Đang thi hành"],
        ["QD-3/2024", "14/2023/HS-ST", None, "01/03/2024", "1 tỷ", "x", "1,2 tỷ", "Đang thi hành"],
    ]
    o = intake_one(warehouse_url, write_csv(inbox / "thads_THADS-TINH_2024-Y.csv", header, rows), tmp_path / "o")
    got = {(r[0], r[3], r[4]) for r in quarantine(conn, o.file_id)}
    assert got == {(3, "bad_bool", "row"), (4, "collected_above_due", "warn")}
    loaded = conn.execute(
        "select decision_no, enforceable, collected_vnd from raw.thads_matters where file_id = %s order by 1",
        (o.file_id,),
    ).fetchall()
    assert loaded == [("QD-1/2024", True, 200_000_000), ("QD-3/2024", True, 1_200_000_000)]
    land = write_csv(
        inbox / "thanhtra_TT-SO-GIAODUC_2024-Y.csv",
        THANHTRA_HEADERS,
        [thanhtra_row(1, violation_land_m2="mười mét", title="đất")],
    )
    o2 = intake_one(warehouse_url, land, tmp_path / "o")
    assert [(r[3], r[4]) for r in quarantine(conn, o2.file_id)] == [("bad_decimal", "row")]


def test_one_batch_plan_for_the_cli_and_the_dag():
    """`plan_batches` (the CLI's workers and the DAG's mapped tasks): one source per batch, whole returns,
    versions in order, sources in name order; a name that does not parse is a return of its own."""
    from ingestion.intake.pipeline import plan_batches

    files = [
        (1, "thads_TA-TH01_2025-Q1_v2.xlsx"),
        (2, "khieunai_TA-TH01_2025-Q1.xlsx"),
        (3, "thads_TA-TH01_2025-Q1.xlsx"),
        (4, "not a return.txt"),
        (5, "thads_TA-TH02_2025-Q1.csv"),
        (6, "thads_TA-TH03_2025-Q1.csv"),
    ]
    assert plan_batches(files, 2) == [[4], [2], [3, 1], [5, 6]]
    assert plan_batches(files, 1000) == [[4], [2], [3, 1, 5, 6]]
    assert plan_batches([], 10) == []
