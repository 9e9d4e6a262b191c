"""Feedback a unit can print: every sample feedback file rendered by LibreOffice and read back.

The bundled sample goes through the real intake (conftest's `sample_warehouse`); each
feedback workbook it produced is converted to PDF by `soffice --headless` and checked as
the unit's clerk would see it: A4, at most two pages, the problems table one page wide
(first and last column on the same page), the unit's full name, the date received, the
outcome and the next step (with the name of the file to send back) in the text.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from ingestion.intake.feedback import FeedbackSummary, next_step, unit_name
from ingestion.reference import units

pytestmark = pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftotext") and shutil.which("pdfinfo")),
    reason="LibreOffice and poppler-utils are needed to render feedback",
)

A4 = {(595, 842), (842, 595)}


def _squash(text: str) -> str:
    """Text without whitespace and hyphens: PDF lines wrap wherever the cell is narrow, and
    pdftotext joins a line ending in `-` to the next without it (`2024-` + `Y` = `2024Y`)."""
    return re.sub(r"[\s\-]+", "", text)


def pdf_pages(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        for n in range(1, count + 1)
    ]


def page_sizes(pdf: Path) -> set[tuple[int, int]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], capture_output=True, text=True).stdout
    return {(round(float(w)), round(float(h))) for w, h in re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts", info)}


@pytest.fixture(scope="module")
def rendered(sample_warehouse, tmp_path_factory) -> dict[str, tuple[FeedbackSummary, list, Path]]:
    """file name -> (summary as the registry has it, its problems, the rendered PDF), for every sample file."""
    from ingestion.intake.feedback import feedback_file_name
    from ingestion.intake.problems import RowProblem

    src = sample_warehouse.out_dir / "feedback"
    out = tmp_path_factory.mktemp("feedback_pdf")
    workbooks = sorted(src.glob("*.xlsx"))
    assert len(workbooks) > 50, "the sample gives one feedback file per file"
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{out}/lo", "--convert-to", "pdf", "--outdir", str(out)]
        + [str(p) for p in workbooks],
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    result = {}
    with psycopg.connect(sample_warehouse.url, autocommit=True) as conn:
        files = conn.execute(
            "select file_id, file_name, source, unit_code, period_code, status, coalesce(rows_read, 0),"
            " coalesce(rows_loaded, 0), coalesce(rows_quarantined, 0), coalesce(rows_flagged, 0), reject_code,"
            " reject_reason_vi, reject_reason_en, received_at from registry.files"
        ).fetchall()
        for file_id, name, *fields in files:
            summary = FeedbackSummary(name, *fields)
            problems = [
                RowProblem(n, None, None, "", sev, "", "")
                for n, sev in conn.execute(
                    "select row_number, severity from audit.quarantine where file_id = %s", (file_id,)
                ).fetchall()
            ]
            pdf = out / (feedback_file_name(name).rsplit(".", 1)[0] + ".pdf")
            result[name] = (summary, problems, pdf)
    return result


def test_every_sample_feedback_prints_on_at_most_two_a4_pages(rendered):
    kinds = set()
    for name, (summary, problems, pdf) in rendered.items():
        assert pdf.exists(), f"{name}: LibreOffice did not render its feedback"
        pages = pdf_pages(pdf)
        assert len(pages) <= 2, f"{name}: {len(pages)} pages"
        assert page_sizes(pdf) <= A4, f"{name}: {page_sizes(pdf)}"
        if problems:  # the problems table is one page wide: its first and last column on one page
            # the table's first header cell is followed by its second (a skipped row on page 1 also says "Dòng / Row")
            table = [_squash(p) for p in pages if "Dòng/RowCột/Column" in _squash(p) or "Cột/Column" in _squash(p)]
            assert table and "Mãquytắc/Rule" in table[0], f"{name}: problems table split across pages"
        kinds.add("rejection" if summary.status == "rejected" else "problems" if problems else "receipt")
    assert kinds == {"rejection", "problems", "receipt"}


def test_feedback_names_the_unit_says_when_received_and_what_to_do(rendered):
    for name, (summary, problems, pdf) in rendered.items():
        text = _squash("".join(pdf_pages(pdf)))
        steps = [next_step(summary, problems)]
        if summary.status == "superseded":  # it was `loaded` when its feedback was written, unless v2 came first
            steps.append(next_step(dataclasses.replace(summary, status="loaded"), problems))
        assert any(_squash(vi) in text and _squash(en) in text for vi, en in steps), f"{name}: next step missing"
        step_en = steps[-1][1]
        assert "Ngàynhận/Received" in text and summary.received_at.strftime("%Y") in text, name
        if summary.unit_code in units():
            assert _squash(unit_name(summary.unit_code)) in text, f"{name}: unit's full name missing"
        if summary.status == "rejected":
            assert _squash(summary.reason_vi) in text and "Khôngápdụng:" in text, name
        elif problems and any(p.severity == "row" for p in problems):
            assert re.search(r"_v\d+\.(xlsx|csv)", step_en), f"{name}: no file name to send back: {step_en}"


def _render(tmp_path: Path, name: str, data: bytes) -> list[str]:
    path = tmp_path / name
    path.write_bytes(data)
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(path)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return pdf_pages(path.with_suffix(".pdf"))


def test_a_flagged_pair_names_both_columns_with_readable_amounts(rendered, sample_warehouse):
    """Not `26212000000 / 26332000000`: both columns named, amounts with thousands separators."""
    from ingestion.contract.sources import SOURCES
    from ingestion.intake.feedback import _pair_columns

    checked = 0
    with psycopg.connect(sample_warehouse.url, autocommit=True) as conn:
        flagged = conn.execute(
            "select f.file_name, f.source, q.rule, q.value from audit.quarantine q"
            " join registry.files f using (file_id) where q.severity = 'warn' and q.value like '%% / %%'"
        ).fetchall()
    for name, source, rule, value in flagged:
        pair = _pair_columns(source).get(rule)
        if pair is None:
            continue
        text = _squash("".join(pdf_pages(rendered[name][2])))
        for column, raw in zip(pair, value.split(" / "), strict=True):
            col = SOURCES[source].column(column)
            plain = re.fullmatch(r"-?\d+(\.0+)?", raw)  # an Excel number: shown with thousands dots
            shown = f"{int(float(raw)):,}".replace(",", ".") if col.type in ("money", "count") and plain else raw
            assert _squash(f"{col.header_vi}: {shown}") in text, (name, column, shown)
        if any(len(raw) > 3 for raw in value.split(" / ")):  # `0 / 1` also occurs inside any date
            assert _squash(value) not in text, f"{name}: the raw pair is shown"
        checked += 1
    assert checked >= 3, "the sample flags several pairs (expected.json)"


def test_rows_not_read_as_data_are_listed_with_their_text(tmp_path):
    from ingestion.intake.feedback import build_feedback
    from ingestion.intake.problems import SkippedRow

    summary = FeedbackSummary("truyto_VKS-TINH_2025-Y.xlsx", "truyto", "VKS-TINH", "2025-Y", "loaded", 3, 3, 0, 0)
    skipped = [
        SkippedRow(9, "column_numbers", "(1) (2) (3) (4)"),
        SkippedRow(14, "note", "Ghi chú: số liệu tính đến ngày 14/12/2025"),
        SkippedRow(15, "totals", "Tổng cộng 3 vụ"),
        SkippedRow(18, "footer", "Người lập biểu"),
    ]
    text = _squash("".join(_render(tmp_path, "with_skipped.xlsx", build_feedback(summary, [], skipped))))
    assert "Dòngkhôngđọclàsốliệu/Rowsnotreadasdata" in text
    for row, label in ((9, "Column-number row"), (14, "Note"), (15, "Totals row"), (18, "Footer")):
        assert _squash(f"Dòng / Row {row}:") in text and _squash(label) in text
    assert all(_squash(s.text) in text for s in skipped)
    assert _squash(unit_name("VKS-TINH")) in text and "Khôngcầnlàmgìthêm." in text  # receipt: nothing to do
    empty = _squash("".join(_render(tmp_path, "without.xlsx", build_feedback(summary, []))))
    assert "Khôngcó:" in empty and "None:" in empty
