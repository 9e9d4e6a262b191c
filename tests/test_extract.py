"""The extract: every number read back from the workbook and the CSVs equals the marts.

Runs on the sample marts (tests/test_extract_marts.py) in a scratch database of the
test server; the comparisons query the marts with their own SQL, not the extract's.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from test_extract_marts import sample_marts_database

from ingestion.extract import (
    ExtractDataError,
    build_extract,
    latest_period,
    write_extract,
)
from ingestion.extract.__main__ import main as extract_main
from ingestion.extract.csvs import csv_value, neutralise
from ingestion.extract.workbook import HEADER_ROW

BUILT_AT = datetime(2025, 1, 6, 1, 30, tzinfo=UTC)
HEADER = HEADER_ROW + 1  # openpyxl rows are 1-based
SHEETS = [
    "Tổng hợp - Summary",
    "Phát hiện - Detection",
    "Xử lý - Handling",
    "Thu hồi tài sản - Recovery",
    "Chất lượng dữ liệu - Quality",
    "Dữ liệu cách ly - Quarantine",
    "Xu hướng - Trends",
    "Định nghĩa - Definitions",
]
LEVEL = {"province": "Tỉnh / Province", "agency": "Ngành / Agency", "unit": "Đơn vị / Unit"}
SCOPE = {"corruption": "Tham nhũng / Corruption", "position": "Chức vụ / Position crimes", "all": "Tất cả / All"}


@pytest.fixture(scope="module")
def marts_url() -> Iterator[str]:
    with sample_marts_database() as url:
        yield url


@pytest.fixture(scope="module")
def year_extract(marts_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2024-Y extract written to a folder; returns the workbook path."""
    extract_id = build_extract(marts_url, "2024-Y", built_at=BUILT_AT, dbt_invocation_id="test-run-1")
    return write_extract(marts_url, extract_id, tmp_path_factory.mktemp("extract-2024-Y"))


def fetch(url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def table(ws: Worksheet) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Header and data rows of a sheet, as openpyxl reads them back."""
    rows = list(ws.iter_rows(min_row=HEADER, values_only=True))
    return list(rows[0]), [tuple(r) for r in rows[1:]]


def num(value: Any) -> float | None:
    """A mart number as the workbook holds it: a double written with 16 significant digits
    (xlsxwriter's `%.16G`; Excel itself shows 15). Counts and VND amounts stay exact."""
    return None if value is None else float(f"{float(value):.16G}")


# --- content equals the marts ----------------------------------------------------------------------


def test_latest_period_is_the_latest_with_values(marts_url: str) -> None:
    assert latest_period(marts_url) == "2025-9M"


def test_summary_numbers_equal_the_yearly_evaluation(marts_url: str, year_extract: Path) -> None:
    wb = openpyxl.load_workbook(year_extract)
    assert wb.sheetnames == SHEETS
    header, rows = table(wb["Tổng hợp - Summary"])
    assert header[0] == "Mã chỉ tiêu / Code" and header[1] == "Chỉ tiêu / Indicator"
    expected = {
        code: (value, prev, target, met)
        for code, value, prev, target, met in fetch(
            marts_url,
            """
            select e.indicator_code, e.value, e.previous_value, e.target_value, e.target_met
            from marts.fct_yearly_evaluation as e
            join marts.dim_indicators as i on i.indicator_code = e.indicator_code and i.default_scope = e.scope
            where e.report_year = 2024 and e.unit_level = 'province'
            """,
        )
    }
    assert {r[0] for r in rows} == set(expected)
    col = {h: i for i, h in enumerate(header)}
    for row in rows:
        value, prev, target, met = expected[row[0]]
        assert row[col["Kỳ này / This period"]] == num(value), row[0]
        assert row[col["Năm trước / Previous year"]] == num(prev), row[0]
        assert row[col["Mục tiêu năm / Yearly target"]] == num(target), row[0]
        assert (
            row[col["Đạt mục tiêu / Target met"]] == {True: "Đạt / Met", False: "Chưa đạt / Not met", None: None}[met]
        )
        change = row[col["Thay đổi / Change"]]
        assert change == (num(value - prev) if value is not None and prev is not None else None)
        pct = row[col["Thay đổi (%) / Change (%)"]]
        if prev:
            assert pct == pytest.approx(float((value - prev) / abs(prev)), rel=1e-12)
        else:
            assert pct is None


@pytest.mark.parametrize(
    ("sheet", "group"),
    [
        ("Phát hiện - Detection", "detection"),
        ("Xử lý - Handling", "handling"),
        ("Thu hồi tài sản - Recovery", "recovery"),
    ],
)
def test_group_sheets_equal_the_indicator_values(marts_url: str, year_extract: Path, sheet: str, group: str) -> None:
    _, rows = table(openpyxl.load_workbook(year_extract)[sheet])
    expected = fetch(
        marts_url,
        """
        select v.indicator_code, v.unit_level, v.unit_code, v.scope, v.value, v.numerator, v.denominator, p.value
        from marts.fct_indicator_values as v
        join marts.dim_indicators as i on i.indicator_code = v.indicator_code
        left join marts.fct_indicator_values as p
            on p.indicator_code = v.indicator_code and p.period_code = '2023-Y' and p.unit_code = v.unit_code
            and p.unit_level = v.unit_level and p.restatement = v.restatement and p.scope = v.scope
        where i.indicator_group = %s and v.period_code = '2024-Y'
          and v.restatement = case when v.unit_level = 'unit' then 'as_reported' else 'restated' end
        """,
        (group,),
    )
    assert len(expected) > 10
    got = sorted((r[0], r[3], r[4], r[6], r[7], r[8], r[9], r[10]) for r in rows)
    want = sorted(
        (code, LEVEL[level], unit, SCOPE[scope], num(v), num(n), num(d), num(p))
        for code, level, unit, scope, v, n, d, p in expected
    )
    assert got == want


def test_trends_and_definitions_equal_the_marts(marts_url: str, year_extract: Path) -> None:
    wb = openpyxl.load_workbook(year_extract)
    header, rows = table(wb["Xu hướng - Trends"])
    assert header[3:] == ["2020", "2021", "2022", "2023", "2024"]
    expected = {
        (code, str(year)): num(value)
        for code, year, value in fetch(
            marts_url,
            """
            select v.indicator_code, v.report_year, v.value
            from marts.fct_indicator_values as v
            join marts.dim_indicators as i on i.indicator_code = v.indicator_code and i.default_scope = v.scope
            join marts.dim_reporting_periods as p on p.period_code = v.period_code
            where p.period_kind = 'Y' and v.unit_level = 'province' and v.restatement = 'restated'
              and p.report_year <= 2024
            """,
        )
    }
    got = {(r[0], y): v for r in rows for y, v in zip(header[3:], r[3:], strict=True) if v is not None}
    assert got == expected

    _, rows = table(wb["Định nghĩa - Definitions"])
    defs = fetch(marts_url, "select indicator_code, name_vi, name_en, formula_vi, formula_en from marts.dim_indicators")
    assert sorted((r[0], r[1], r[2], r[5], r[6]) for r in rows) == sorted(defs)


def test_data_quality_sheets_equal_the_marts(marts_url: str, year_extract: Path) -> None:
    wb = openpyxl.load_workbook(year_extract)
    ws = wb["Chất lượng dữ liệu - Quality"]
    _, rows = table(ws)
    expected = fetch(
        marts_url,
        """
        select s.unit_code, s.period_code, s.status, s.due_date, s.received_at, s.rows_read
        from marts.fct_return_submissions as s
        join marts.dim_reporting_periods as p on p.period_code = s.period_code
        where s.status <> 'on_time' and p.report_year = 2024 and p.regime = 'thanhtra'
        """,
    )
    status = {"late": "Trễ hạn / Late", "missing": "Chưa nộp / Missing", "rejected": "Bị từ chối / Rejected"}
    want = sorted(
        (
            unit,
            period,
            status[st],
            datetime.combine(due, datetime.min.time()),
            None if rec is None else (rec.astimezone(UTC) + timedelta(hours=7)).replace(tzinfo=None),  # UTC+7
            read,
        )
        for unit, period, st, due, rec, read in expected
    )
    got = sorted((r[1], r[3], r[4], r[5], r[6], r[7]) for r in rows)
    assert got == want
    # worst first: missing, then rejected, then late
    order = [r[4] for r in rows]
    assert order == sorted(order, key=["Chưa nộp / Missing", "Bị từ chối / Rejected", "Trễ hạn / Late"].index)
    assert ws.cell(row=HEADER + 1, column=6).number_format == "dd/mm/yyyy"
    assert ws.cell(row=HEADER + 1, column=7).number_format in ("dd/mm/yyyy hh:mm", "General")

    _, qrows = table(wb["Dữ liệu cách ly - Quarantine"])
    qexpected = fetch(
        marts_url,
        """
        select q.unit_code, q.period_code, q.rule, q.rows from marts.fct_quarantine_summary as q
        join marts.dim_reporting_periods as p on p.period_code = q.period_code
        where p.report_year = 2024 and p.regime = 'thanhtra'
        """,
    )
    assert sorted((r[1], r[3], r[4], r[6]) for r in qrows) == sorted(qexpected)


def test_phase_review_shows_the_phase_totals(marts_url: str, tmp_path: Path) -> None:
    extract_id = build_extract(marts_url, "2023-2026", built_at=BUILT_AT, dbt_invocation_id="test-run-1")
    wb = openpyxl.load_workbook(write_extract(marts_url, extract_id, tmp_path))
    header, rows = table(wb["Tổng hợp - Summary"])
    assert header[5:9] == ["2023", "2024", "2025", "2026"]
    col = header.index("Cả giai đoạn / Phase total")
    totals = dict(
        fetch(
            marts_url,
            """
            select t.indicator_code, t.value from marts.fct_phase_totals as t
            join marts.dim_indicators as i on i.indicator_code = t.indicator_code and i.default_scope = t.scope
            where t.phase_code = '2023-2026' and t.unit_code = 'THANHHOA'
            """,
        )
    )
    assert {r[0]: r[col] for r in rows if r[col] is not None} == {k: num(v) for k, v in totals.items()}
    _, detection = table(wb["Phát hiện - Detection"])
    assert detection and all(r[7] is not None for r in detection)


# --- layout ----------------------------------------------------------------------------------------


def test_number_formats_frozen_headers_and_print_layout(year_extract: Path) -> None:
    wb = openpyxl.load_workbook(year_extract)
    ws = wb["Tổng hợp - Summary"]
    header, rows = table(ws)
    formats = {}
    for r, row in enumerate(rows, start=HEADER + 1):
        formats[row[0]] = ws.cell(row=r, column=header.index("Kỳ này / This period") + 1).number_format
    assert formats["DET_VIOLATION_VND"] == "#,##0"
    assert formats["REC_ADMIN_RATE"] == "0.0%"
    assert formats["DET_CASES_NEW"] == "#,##0"
    for name in SHEETS:
        sheet = wb[name]
        assert sheet.freeze_panes is not None and sheet.freeze_panes.endswith(str(HEADER + 1)), name
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.paperSize == 9  # A4
        assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0  # 1 is the default
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows == f"${HEADER}:${HEADER}"
        assert "2024-Y" in sheet.oddHeader.right.text and "&P" in sheet.oddFooter.right.text
        assert sheet.auto_filter.ref is not None
        for col in range(1, sheet.max_column + 1):
            letter = openpyxl.utils.get_column_letter(col)
            assert 8 <= sheet.column_dimensions[letter].width <= 41, (name, letter)  # 40 + padding
    assert wb.properties.created == BUILT_AT.replace(tzinfo=None)
    assert "2024-Y" in wb.properties.title


def test_native_charts_read_the_trends_sheet(year_extract: Path) -> None:
    with zipfile.ZipFile(year_extract) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        xml = [z.read(n).decode("utf-8") for n in charts]
    assert len(xml) == 2
    recovery, detection = xml
    assert "<c:lineChart>" in recovery and "Asset recovery rates by year" in recovery
    assert recovery.count("<c:ser>") == 3  # the three recovery ratios of the sample
    assert "'Xu hướng - Trends'!$D$" in recovery and '<c:numFmt formatCode="0%"' in recovery
    assert "<c:barChart>" in detection and '<c:grouping val="stacked"/>' in detection
    assert detection.count("<c:ser>") == 7  # one series per detection channel


def test_detection_chart_falls_back_to_new_cases_without_channels(tmp_path: Path) -> None:
    with sample_marts_database(with_channels=False) as url:
        extract_id = build_extract(url, "2024-Y", built_at=BUILT_AT)
        path = write_extract(url, extract_id, tmp_path)
    with zipfile.ZipFile(path) as z:
        detection = z.read("xl/charts/chart2.xml").decode("utf-8")
    assert detection.count("<c:ser>") == 1 and "new cases initiated by year" in detection


# --- CSV and manifest ------------------------------------------------------------------------------


def _csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so Excel reads Vietnamese"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def _same(cell: Any, text: str) -> bool:
    if cell is None:
        return text == ""
    if isinstance(cell, str):
        return text == neutralise(cell)
    if isinstance(cell, datetime):
        return text in (cell.strftime("%Y-%m-%d"), cell.strftime("%Y-%m-%d %H:%M:%S"))
    return num(Decimal(text)) == cell


def test_each_csv_equals_its_sheet(year_extract: Path) -> None:
    wb = openpyxl.load_workbook(year_extract)
    manifest = json.loads(next(year_extract.parent.glob("*_manifest.json")).read_text(encoding="utf-8"))
    assert [s["sheet"] for s in manifest["sheets"]] == SHEETS
    for sheet in manifest["sheets"]:
        header, rows = table(wb[sheet["sheet"]])
        lines = _csv_rows(year_extract.parent / sheet["csv"])
        assert lines[0] == header
        assert len(lines) - 1 == len(rows) == sheet["rows"]
        for row, line in zip(rows, lines[1:], strict=True):
            assert all(_same(c, t) for c, t in zip(row, line, strict=True)), (sheet["csv"], row, line)


def test_manifest_lists_every_file_with_its_sha256(year_extract: Path) -> None:
    folder = year_extract.parent
    manifest_path = next(folder.glob("*_manifest.json"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["period"]["code"] == "2024-Y"
    assert manifest["period"]["start_date"] == "2023-12-15" and manifest["period"]["end_date"] == "2024-12-14"
    assert manifest["built_at"] == "2025-01-06T01:30:00Z"
    assert manifest["dbt_invocation_id"] == "test-run-1"
    on_disk = {p.name for p in folder.iterdir()} - {manifest_path.name}
    assert {f["name"] for f in manifest["files"]} == on_disk
    for f in manifest["files"]:
        content = (folder / f["name"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == f["sha256"] and len(content) == f["bytes"]


# --- formulas cannot run ---------------------------------------------------------------------------


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    with sample_marts_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("update marts.dim_indicators set name_vi = '=1+1', formula_en = '@SUM(A1)' "
                         "where indicator_code = 'DET_CASES_NEW'")  # fmt: skip
            conn.execute("update marts.fct_quarantine_summary set rule = '+cmd|'' /C calc''!A0' where rows = 1")
            conn.execute("update marts.dim_reporting_units set unit_name_vi = '-2+3' where unit_code = 'CA-TINH'")
        extract_id = build_extract(url, "2024-Y", built_at=BUILT_AT)
        path = write_extract(url, extract_id, tmp_path)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in z.read(name).decode("utf-8"), f"a formula in {name}"
    wb = openpyxl.load_workbook(path)
    found = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
                    found.add(cell.value)
    assert {"=1+1", "@SUM(A1)", "-2+3", "+cmd|' /C calc'!A0"} <= found
    texts = "".join(p.read_text(encoding="utf-8-sig") for p in tmp_path.glob("*.csv"))
    assert "'=1+1" in texts and "'@SUM(A1)" in texts and "'-2+3" in texts and ",'+cmd|' /C calc'!A0," in texts
    assert not re.search(r"(^|,)=1\+1", texts, re.M)
    # negative numbers are numbers, never prefixed
    assert re.search(r",-[\d.]+(,|\r?$)", texts, re.M) and not re.search(r",'-[\d.]+(,|\r?$)", texts, re.M)


def test_csv_values() -> None:
    assert neutralise('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert neutralise("\tcmd") == "'\tcmd" and neutralise("Thanh tra") == "Thanh tra"
    assert csv_value(Decimal("-5")) == "-5" and csv_value(-5) == "-5"
    assert csv_value(Decimal("196000000000.00")) == "196000000000"
    assert csv_value(Decimal("0.250")) == "0.25" and csv_value(None) == ""


# --- build identity --------------------------------------------------------------------------------


def test_same_marts_give_the_same_extract_and_changed_marts_a_new_one(tmp_path: Path) -> None:
    with sample_marts_database() as url:
        first = build_extract(url, "2024-Y", built_at=BUILT_AT)
        assert build_extract(url, "2024-Y", built_at=datetime(2025, 2, 1, tzinfo=UTC)) == first
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "update marts.fct_indicator_values set value = value + 1 where indicator_code = 'DET_CASES_NEW' "
                "and period_code = '2024-Y' and unit_level = 'province'"
            )
        second = build_extract(url, "2024-Y", built_at=BUILT_AT)
        assert second != first
        a = write_extract(url, first, tmp_path / "a")
        b = write_extract(url, second, tmp_path / "b")
        assert a.read_bytes() != b.read_bytes()


def test_same_marts_and_build_time_give_identical_bytes(tmp_path: Path) -> None:
    paths = []
    for i in range(2):
        with sample_marts_database() as url:
            extract_id = build_extract(url, "2024-Y", built_at=BUILT_AT, dbt_invocation_id="same")
            paths.append(write_extract(url, extract_id, tmp_path / str(i)))
    for name in (p.name for p in paths[0].parent.iterdir()):
        assert (paths[0].parent / name).read_bytes() == (paths[1].parent / name).read_bytes(), name


def test_unknown_period_is_explained(marts_url: str) -> None:
    with pytest.raises(ExtractDataError, match="2024-X"):
        build_extract(marts_url, "2024-X")
    with pytest.raises(ExtractDataError, match="2031-Y"):
        build_extract(marts_url, "2031-Y")  # a known period without values


def test_cli_writes_the_latest_period_and_prints_its_path(
    marts_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", marts_url)
    monkeypatch.setenv("PCTN_OUTBOX_DIR", str(tmp_path / "outbox"))
    assert extract_main(["--out", str(tmp_path / "out"), "--deliver", "outbox"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str(tmp_path / "out" / "pctn_indicators_2025-9M.xlsx") and Path(printed).is_file()
    assert (tmp_path / "outbox" / "2025-9M" / "pctn_indicators_2025-9M.xlsx").read_bytes() == Path(printed).read_bytes()


# --- LibreOffice -----------------------------------------------------------------------------------


def test_workbook_opens_in_libreoffice(year_extract: Path, tmp_path: Path) -> None:
    soffice = shutil.which("libreoffice") or shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice không có trên máy / LibreOffice (libreoffice or soffice) is not on PATH")
    result = subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(year_extract)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    pdf = tmp_path / (year_extract.stem + ".pdf")
    assert pdf.is_file(), result.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") + data.count(b"/Type/Page") >= len(SHEETS)
