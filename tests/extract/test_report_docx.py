"""What people print: the yearly evaluation draft's sentences against the marts, and the
workbook and the draft as LibreOffice renders them (PDF page counts, heading, signature,
nothing cut).

The numbers are parsed out of the generated text (Vietnamese format: `25.429.403.000`,
`38,4 %`) and compared with mart values read here with the test's own SQL; nothing
expected is written in this file. LibreOffice (`soffice`) and poppler (`pdftotext`,
`pdfinfo`) come from `scripts/install_office.sh`; without them the PDF tests skip and
say why.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from test_extract_marts import fetch

from ingestion.extract import build_extract, report_name, write_extract

BUILT_AT = datetime(2026, 1, 6, 1, 30, tzinfo=UTC)
NUMBER = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?")
PERIODS = ["2024-Y", "2025-Y", "2023-2026"]


def vn(text: str) -> Decimal:
    """`25.429.403.000` -> 25429403000; `38,4` -> 38.4."""
    return Decimal(text.replace(".", "").replace(",", "."))


def close(shown: Decimal, value: Any, scale: int = 1) -> bool:
    """A number shown with at most one decimal equals the mart value (x100 for a percentage)."""
    return abs(shown - Decimal(str(value)) * scale) <= Decimal("0.05")


@pytest.fixture(scope="module")
def drafts(sample_warehouse: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for code in PERIODS:
        folder = tmp_path_factory.mktemp(f"draft_{code}")
        write_extract(sample_warehouse.url, build_extract(sample_warehouse.url, code, built_at=BUILT_AT), folder)
        out[code] = folder / report_name(code)
    return out


def sections(path: Path) -> dict[str, list[str]]:
    """Paragraphs of the draft under each numbered heading (I., II., III.)."""
    out: dict[str, list[str]] = {}
    current = None
    for p in docx.Document(str(path)).paragraphs:
        text = p.text.strip()
        if re.match(r"^(I|II|III|IV)\. ", text):
            current = text.split(" / ")[-1].lower()
            out[current] = []
        elif current and text:
            out[current].append(text)
    return out


def province(url: str, period: str) -> dict[str, dict[str, Any]]:
    rows = fetch(
        url,
        """
        select v.indicator_code, i.indicator_group, i.name_vi, i.unit, v.value, p.value
        from marts.fct_indicator_values as v
        join marts.dim_indicators as i on i.indicator_code = v.indicator_code and i.default_scope = v.scope
        left join marts.fct_indicator_values as p
            on p.indicator_code = v.indicator_code and p.unit_code = v.unit_code and p.unit_level = v.unit_level
            and p.restatement = v.restatement and p.scope = v.scope
            and p.period_code = (cast(left(v.period_code, 4) as integer) - 1)::text || substr(v.period_code, 5)
        where v.period_code = %s and v.unit_level = 'province' and v.restatement = 'restated'
        """,
        (period,),
    )
    return {code: {"group": g, "name": n, "unit": u, "value": v, "previous": p} for code, g, n, u, v, p in rows}


def agency_quality(url: str, period: str) -> list[Decimal]:
    return [
        v
        for (v,) in fetch(
            url,
            "select value from marts.fct_indicator_values where period_code = %s and unit_level = 'agency' "
            "and restatement = 'restated' and indicator_code in ('DQ_RETURNS_MISSING', 'DQ_ROWS_QUARANTINED')",
            (period,),
        )
        if v is not None
    ]


# --- sentences of a year ------------------------------------------------------------------------------


PAIRS = [
    ("detection", r"khởi tố mới", "DET_CASES_NEW", "DET_PERSONS_NEW", "bị can"),
    ("handling", r"truy tố", "HDL_INDICTED_CASES", "HDL_INDICTED_PERSONS", "bị can"),
    ("handling", r"xét xử sơ thẩm", "HDL_TRIED_CASES", "HDL_TRIED_PERSONS", "bị cáo"),
]


@pytest.mark.parametrize("period", ["2024-Y", "2025-Y"])
def test_year_sentences_state_the_marts_figures(sample_warehouse: Any, drafts: dict[str, Path], period: str) -> None:
    url = sample_warehouse.url
    marts = province(url, period)
    year = int(period[:4])
    text = sections(drafts[period])
    assert set(text) >= {"detection", "handling", "asset recovery"}
    # as in the issue: "khởi tố mới 28 vụ/72 bị can về tham nhũng, tăng 12 % so với năm 2024 (25 vụ/59 bị can)"
    for section, verb, cases, persons, word in PAIRS:
        joined = " ".join(text[section])
        m = re.search(
            rf"{verb} (?P<c>[\d.]+) vụ/(?P<p>[\d.]+) {word} về tham nhũng, "
            rf"(?:(?P<dir>tăng|giảm) (?P<pct>[\d,]+) % so với|bằng) năm (?P<y>\d{{4}}) "
            rf"\((?P<pc>[\d.]+) vụ/(?P<pp>[\d.]+) {word}\)",
            joined,
        )
        assert m, (section, verb, joined[:300])
        c, p = marts[cases], marts[persons]
        assert vn(m["c"]) == c["value"] and vn(m["p"]) == p["value"]
        assert vn(m["pc"]) == c["previous"] and vn(m["pp"]) == p["previous"] and int(m["y"]) == year - 1
        if m["dir"]:
            assert (m["dir"] == "tăng") == (c["value"] > c["previous"])
            assert close(vn(m["pct"]), abs((c["value"] - c["previous"]) / c["previous"]), 100)
        else:
            assert c["value"] == c["previous"]
    # and every other number in a section is one of its figures, its change or a data-quality count
    quality = agency_quality(url, period)
    link = marts["DQ_CASE_LINK_RATE"]["value"]
    groups = {"detection": "detection", "handling": "handling", "asset recovery": "recovery"}
    checked = 0
    for section, group in groups.items():
        mine = [m for m in marts.values() if m["group"] == group]
        allowed: list[tuple[Any, int]] = [(year, 1), (year - 1, 1)]
        for m in mine:
            scale = 100 if m["unit"] == "ratio" else 1
            for v in (m["value"], m["previous"]):
                if v is not None:
                    allowed.append((v, scale))
            if m["value"] is not None and m["previous"] is not None:
                allowed.append((abs(m["value"] - m["previous"]), 100 if m["unit"] == "ratio" else 1))
                if m["previous"]:
                    allowed.append((abs((m["value"] - m["previous"]) / m["previous"]), 100))
        allowed += [(q, 1) for q in quality] + [(link, 100)]
        pairs = [
            (m["value"], m["previous"], 100 if m["unit"] == "ratio" else 1)
            for m in mine
            if m["value"] is not None and m["previous"] is not None
        ]
        for paragraph in text[section]:
            # "<figure> <unit>, tăng … so với năm 2024 (<last year's figure>)": this year's and last year's
            # figure of one indicator, in that order
            for x, y in re.findall(r"([\d.,]+)(?: %| [^\s,]+)?, (?:tăng|giảm|bằng)[^()]*\(([\d.,]+)", paragraph):
                assert any(close(vn(x), v, s) and close(vn(y), p, s) for v, p, s in pairs), (x, y, paragraph)
                checked += 1
            for token in NUMBER.findall(paragraph.replace("353–359", "")):
                assert any(close(vn(token), v, s) for v, s in allowed), (section, token, paragraph)
                checked += 1
    assert checked > 30


def test_caveats_name_missing_returns_from_the_marts(sample_warehouse: Any, drafts: dict[str, Path]) -> None:
    caveats = [p for ps in sections(drafts["2025-Y"]).values() for p in ps if p.startswith("Lưu ý về số liệu")]
    assert caveats
    missing = {
        name: value
        for name, value in fetch(
            sample_warehouse.url,
            "select r.agency_name_vi, v.value from marts.fct_indicator_values as v "
            "join (select distinct agency_code, agency_name_vi from marts.dim_reporting_units) as r "
            "on r.agency_code = v.unit_code where v.period_code = '2025-Y' and v.unit_level = 'agency' "
            "and v.restatement = 'restated' and v.indicator_code = 'DQ_RETURNS_MISSING' and v.value > 0",
        )
    }
    assert missing
    said = {
        m["name"]: vn(m["n"])
        for c in caveats
        for m in re.finditer(r"(?P<n>[\d.]+) báo cáo của (?P<name>[^,;]+?)(?=,| chưa nộp)", c)
    }
    assert said and all(missing[name] == n for name, n in said.items())


# --- sentences of the mid-term review ----------------------------------------------------------------


def test_phase_sentences_state_the_phase_totals_and_each_year(sample_warehouse: Any, drafts: dict[str, Path]) -> None:
    url = sample_warehouse.url
    names = {
        n[0].lower() + n[1:]: (code, unit)
        for code, n, unit in fetch(url, "select indicator_code, name_vi, unit from marts.dim_indicators")
    }
    totals = dict(
        fetch(
            url,
            "select t.indicator_code, t.value from marts.fct_phase_totals as t join marts.dim_indicators as i "
            "on i.indicator_code = t.indicator_code and i.default_scope = t.scope "
            "where t.phase_code = '2023-2026' and t.unit_code = 'THANHHOA'",
        )
    )
    yearly = {
        (code, year): value
        for code, year, value in fetch(
            url,
            "select v.indicator_code, v.report_year, v.value from marts.fct_indicator_values as v "
            "join marts.dim_indicators as i on i.indicator_code = v.indicator_code and i.default_scope = v.scope "
            "where v.period_code like '%%-Y' and v.unit_level = 'province' and v.restatement = 'restated'",
        )
    }
    text = sections(drafts["2023-2026"])
    totals_checked = years_checked = 0
    for paragraph in (p for ps in text.values() for p in ps):
        m = re.match(
            r"^Giai đoạn 2023–2025, (?P<name>.+?): (?P<total>[\d.,]+)(?: %)? [^(]*\((?P<years>.*)\)\.$", paragraph
        )
        n = re.match(r"^(?P<name>.+?) qua các năm: (?P<years>.*)\.$", paragraph)
        if not (m or n):
            continue
        hit = m or n
        assert hit is not None
        code, unit = names[hit["name"][0].lower() + hit["name"][1:]]
        scale = 100 if unit == "ratio" else 1
        if m:
            assert close(vn(m["total"]), totals[code], scale), paragraph
            totals_checked += 1
        for y, v in re.findall(r"năm (\d{4}): ([\d.,]+)", hit["years"]):
            assert close(vn(v), yearly[(code, int(y))], scale), (paragraph, y)
            years_checked += 1
    assert totals_checked >= 8 and years_checked >= 3 * totals_checked


# --- LibreOffice: what people print ---------------------------------------------------------------


def _office() -> tuple[str, str, str]:
    tools = (shutil.which("soffice") or shutil.which("libreoffice"), shutil.which("pdftotext"), shutil.which("pdfinfo"))
    if not all(tools):
        pytest.skip("LibreOffice hoặc poppler chưa cài / LibreOffice or poppler missing: run scripts/install_office.sh")
    return tools  # type: ignore[return-value]


def to_pdf(path: Path, tmp_path: Path) -> Path:
    soffice, _, _ = _office()
    subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    pdf = tmp_path / (path.stem + ".pdf")
    assert pdf.is_file()
    return pdf


def pages(pdf: Path) -> list[str]:
    _, pdftotext, pdfinfo = _office()
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"Pages:\s+(\d+)", info)[1])  # type: ignore[index]
    return [
        subprocess.run(
            [pdftotext, "-f", str(i), "-l", str(i), "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for i in range(1, count + 1)
    ]


@pytest.fixture(scope="module")
def workbook_pdf(drafts: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    xlsx = drafts["2025-Y"].parent / "pctn_indicators_2025-Y.xlsx"
    pdf = to_pdf(xlsx, tmp_path_factory.mktemp("pdf_xlsx"))
    return xlsx, pages(pdf)


def test_the_2025_extract_prints_on_28_pages(workbook_pdf: tuple[Path, list[str]]) -> None:
    """28 A4 landscape pages, one page wide, on the sample:
    1 document page (heading, 13 headline indicators, signatures: fit to one page);
    7 of agencies and units × indicators (detection 2, handling 3, recovery 2: one block per
    agency, a block never split); 5 of data quality (177 units, one line each); 9 of annex
    (382 missing, late or rejected returns, one line each); 1 of quarantine; 3 of trends
    (the table on 2, the charts on their own); 2 of definitions (32 indicators with formulas).
    """
    _, texts = workbook_pdf
    titles = [
        ("Tổng hợp chỉ tiêu chính", 1),
        ("Phát hiện tham nhũng", 2),
        ("Xử lý tham nhũng", 3),
        ("Thu hồi tài sản", 2),
        ("Chất lượng dữ liệu theo đơn vị", 5),
        ("Phụ lục: báo cáo thiếu", 9),
        ("Dữ liệu cách ly", 1),
        ("Xu hướng theo năm", 3),
        ("Định nghĩa chỉ tiêu", 2),
    ]
    heads = [t.splitlines()[0] if t.strip() else "" for t in texts]
    assert [next(name for name, _ in titles if name in h) for h in heads] == [
        name for name, n in titles for _ in range(n)
    ]
    assert len(texts) == 28


def test_the_printed_document_has_its_heading_and_signatures(workbook_pdf: tuple[Path, list[str]]) -> None:
    _, texts = workbook_pdf
    first = texts[0]
    for expected in ("THANH TRA TỈNH THANH HÓA", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Số: …/BC-TTr", "Thanh Hóa, ngày 06 tháng 01 năm 2026", "BÁO CÁO", "NGƯỜI LẬP BIỂU",
                     "CHÁNH THANH TRA", "từ ngày 15/12/2024 đến ngày 14/12/2025"):  # fmt: skip
        assert expected in first, expected


def test_no_cell_is_cut_in_print(workbook_pdf: tuple[Path, list[str]]) -> None:
    """Every word of every text cell is printed (a row too low or a column cut off would lose
    words), and each page of a plain table carries its last column's header (one page wide)."""
    xlsx, texts = workbook_pdf
    wb = openpyxl.load_workbook(xlsx)
    printed = Counter(w for t in texts for w in t.split())
    written: Counter[str] = Counter()
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str):
                    written.update(v.split())
    missing = written - printed
    assert not missing, list(missing.items())[:10]
    for name, last in (("Chất lượng dữ liệu theo đơn vị", "Unit code"), ("Phụ lục: báo cáo thiếu", "Unit code"),
                       ("Định nghĩa chỉ tiêu", "Code")):  # fmt: skip
        mine = [t for t in texts if name in t.splitlines()[0]]
        assert mine and all(last in t for t in mine), name


@pytest.mark.parametrize("period", PERIODS)
def test_the_draft_prints_with_heading_and_signatures(drafts: dict[str, Path], tmp_path: Path, period: str) -> None:
    texts = pages(to_pdf(drafts[period], tmp_path))
    assert 2 <= len(texts) <= 5, len(texts)  # a few pages: three sections, their tables, two charts
    whole = "\n".join(texts)
    flat = " ".join(whole.split())
    for expected in ("THANH TRA TỈNH THANH HÓA", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Số: …/BC-TTr", "BÁO CÁO (DỰ THẢO)", "NGƯỜI LẬP BIỂU", "CHÁNH THANH TRA"):  # fmt: skip
        assert expected in flat, expected
    assert "Biểu đồ 1" in flat and "Biểu đồ 2" in flat
    # every sentence of the draft is printed whole
    for ps in sections(drafts[period]).values():
        for p in ps:
            assert " ".join(p.split()) in flat or all(w in flat for w in p.split()), p[:80]
