"""The extract: the workbook (an official document), its CSVs and the manifest, read back
and compared with the marts of the sample's real `dbt build`, cell by cell.

The comparisons query the marts with SQL of their own, not the extract's; the headline
list is read from the seed file. Tests that need the marts changed work on a clone of
the sample database (`clone_of`, tests/extract/test_extract_marts.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from test_extract_marts import _seed, clone_of, fetch

from ingestion.extract import ExtractDataError, build_extract, latest_period, write_extract
from ingestion.extract.__main__ import main as extract_main
from ingestion.extract.csvs import csv_value, neutralise

BUILT_AT = datetime(2026, 1, 6, 1, 30, tzinfo=UTC)
SHEETS = [
    "Báo cáo - Report",
    "Phát hiện - Detection",
    "Xử lý - Handling",
    "Thu hồi tài sản - Recovery",
    "Chất lượng dữ liệu - Quality",
    "Phụ lục - Annex",
    "Dữ liệu cách ly - Quarantine",
    "Xu hướng - Trends",
    "Định nghĩa - Definitions",
]
GROUP_SHEETS = {
    "detection": "Phát hiện - Detection",
    "handling": "Xử lý - Handling",
    "recovery": "Thu hồi tài sản - Recovery",
}
UNIT_WORDS = {
    "cases": "vụ",
    "persons": "người",
    "inspections": "cuộc",
    "vnd": "đồng",
    "m2": "m²",
    "ratio": "tỷ lệ",
    "days": "ngày",
    "returns": "báo cáo",
    "rows": "dòng",
}


@pytest.fixture(scope="module")
def url(sample_warehouse: Any) -> str:
    return sample_warehouse.url


@pytest.fixture(scope="module")
def year_extract(url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    extract_id = build_extract(url, "2025-Y", built_at=BUILT_AT, dbt_invocation_id="test-run-1")
    return write_extract(url, extract_id, tmp_path_factory.mktemp("extract_2025"))


def num(value: Any) -> float | None:
    return None if value is None else float(value)


def header_at(ws: Worksheet, first: str) -> int:
    """1-based row whose first cell is `first` (the header of a plain table)."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == first:
            return row[0].row
    raise AssertionError(f"no header {first!r} on {ws.title}")


def plain_table(ws: Worksheet, first: str, header_rows: int = 1) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Header and data rows of a plain sheet (rows until the first empty row; none for "Không có / None")."""
    h = header_at(ws, first)
    header = [c.value for c in ws[h] if c.value is not None]
    rows = []
    for row in ws.iter_rows(min_row=h + header_rows, max_col=len(header), values_only=True):
        if all(v is None for v in row):
            break
        rows.append(row)
    if len(rows) == 1 and rows[0][0] == "Không có / None" and all(v is None for v in rows[0][1:]):
        return header, []
    return header, rows


def blocks(ws: Worksheet) -> dict[str, list[dict[str, Any]]]:
    """The agency blocks of a group sheet: title -> rows as {unit_code, (indicator name, year): value}."""
    out: dict[str, list[dict[str, Any]]] = {}
    values = list(ws.iter_rows(values_only=True))
    i = 0
    while i < len(values):
        row = values[i]
        if row and row[0] == "Đơn vị / Unit":
            title = values[i - 1][0]
            top, sub = row, values[i + 1]
            code_col = top.index("Mã đơn vị / Unit code")
            heads, current = [], None
            for j in range(1, code_col):
                current = top[j] or current
                heads.append((current, sub[j]))
            rows, i = [], i + 2
            while i < len(values) and values[i][0] is not None:
                r = values[i]
                rows.append({"unit_code": r[code_col], **{h: r[j + 1] for j, h in enumerate(heads)}})
                i += 1
            out[title] = rows
        i += 1
    return out


# --- the document page ---------------------------------------------------------------------------


def test_first_sheet_is_the_official_document(year_extract: Path) -> None:
    wb = openpyxl.load_workbook(year_extract)
    assert wb.sheetnames == SHEETS
    ws = wb["Báo cáo - Report"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    for expected in (
        "THANH TRA TỈNH THANH HÓA",
        "Số: …/BC-TTr",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Thanh Hóa, ngày 06 tháng 01 năm 2026",
        "BÁO CÁO",
        "(Kỳ báo cáo 2025-Y: từ ngày 15/12/2024 đến ngày 14/12/2025)",
        "NGƯỜI LẬP BIỂU",
        "CHÁNH THANH TRA",
    ):
        assert expected in texts, expected
    assert any("năm 2025" in t and "Chiến lược quốc gia phòng, chống tham nhũng" in t for t in texts)
    # the signature block comes after the table
    rows = {c.value: c.row for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert rows["CHÁNH THANH TRA"] > rows["Chỉ tiêu / Indicator"]
    assert ws.page_setup.fitToHeight in (None, 1) and ws.sheet_properties.pageSetUpPr.fitToPage


def test_summary_shows_the_headline_indicators_names_first_codes_last(url: str, year_extract: Path) -> None:
    ws = openpyxl.load_workbook(year_extract)["Báo cáo - Report"]
    header, rows = plain_table(ws, "Chỉ tiêu / Indicator")
    assert header[0] == "Chỉ tiêu / Indicator" and header[-1] == "Mã chỉ tiêu / Code"
    # one labelled column per kind of change; no target columns while the targets seed is empty
    assert "Chênh lệch / Difference" in header
    assert "Tăng, giảm tương đối (%) / Relative change (%)" in header
    assert "Chênh lệch tỷ lệ (điểm %) / Change in percentage points" in header
    assert not _seed("indicator_targets") and not any("Mục tiêu" in h for h in header)
    data = [r for r in rows if r[-1] is not None]  # section rows carry only their title
    sections = [r[0] for r in rows if r[-1] is None]
    assert sections == ["Phát hiện / Detection", "Xử lý / Handling", "Thu hồi tài sản / Asset recovery",
                        "Chất lượng dữ liệu / Data quality"]  # fmt: skip
    headline = [r["indicator_code"] for r in _seed("indicators") if r["is_headline"] == "true"]
    assert [r[-1] for r in data] == headline  # the bug: every indicator was shown
    assert len(data) < len(_seed("indicators"))
    expected = {
        code: row
        for code, *row in fetch(
            url,
            """
            select e.indicator_code, e.value, e.previous_value, e.change_abs, e.change_pct, e.change_points
            from marts.fct_yearly_evaluation as e
            join marts.dim_indicators as i on i.indicator_code = e.indicator_code and i.default_scope = e.scope
            where e.report_year = 2025 and e.unit_level = 'province'
            """,
        )
    }
    col = {h: i for i, h in enumerate(header)}
    for r in data:
        value, previous, diff, pct, points = expected[r[-1]]
        assert r[col["Kỳ này (2025) / This period"]] == num(value), r
        assert r[col["Năm trước (2024) / Previous year"]] == num(previous), r
        assert r[col["Chênh lệch / Difference"]] == num(diff), r
        assert r[col["Tăng, giảm tương đối (%) / Relative change (%)"]] == num(pct), r
        assert r[col["Chênh lệch tỷ lệ (điểm %) / Change in percentage points"]] == num(points), r
    assert any(r[col["Chênh lệch tỷ lệ (điểm %) / Change in percentage points"]] is not None for r in data)


def test_targets_appear_when_the_inspectorate_sets_them(url: str, tmp_path: Path) -> None:
    with clone_of(url) as clone:
        with psycopg.connect(clone, autocommit=True) as conn:
            conn.execute(
                "update marts.fct_yearly_evaluation set target_value = 30, target_met = false "
                "where indicator_code = 'DET_CASES_NEW' and report_year = 2025 and scope = 'corruption'"
            )
        path = write_extract(clone, build_extract(clone, "2025-Y", built_at=BUILT_AT), tmp_path)
    header, rows = plain_table(openpyxl.load_workbook(path)["Báo cáo - Report"], "Chỉ tiêu / Indicator")
    target = header.index("Mục tiêu năm / Yearly target")
    met = header.index("Đạt mục tiêu / Target met")
    row = next(r for r in rows if r[-1] == "DET_CASES_NEW")
    assert (row[target], row[met]) == (30, "Chưa đạt / Not met")


# --- agencies and units x indicators ------------------------------------------------------------------


@pytest.mark.parametrize("group", sorted(GROUP_SHEETS))
def test_agency_blocks_equal_the_comparisons_cell_by_cell(url: str, year_extract: Path, group: str) -> None:
    ws = openpyxl.load_workbook(year_extract)[GROUP_SHEETS[group]]
    found = blocks(ws)
    names = {
        f"{name} ({UNIT_WORDS[unit]})": code
        for code, name, unit in fetch(url, "select indicator_code, name_vi, unit from marts.dim_indicators")
    }
    marts = {
        (code, unit): (value, previous)
        for code, unit, value, previous in fetch(
            url,
            """
            select v.indicator_code, v.unit_code, v.value, p.value
            from marts.fct_indicator_values as v
            join marts.dim_indicators as i on i.indicator_code = v.indicator_code and i.default_scope = v.scope
            left join marts.fct_indicator_values as p
                on p.indicator_code = v.indicator_code and p.period_code = '2024-Y' and p.unit_code = v.unit_code
                and p.unit_level = v.unit_level and p.restatement = v.restatement and p.scope = v.scope
            where v.period_code = '2025-Y' and v.restatement = 'restated'
              and v.unit_level not in ('province', 'national') and i.indicator_group = %s
            """,
            (group,),
        )
    }
    agencies = {r[0] for r in fetch(url, "select distinct agency_code from marts.dim_reporting_units")}
    checked = 0
    seen_units = set()
    for rows in found.values():
        for row in rows:
            seen_units.add(row["unit_code"])
            for key, cell in row.items():
                if key == "unit_code":
                    continue
                head, year = key
                value, previous = marts[(names[head], row["unit_code"])]
                assert cell == num(value if year == "2025" else previous), (row["unit_code"], head, year)
                checked += 1
    assert checked > 10
    assert found and all(rows[0]["unit_code"] in agencies for rows in found.values())  # agency total first
    # every unit and agency of the group with a value is shown (channels are on the province block)
    assert {u for (code, u) in marts if "nguồn phát hiện" not in next(h for h, c in names.items() if c == code)} == (
        seen_units
    )


def test_province_block_and_csv_equal_the_marts(url: str, year_extract: Path) -> None:
    ws = openpyxl.load_workbook(year_extract)["Phát hiện - Detection"]
    header, rows = plain_table(ws, "Chỉ tiêu / Indicator", header_rows=2)  # blocks have two header rows
    assert header == ["Chỉ tiêu / Indicator", "Đơn vị tính / Unit", "2025", "2024"]
    expected = fetch(
        url,
        """
        select i.name_vi, c.value, c.previous_value from marts.fct_indicator_comparisons as c
        join marts.dim_indicators as i on i.indicator_code = c.indicator_code and i.default_scope = c.scope
        where c.period_code = '2025-Y' and c.unit_level = 'province' and c.restatement = 'restated'
          and i.indicator_group = 'detection' order by i.display_order
        """,
    )
    assert [(r[0], r[2], r[3]) for r in rows] == [(n, num(v), num(p)) for n, v, p in expected]
    lines = _csv_rows(next(year_extract.parent.glob("*_02_detection.csv")))
    head = lines[0]
    assert head[0] == "Chỉ tiêu / Indicator" and head[-1] == "Mã chỉ tiêu / Code"
    csv_cells = {(line[-1], line[-2]): (line[4], line[5]) for line in lines[1:]}
    want = fetch(
        url,
        """
        select c.indicator_code, c.unit_code, c.value, c.previous_value from marts.fct_indicator_comparisons as c
        join marts.dim_indicators as i on i.indicator_code = c.indicator_code and i.default_scope = c.scope
        where c.period_code = '2025-Y' and c.restatement = 'restated' and i.indicator_group = 'detection'
          and c.unit_level <> 'national'
        """,
    )
    assert len(csv_cells) == len(want) == len(lines) - 1
    for code, unit, value, previous in want:
        got = csv_cells[(code, unit)]
        assert (got[0], got[1]) == (csv_value(value), csv_value(previous)), (code, unit)


# --- data quality -----------------------------------------------------------------------------------


def test_data_quality_is_one_line_per_unit(url: str, year_extract: Path) -> None:
    ws = openpyxl.load_workbook(year_extract)["Chất lượng dữ liệu - Quality"]
    header, rows = plain_table(ws, "Đơn vị báo cáo / Reporting unit")
    assert header[-1] == "Mã đơn vị / Unit code"
    codes = [r[-1] for r in rows]
    assert len(codes) == len(set(codes)) > 20
    expected = {
        unit: rest
        for unit, *rest in fetch(
            url,
            """
            with s as (
                select s.* from marts.fct_return_submissions as s
                join marts.dim_reporting_periods as p on p.period_code = s.period_code
                where p.start_date >= date '2024-12-15' and p.end_date <= date '2025-12-14'
            ),
            q as (
                select q.unit_code, sum(q.rows) filter (where q.severity = 'row') as quarantined,
                       sum(q.rows) filter (where q.severity = 'warn') as flagged
                from marts.fct_quarantine_summary as q
                join marts.dim_reporting_periods as p on p.period_code = q.period_code
                where p.start_date >= date '2024-12-15' and p.end_date <= date '2025-12-14'
                group by q.unit_code
            )
            select s.unit_code,
                   count(*) filter (where s.expected or s.status <> 'missing'),
                   count(*) filter (where s.status = 'on_time'),
                   count(*) filter (where s.status = 'late'),
                   count(*) filter (where s.status = 'missing' and s.expected),
                   count(*) filter (where s.status = 'rejected'),
                   coalesce(max(q.quarantined), 0), coalesce(max(q.flagged), 0)
            from s left join q using (unit_code)
            group by s.unit_code
            having count(*) filter (where s.expected or s.status <> 'missing') > 0
            """,
        )
    }
    assert set(codes) == set(expected)
    for r in rows:
        assert list(r[1:8]) == [int(x) for x in expected[r[-1]]], r[-1]
    # units with something to chase come first
    chase = [bool(r[3] or r[4] or r[5]) for r in rows]
    assert chase == sorted(chase, reverse=True) and any(chase)


def test_annex_lists_every_missing_late_or_rejected_return(url: str, year_extract: Path) -> None:
    ws = openpyxl.load_workbook(year_extract)["Phụ lục - Annex"]
    _, rows = plain_table(ws, "Đơn vị báo cáo / Reporting unit")
    expected = fetch(
        url,
        """
        select s.unit_code, s.period_code, s.status, s.due_date, s.received_at, s.rows_read
        from marts.fct_return_submissions as s
        join marts.dim_reporting_periods as p on p.period_code = s.period_code
        where s.status <> 'on_time' and (s.expected or s.status <> 'missing')
          and p.start_date >= date '2024-12-15' and p.end_date <= date '2025-12-14'
        """,
    )
    status = {"late": "Trễ hạn / Late", "missing": "Chưa nộp / Missing", "rejected": "Bị từ chối / Rejected"}
    want = sorted(
        (
            unit,
            period,
            status[st],
            datetime.combine(due, datetime.min.time()),
            read,
            None if rec is None else (rec.astimezone(UTC) + timedelta(hours=7)).replace(tzinfo=None),
        )
        for unit, period, st, due, rec, read in expected
    )
    got = sorted((r[-1], r[2], r[3], r[4], r[6], r[5]) for r in rows)
    assert [g[:5] for g in got] == [w[:5] for w in want] and want
    for g, w in zip(got, want, strict=True):  # the workbook shows whole seconds, as its CSV does
        assert (g[5] is None) == (w[5] is None) and (g[5] is None or g[5] == w[5].replace(microsecond=0))
    order = [r[3] for r in rows]
    assert order == sorted(order, key=["Chưa nộp / Missing", "Bị từ chối / Rejected", "Trễ hạn / Late"].index)


def test_quarantine_sheet_equals_the_marts_or_says_none(url: str, year_extract: Path, tmp_path: Path) -> None:
    def quarantined(start: str, end: str) -> list[tuple[Any, ...]]:
        return fetch(
            url,
            """
            select q.unit_code, q.period_code, q.rule, q.rows from marts.fct_quarantine_summary as q
            join marts.dim_reporting_periods as p on p.period_code = q.period_code
            where p.start_date >= %s and p.end_date <= %s
            """,
            (start, end),
        )

    # the sample quarantined rows in 2024 returns only: 2025-Y has an empty section that says so
    assert quarantined("2024-12-15", "2025-12-14") == []
    ws = openpyxl.load_workbook(year_extract)["Dữ liệu cách ly - Quarantine"]
    h = header_at(ws, "Đơn vị báo cáo / Reporting unit")
    assert ws.cell(row=h + 1, column=1).value == "Không có / None"
    assert len(_csv_rows(next(year_extract.parent.glob("*_07_quarantine.csv")))) == 1  # the header alone

    path = write_extract(url, build_extract(url, "2024-Y", built_at=BUILT_AT), tmp_path)
    _, rows = plain_table(
        openpyxl.load_workbook(path)["Dữ liệu cách ly - Quarantine"], "Đơn vị báo cáo / Reporting unit"
    )
    expected = quarantined("2023-12-15", "2024-12-14")
    assert expected and sorted((r[-1], r[2], r[3], r[5]) for r in rows) == sorted(expected)


# --- trends, definitions, phase ------------------------------------------------------------------------


def test_trends_and_definitions_equal_the_marts(url: str, year_extract: Path) -> None:
    wb = openpyxl.load_workbook(year_extract)
    header, rows = plain_table(wb["Xu hướng - Trends"], "Chỉ tiêu / Indicator")
    years = [h for h in header if h.isdigit()]
    assert years and years[-1] == "2025" and header[-1] == "Mã chỉ tiêu / Code"
    expected = {
        (code, str(year)): num(value)
        for code, year, value in fetch(
            url,
            """
            select v.indicator_code, v.report_year, v.value
            from marts.fct_indicator_values as v
            join marts.dim_indicators as i on i.indicator_code = v.indicator_code and i.default_scope = v.scope
            where v.period_code like '%%-Y' and v.unit_level = 'province' and v.restatement = 'restated'
              and v.report_year <= 2025 and v.value is not null
            """,
        )
    }
    cols = {h: i for i, h in enumerate(header)}
    got = {(r[-1], y): r[cols[y]] for r in rows for y in years if r[cols[y]] is not None}
    assert got == expected
    _, rows = plain_table(wb["Định nghĩa - Definitions"], "Chỉ tiêu / Indicator")
    defs = fetch(url, "select name_vi, name_en, formula_vi, formula_en, indicator_code from marts.dim_indicators")
    assert sorted((r[0], r[1], r[4], r[5], r[-1]) for r in rows) == sorted(defs)


def test_phase_review_shows_the_phase_totals(url: str, tmp_path: Path) -> None:
    path = write_extract(url, build_extract(url, "2023-2026", built_at=BUILT_AT), tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Báo cáo - Report"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "(Kỳ báo cáo 2023-2026: từ ngày 15/12/2022 đến ngày 14/12/2026)" in texts
    header, rows = plain_table(ws, "Chỉ tiêu / Indicator")
    assert header[2:6] == ["2023", "2024", "2025", "2026"]
    col = header.index("Cả giai đoạn / Phase total")
    totals = dict(
        fetch(
            url,
            """
            select t.indicator_code, t.value from marts.fct_phase_totals as t
            join marts.dim_indicators as i on i.indicator_code = t.indicator_code and i.default_scope = t.scope
            where t.phase_code = '2023-2026' and t.unit_code = 'THANHHOA' and i.is_headline
            """,
        )
    )
    assert {r[-1]: r[col] for r in rows if r[-1] and r[col] is not None} == {k: num(v) for k, v in totals.items()}
    found = blocks(wb["Phát hiện - Detection"])
    assert found and all(len(rows) >= 1 for rows in found.values())


# --- CSV and manifest -----------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("sheet", "first"),
    [
        ("Chất lượng dữ liệu - Quality", "Đơn vị báo cáo / Reporting unit"),
        ("Phụ lục - Annex", "Đơn vị báo cáo / Reporting unit"),
        ("Dữ liệu cách ly - Quarantine", "Đơn vị báo cáo / Reporting unit"),
        ("Xu hướng - Trends", "Chỉ tiêu / Indicator"),
        ("Định nghĩa - Definitions", "Chỉ tiêu / Indicator"),
    ],
)
def test_each_plain_csv_equals_its_sheet(year_extract: Path, sheet: str, first: str) -> None:
    wb = openpyxl.load_workbook(year_extract)
    manifest = json.loads(next(year_extract.parent.glob("*_manifest.json")).read_text(encoding="utf-8"))
    entry = next(s for s in manifest["sheets"] if s["sheet"] == sheet)
    header, rows = plain_table(wb[sheet], first)
    lines = _csv_rows(year_extract.parent / entry["csv"])
    assert lines[0] == header
    assert len(lines) - 1 == len(rows) == entry["rows"]
    for row, line in zip(rows, lines[1:], strict=True):
        assert all(_same(c, t) for c, t in zip(row, line, strict=True)), (entry["csv"], row, line)


def test_manifest_lists_every_file_with_its_sha256(year_extract: Path) -> None:
    folder = year_extract.parent
    manifest_path = next(folder.glob("*_manifest.json"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert [s["sheet"] for s in manifest["sheets"]] == SHEETS
    assert manifest["period"]["code"] == "2025-Y"
    assert manifest["period"]["start_date"] == "2024-12-15" and manifest["period"]["end_date"] == "2025-12-14"
    assert manifest["built_at"] == "2026-01-06T01:30:00Z" and manifest["dbt_invocation_id"] == "test-run-1"
    on_disk = {p.name for p in folder.iterdir()} - {manifest_path.name}
    assert {f["name"] for f in manifest["files"]} == on_disk
    assert {f["role"] for f in manifest["files"]} == {"workbook", "report", "csv"}
    assert "pctn_bao_cao_danh_gia_2025-Y.docx" in on_disk
    for f in manifest["files"]:
        content = (folder / f["name"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == f["sha256"] and len(content) == f["bytes"]


def test_a_quarter_has_no_yearly_draft(url: str, tmp_path: Path) -> None:
    path = write_extract(url, build_extract(url, "2025-9M", built_at=BUILT_AT), tmp_path)
    assert not list(tmp_path.glob("*.docx"))
    header, _ = plain_table(openpyxl.load_workbook(path)["Báo cáo - Report"], "Chỉ tiêu / Indicator")
    assert "Cùng kỳ năm trước (2024-9M) / Same period last year" in header


# --- formulas cannot run ---------------------------------------------------------------------------


def test_text_that_looks_like_a_formula_stays_text(url: str, tmp_path: Path) -> None:
    with clone_of(url) as clone:
        with psycopg.connect(clone, autocommit=True) as conn:
            conn.execute("update marts.dim_indicators set name_vi = '=1+1', formula_en = '@SUM(A1)' "
                         "where indicator_code = 'DET_CASES_NEW'")  # fmt: skip
            conn.execute(
                "update marts.fct_quarantine_summary set rule = '+cmd|'' /C calc''!A0' "
                "where (source, unit_code, period_code, rule, severity) in (select q.source, q.unit_code, "
                "q.period_code, q.rule, q.severity from marts.fct_quarantine_summary as q "
                "join marts.dim_reporting_periods as p using (period_code) where p.report_year = 2024 limit 1)"
            )
            # the data-quality sheet's unit names (the mart carries them)
            conn.execute("update marts.fct_unit_return_quality set unit_name_vi = '-2+3' where unit_code = 'TT-TINH'")
        path = write_extract(clone, build_extract(clone, "2024-Y", built_at=BUILT_AT), tmp_path)
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
    assert re.search(r",-[\d.]+(,|\r?$)", texts, re.M) and not re.search(r",'-[\d.]+(,|\r?$)", texts, re.M)


def test_csv_values() -> None:
    assert neutralise('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert neutralise("\tcmd") == "'\tcmd" and neutralise("Thanh tra") == "Thanh tra"
    assert csv_value(Decimal("-5")) == "-5" and csv_value(-5) == "-5"
    assert csv_value(Decimal("196000000000.00")) == "196000000000"
    assert csv_value(Decimal("0.250")) == "0.25" and csv_value(None) == ""


# --- build identity --------------------------------------------------------------------------------


def test_same_marts_give_the_same_extract_and_changed_marts_a_new_one(url: str, tmp_path: Path) -> None:
    with clone_of(url) as clone:
        first = build_extract(clone, "2025-Y", built_at=BUILT_AT)
        assert build_extract(clone, "2025-Y", built_at=datetime(2026, 2, 1, tzinfo=UTC)) == first
        with psycopg.connect(clone, autocommit=True) as conn:
            conn.execute(
                "update marts.fct_indicator_comparisons set value = value + 1 where indicator_code = 'DET_CASES_NEW' "
                "and period_code = '2025-Y' and unit_level = 'province'"
            )
        second = build_extract(clone, "2025-Y", built_at=BUILT_AT)
        assert second != first
        a = write_extract(clone, first, tmp_path / "a")
        b = write_extract(clone, second, tmp_path / "b")
        assert a.read_bytes() != b.read_bytes()


def test_same_marts_and_build_time_give_identical_bytes(url: str, tmp_path: Path) -> None:
    paths = []
    for i in range(2):
        with clone_of(url) as clone:
            extract_id = build_extract(clone, "2025-Y", built_at=BUILT_AT, dbt_invocation_id="same")
            paths.append(write_extract(clone, extract_id, tmp_path / str(i)))
    names = sorted(p.name for p in paths[0].parent.iterdir())
    assert any(n.endswith(".docx") for n in names)
    for name in names:
        assert (paths[0].parent / name).read_bytes() == (paths[1].parent / name).read_bytes(), name


def test_unknown_period_is_explained(url: str) -> None:
    with pytest.raises(ExtractDataError, match="2024-X"):
        build_extract(url, "2024-X")
    with pytest.raises(ExtractDataError, match="2031-Y"):
        build_extract(url, "2031-Y")  # a known period without values


def test_cli_writes_the_latest_period_and_prints_its_path(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with clone_of(url) as clone:
        latest = latest_period(clone)
        monkeypatch.setenv("WAREHOUSE_URL", clone)
        monkeypatch.setenv("PCTN_OUTBOX_DIR", str(tmp_path / "outbox"))
        assert extract_main(["--out", str(tmp_path / "out"), "--deliver", "outbox"]) == 0
    printed = capsys.readouterr().out.strip()
    assert latest == "2025-Y"
    assert printed == str(tmp_path / "out" / "pctn_indicators_2025-Y.xlsx") and Path(printed).is_file()
    outbox = tmp_path / "outbox" / "2025-Y"
    assert (outbox / "pctn_indicators_2025-Y.xlsx").read_bytes() == Path(printed).read_bytes()
    assert (outbox / "pctn_bao_cao_danh_gia_2025-Y.docx").is_file()


def test_cli_writes_under_pctn_output_dir_without_out(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without `--out` the files go to `$PCTN_OUTPUT_DIR/extract/<period>`, as `make run` puts them (it wrote
    to the checkout's `output/` whatever `PCTN_OUTPUT_DIR` said)."""
    with clone_of(url) as clone:
        monkeypatch.setenv("WAREHOUSE_URL", clone)
        monkeypatch.setenv("PCTN_OUTPUT_DIR", str(tmp_path / "elsewhere"))
        assert extract_main(["--period", "2025-Y"]) == 0
    printed = Path(capsys.readouterr().out.strip())
    assert printed == tmp_path / "elsewhere" / "extract" / "2025-Y" / "pctn_indicators_2025-Y.xlsx"
    assert printed.is_file()


# --- layout and charts --------------------------------------------------------------------------------


def test_number_formats_and_print_layout(year_extract: Path) -> None:
    wb = openpyxl.load_workbook(year_extract)
    ws = wb["Báo cáo - Report"]
    h = header_at(ws, "Chỉ tiêu / Indicator")
    header = [c.value for c in ws[h]]
    value_col = header.index("Kỳ này (2025) / This period") + 1
    formats = {
        ws.cell(row=r, column=len([x for x in header if x])).value: ws.cell(row=r, column=value_col).number_format
        for r in range(h + 1, ws.max_row + 1)
    }
    assert formats["DET_VIOLATION_VND"] == "#,##0" and formats["REC_ADMIN_RATE"] == "0.0%"
    assert formats["DET_CASES_NEW"] == "#,##0"
    for sheet in wb.worksheets:
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9, sheet.title
        assert sheet.page_setup.fitToWidth in (None, 1) and sheet.sheet_properties.pageSetUpPr.fitToPage
        assert "2025-Y" in sheet.oddHeader.right.text and "&P" in sheet.oddFooter.right.text
        assert "THANH TRA TỈNH THANH HÓA" in sheet.oddHeader.left.text
    for name in ("Chất lượng dữ liệu - Quality", "Phụ lục - Annex", "Định nghĩa - Definitions"):
        sheet = wb[name]
        h = header_at(sheet, sheet.cell(row=6, column=1).value)
        assert sheet.print_title_rows == f"${h}:${h}" and sheet.freeze_panes == f"B{h + 1}", name
        assert sheet.page_setup.fitToHeight == 0
    assert wb.properties.created == BUILT_AT.replace(tzinfo=None) and "2025-Y" in wb.properties.title


def test_native_charts_read_the_trends_sheet(year_extract: Path) -> None:
    with zipfile.ZipFile(year_extract) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        xml = [z.read(n).decode("utf-8") for n in charts]
        drawings = [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/_rels/")]
    assert len(xml) == 2
    recovery, detection = xml
    ratios = [r for r in _seed("indicators") if r["indicator_group"] == "recovery" and r["unit"] == "ratio"]
    channels = [r for r in _seed("indicators") if r["indicator_code"].startswith("DET_CASES_NEW_")]
    assert "<c:lineChart>" in recovery and "Asset recovery rates by year" in recovery
    assert recovery.count("<c:ser>") == len(ratios)
    assert "'Xu hướng - Trends'!$C$" in recovery and '<c:numFmt formatCode="0%"' in recovery
    assert "<c:barChart>" in detection and '<c:grouping val="stacked"/>' in detection
    assert detection.count("<c:ser>") == len(channels)
    assert sum("drawing" in d for d in drawings) == 1  # on one sheet: the trends
