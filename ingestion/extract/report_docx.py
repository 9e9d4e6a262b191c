"""The yearly evaluation draft (`.docx`): the report the Inspectorate would otherwise write by hand.

For a year (`2025-Y`) or a phase of the plan (`2023-2026`, the mid-term review) it
holds the official heading (issuer and number; national name, motto, place and date),
the title naming the period with its official dates, one section each for detection,
handling and asset recovery (sentences from `narrative`, the province table, a
data-quality caveat where returns are missing or rows quarantined), two charts of the
yearly series, and the signature block. It is a draft: the number is left as `…`
and the signatures blank, for the Inspectorate to complete in Word or LibreOffice.

python-docx writes the file; matplotlib draws the charts as PNG (Agg backend, no
display). Bytes depend only on the marts and the build time: core properties carry
the build time and matplotlib's PNG metadata is stripped.
"""

from __future__ import annotations

import io
import math
import zipfile
from datetime import UTC
from typing import Any

from ingestion.extract import narrative
from ingestion.extract.queries import DETECTION_CHANNEL_PREFIX, MartData
from ingestion.extract.sheets import local_time, period_title, unit_word
from ingestion.extract.workbook import (
    DOCUMENT_NUMBER,
    ISSUER,
    NATIONAL_MOTTO,
    NATIONAL_NAME,
    SIGNERS,
    BuildInfo,
    document_date,
)

FONT = "Times New Roman"  # the font of administrative documents (Decree 30/2020)
CHART_DPI = 110


def _fixed_zip_times(data: bytes) -> bytes:
    """Rewrite the zip with a constant timestamp per entry so equal content gives equal bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()


# --- charts ------------------------------------------------------------------------------------


def _series(data: MartData, codes: list[str]) -> tuple[list[int], dict[str, list[float | None]]]:
    years = sorted({int(r["report_year"]) for r in data.trends if r["indicator_code"] in codes})
    values: dict[str, dict[int, Any]] = {}
    for r in data.trends:
        if r["indicator_code"] in codes:
            values.setdefault(r["indicator_code"], {})[int(r["report_year"])] = r["value"]
    return years, {
        c: [float(values[c][y]) if values.get(c, {}).get(y) is not None else None for y in years] for c in values
    }


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=CHART_DPI, metadata={"Software": None}, bbox_inches="tight")
    return buffer.getvalue()


def charts(data: MartData) -> list[tuple[str, bytes]]:
    """New cases by detection channel per year (stacked), and the recovery rates per year."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = {i["indicator_code"]: i["name_vi"] for i in data.indicators}
    out: list[tuple[str, bytes]] = []
    channels = [
        i["indicator_code"] for i in data.indicators if i["indicator_code"].startswith(DETECTION_CHANNEL_PREFIX)
    ]
    years, series = _series(data, channels)
    if years and series:
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
        bottom = [0.0] * len(years)
        for code in channels:
            if code not in series:
                continue
            vals = [v or 0.0 for v in series[code]]
            ax.bar([str(y) for y in years], vals, bottom=bottom, label=names[code].split(": ", 1)[-1])
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        ax.set_title("Vụ án tham nhũng khởi tố mới theo nguồn phát hiện", fontsize=10)
        ax.set_ylabel("vụ")
        ax.legend(fontsize=7, ncol=2, loc="upper left", frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        out.append(("Biểu đồ 1. Vụ án khởi tố mới theo nguồn phát hiện, theo năm", _png(fig)))
        plt.close(fig)
    rates = [
        i["indicator_code"] for i in data.indicators if i["indicator_group"] == "recovery" and i["unit"] == "ratio"
    ]
    years, series = _series(data, rates)
    if years and series:
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
        for code in rates:
            if code in series:
                ax.plot(
                    [str(y) for y in years],
                    [math.nan if v is None else v * 100 for v in series[code]],  # a gap in the line
                    marker="o",
                    label=names[code],
                )
        ax.set_title("Tỷ lệ thu hồi tài sản theo năm (%)", fontsize=10)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="lower left", frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        out.append(("Biểu đồ 2. Tỷ lệ thu hồi tài sản theo năm", _png(fig)))
        plt.close(fig)
    return out


# --- document --------------------------------------------------------------------------------------


def _no_borders(table: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    table._tbl.tblPr.append(borders)


def _widths(table: Any, widths: list[Any]) -> None:
    """Column widths that Word and LibreOffice both honour (set on every cell, autofit off)."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _centered(cell: Any, lines: list[tuple[str, dict[str, bool]]], size: int = 11) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    cell.paragraphs[0].text = ""
    for n, (text, style) in enumerate(lines):
        p = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_after = 0
        run = p.add_run(text)
        run.font.size = Pt(size)
        run.bold = style.get("bold", False)
        run.italic = style.get("italic", False)
        run.underline = style.get("underline", False)


def _heading_block(doc: Any, info: BuildInfo) -> None:
    built = local_time(info.built_at)
    assert built is not None
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, [Cm(7.0), Cm(9.0)])
    _centered(table.cell(0, 0), [(ISSUER, {"bold": True}), (DOCUMENT_NUMBER, {})])
    _centered(
        table.cell(0, 1),
        [
            (NATIONAL_NAME, {"bold": True}),
            (NATIONAL_MOTTO, {"bold": True, "underline": True}),
            ("", {}),
            (document_date(built), {"italic": True}),
        ],
    )


def _title(doc: Any, data: MartData) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = data.period
    if p.is_phase:
        first, last = narrative.covered_years(data)
        what = f"Kết quả thực hiện các năm {first}–{last} thuộc {period_title(p)},"
    else:
        what = f"Đánh giá kết quả thực hiện {period_title(p)}"
    lines = [
        ("BÁO CÁO (DỰ THẢO)", True, 14),
        (f"{what} Chiến lược quốc gia phòng, chống tham nhũng, tiêu cực trên địa bàn tỉnh Thanh Hóa", True, 13),
        (f"(Kỳ báo cáo {p.code}: từ ngày {p.start_date:%d/%m/%Y} đến ngày {p.end_date:%d/%m/%Y})", False, 12),
        (
            "Draft evaluation report on the national anti-corruption strategy in Thanh Hóa province "
            f"(Resolution 168/NQ-CP, plan 53/KH-UBND), period {p.code}",
            False,
            10,
        ),
    ]
    for text, bold, size in lines:
        para = doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.paragraph_format.space_after = Pt(2)
        run = para.add_run(text)
        run.bold = bold
        run.italic = not bold
        run.font.size = Pt(size)


def _section_table(doc: Any, data: MartData, group: str) -> None:
    """The province figures of the section: this period and the one before (a phase: each year and the total)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = data.period
    rows = [r for r in data.groups.get(group, []) if r["unit_level"] == "province"]
    if not rows:
        return

    def fmt(value: Any, unit: str) -> str:
        if value is None:
            return "–"
        return narrative.fmt_percent(value) if unit == "ratio" else narrative.fmt_number(value)

    if p.is_phase:
        first, last = narrative.covered_years(data)
        years = list(range(first, last + 1))
        by_year: dict[str, dict[int, Any]] = {}
        for t in data.trends:
            by_year.setdefault(t["indicator_code"], {})[int(t["report_year"])] = t["value"]
        header = ["Chỉ tiêu", "Đơn vị tính", *map(str, years), "Cả giai đoạn"]
        body = [
            [
                r["name_vi"],
                unit_word(r["unit"]),
                *(fmt(by_year.get(r["indicator_code"], {}).get(y), r["unit"]) for y in years),
                fmt(r["value"], r["unit"]),
            ]
            for r in rows
        ]
    else:
        header = [
            "Chỉ tiêu",
            "Đơn vị tính",
            str(p.report_year) if p.is_year else p.code,
            str(p.report_year - 1) if p.is_year else f"Cùng kỳ {p.report_year - 1}",
        ]
        body = [
            [
                r["name_vi"],
                unit_word(r["unit"]),
                fmt(r["value"], r["unit"]),
                fmt(r["previous_value"], r["unit"]),
            ]
            for r in rows
        ]
    from docx.shared import Cm

    table = doc.add_table(rows=1 + len(body), cols=len(header))
    table.style = "Table Grid"
    rest = (16.0 - 6.0 - 2.4) / (len(header) - 2)
    _widths(table, [Cm(6.0), Cm(2.4), *(Cm(rest) for _ in header[2:])])
    for j, text in enumerate(header):
        cell = table.cell(0, j)
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
            run.font.size = Pt(10)
    for i, line in enumerate(body, start=1):
        for j, text in enumerate(line):
            cell = table.cell(i, j)
            cell.text = text
            if j >= 2:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(10)


def _signature(doc: Any) -> None:
    doc.add_paragraph()
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, [Cm(8.0), Cm(8.0)])
    for cell, (title, english, hint) in zip(table.rows[0].cells, SIGNERS, strict=True):
        _centered(cell, [(title, {"bold": True}), (english, {"italic": True}), (hint, {"italic": True})])


def render_report(data: MartData, info: BuildInfo) -> bytes:
    """The draft as .docx bytes; the same marts and build time give the same bytes."""
    from docx import Document
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)  # A4 portrait
    section.left_margin, section.right_margin = Cm(3.0), Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    heading = doc.styles["Heading 2"]  # section headings as an administrative text has them: bold, black
    heading.font.name = FONT
    heading.font.size = Pt(13)
    heading.font.bold = True
    heading.font.color.rgb = RGBColor(0, 0, 0)
    props = doc.core_properties
    code = info.period.code
    props.title = f"Báo cáo đánh giá PCTN (dự thảo), kỳ {code}"
    props.subject = "Chiến lược quốc gia PCTN đến 2030, Kế hoạch 53/KH-UBND"
    props.author = "Nền tảng dữ liệu PCTN / PCTN data platform"
    props.comments = f"dbt run {info.dbt_invocation_id or '-'}; data SHA-256 {info.content_sha256}"
    props.keywords = f"PCTN, {code}"
    built = info.built_at.astimezone(UTC).replace(tzinfo=None)
    props.created = props.modified = built
    props.last_modified_by = props.author
    props.revision = 1

    _heading_block(doc, info)
    _title(doc, data)
    for sec in narrative.sections(data):
        doc.add_heading(sec.title, level=2)
        for sentence in sec.sentences:
            para = doc.add_paragraph(sentence)
            para.paragraph_format.first_line_indent = Cm(1)
        if sec.caveat:
            para = doc.add_paragraph()
            run = para.add_run(sec.caveat)
            run.italic = True
        _section_table(doc, data, sec.group)
    images = charts(data)
    if images:
        doc.add_heading("IV. BIỂU ĐỒ / CHARTS", level=2)
        for caption, png in images:
            doc.add_picture(io.BytesIO(png), width=Cm(15.5))
            doc.add_paragraph(caption).runs[0].italic = True
    _signature(doc)
    buffer = io.BytesIO()
    doc.save(buffer)
    return _fixed_zip_times(buffer.getvalue())
