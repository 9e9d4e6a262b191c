"""Feedback workbooks for the sending unit, and the rejection report.

Every return gets one: a receipt when it passed, the list of problems (row number
as the unit sees it in its own file, column, the value as written, what is expected)
when rows were quarantined or flagged, or the reason it was refused. The unit's clerk
prints it and acts on it, so it says in one line what happened and in one line what
to do next (fix rows X, Y and send `<file>_v2.xlsx` by a date), names the unit and
the source in full (from the reference seeds the intake already reads), and prints on
A4, one page wide, with the table header repeated on every page and rows tall enough
for their wrapped text. Vietnamese first, English beside it, because the Inspectorate
forwards it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ingestion.calendar import is_late, local_date, local_time
from ingestion.intake.problems import RowProblem, SkippedRow
from ingestion.paths import EXPECTATIONS_DIR

SEVERITY_VI = {"row": "Loại khỏi số liệu (cách ly)", "warn": "Đã nạp, cần kiểm tra lại"}
SEVERITY_EN = {"row": "Quarantined (not loaded)", "warn": "Loaded, please check"}
SKIPPED_KIND = {
    "totals": ("Dòng tổng cộng", "Totals row"),
    "footer": ("Phần cuối biểu (người lập, ký tên)", "Footer (signatures)"),
    "note": ("Ghi chú", "Note"),
    "column_numbers": ("Dòng đánh số cột", "Column-number row"),
    "header": ("Dòng tiêu đề lặp lại", "Header repeated"),
}
# A unit whose return has quarantined rows (or was refused) sends the correction by the
# period's deadline if that is still ahead when the file came in, else within this many days.
RESEND_DAYS = 7
EXPECTATIONS = EXPECTATIONS_DIR
NAME_PATTERN_VI = "<nguồn>_<mã đơn vị>_<kỳ>[_v<N>].xlsx|csv"
NAME_EXAMPLE = "dieutra_CA-TINH_2025-Y.xlsx"


@dataclass(frozen=True)
class FeedbackSummary:
    file_name: str
    source: str | None
    unit_code: str | None
    period_code: str | None
    status: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_flagged: int
    reject_code: str | None = None
    reason_vi: str | None = None
    reason_en: str | None = None
    received_at: dt.datetime | None = None  # when the registry received the file
    rows_skipped: int = 0  # of rows_read: totals, footer, notes, column numbers (not records)


def feedback_kind(summary: FeedbackSummary, problems: Sequence[RowProblem]) -> str:
    if summary.status == "rejected":
        return "rejection"
    return "problems" if problems else "receipt"


def feedback_file_name(file_name: str) -> str:
    return f"{file_name.rsplit('.', 1)[0]}.phan-hoi.feedback.xlsx"


def feedback_path(out_dir: Path, file_name: str) -> Path:
    """Where the intake writes a file's feedback workbook, and where its logs say it is."""
    return out_dir / "feedback" / feedback_file_name(file_name)


def rejection_report_path(out_dir: Path, file_name: str) -> Path:
    """Where the intake writes a rejected file's plain-text report, and where its logs say it is."""
    return out_dir / "rejected" / f"{file_name}.report.txt"


# ---------------------------------------------------------------- what the unit reads
def _date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _received_on(summary: FeedbackSummary) -> dt.date | None:
    if summary.received_at is None:
        return None
    return local_date(summary.received_at)


def unit_name(code: str | None) -> str:
    """`Full name (CODE)` from the reporting-units seed; the code alone when it is unknown."""
    from ingestion.reference import units

    if not code:
        return "(không xác định được / unknown)"
    unit = units().get(code)
    return f"{unit.name_vi} ({code})" if unit else f"{code} (không có trong danh mục đơn vị / not a known unit)"


def source_name(code: str | None) -> str:
    from ingestion.contract.sources import SOURCES

    if not code:
        return "(không xác định được / unknown)"
    source = SOURCES.get(code)
    return f"{source.name_vi} / {source.name_en} ({code})" if source else f"{code} (nguồn không có / unknown source)"


def period_text(code: str | None) -> str:
    from ingestion.reference import periods

    if not code:
        return "(không xác định được / unknown)"
    p = periods().get(code)
    if p is None:
        return f"{code} (kỳ không có / unknown period)"
    return f"{code}: {_date(p.start_date)} – {_date(p.end_date)}; hạn gửi / due {_date(p.due_date)}"


def received_text(summary: FeedbackSummary) -> str:
    from ingestion.reference import periods

    if summary.received_at is None:
        return "(không rõ / unknown)"
    text = local_time(summary.received_at).strftime("%d/%m/%Y %H:%M") + " (giờ Hà Nội / Hanoi time)"
    p = periods().get(summary.period_code or "")
    if p is not None and is_late(p, summary.received_at):
        text += f"; sau hạn {_date(p.due_date)} / after the deadline"
    return text


def next_file_name(file_name: str) -> str | None:
    """The name of the correction: the next version number, `<stem>_v<N+1>.<ext>`; None if unreadable."""
    from ingestion.intake.filenames import parse_file_name
    from ingestion.intake.problems import Rejection

    try:
        rn = parse_file_name(file_name)
    except Rejection:
        return None
    return f"{rn.source}_{rn.unit_code}_{rn.period_code}_v{rn.version + 1}.{rn.extension}"


def resend_by(summary: FeedbackSummary) -> dt.date | None:
    """The period's deadline if still ahead on the day received, else RESEND_DAYS after receipt."""
    from ingestion.reference import periods

    received = _received_on(summary)
    p = periods().get(summary.period_code or "")
    if received is None:
        return p.due_date if p else None
    if p is not None and not is_late(p, received):
        return p.due_date
    return received + dt.timedelta(days=RESEND_DAYS)


def row_list(numbers: Sequence[int]) -> str:
    """`5, 7–9, 12`: rows as the unit numbers them, runs collapsed."""
    rows = sorted(set(numbers))
    parts: list[str] = []
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1] == rows[j] + 1:
            j += 1
        parts.append(str(rows[i]) if i == j else f"{rows[i]}–{rows[j]}")
        i = j + 1
    return ", ".join(parts)


def _rows_en(numbers: Sequence[int]) -> str:
    return ("row " if len(set(numbers)) == 1 else "rows ") + row_list(numbers)


def outcome_line(summary: FeedbackSummary) -> tuple[str, str]:
    """What happened to the file, in one line each language."""
    s = summary
    if s.status == "rejected":
        return "Bị từ chối toàn bộ: không dòng nào được nạp.", "Refused as a whole: no row was loaded."
    records = s.rows_read - s.rows_skipped  # rows read counts the skipped ones too (totals, footer, …)
    counts_vi = f"đã nạp {s.rows_loaded}/{records} dòng số liệu"
    counts_en = f"{s.rows_loaded} of {records} records loaded"
    if s.rows_quarantined:
        counts_vi += f", {s.rows_quarantined} dòng bị cách ly"
        counts_en += f", {s.rows_quarantined} quarantined"
    if s.rows_flagged:
        counts_vi += f", {s.rows_flagged} dòng cần kiểm tra"
        counts_en += f", {s.rows_flagged} flagged"
    if s.rows_skipped:
        counts_vi += f"; {s.rows_skipped} dòng không phải số liệu (liệt kê bên dưới)"
        counts_en += f"; {s.rows_skipped} rows not read as data (listed below)"
    if s.status == "superseded":
        return (
            f"Đã tiếp nhận, nay đã có bản mới hơn thay thế ({counts_vi}).",
            f"Accepted, since replaced by a newer version ({counts_en}).",
        )
    return f"Đã tiếp nhận: {counts_vi}.", f"Accepted: {counts_en}."


def next_step(summary: FeedbackSummary, problems: Sequence[RowProblem]) -> tuple[str, str]:
    """What the unit has to do now, with the file name and the date."""
    by = resend_by(summary)
    by_vi = f" trước ngày {_date(by)}" if by else ""
    by_en = f" by {_date(by)}" if by else ""
    name = next_file_name(summary.file_name)
    if summary.status == "rejected":
        reason_vi = (summary.reason_vi or "").rstrip(".")
        reason_en = (summary.reason_en or "").rstrip(".")
        if name is None:
            return (
                f"Tệp bị từ chối vì: {reason_vi}. Đặt lại tên tệp theo mẫu {NAME_PATTERN_VI} "
                f"(ví dụ {NAME_EXAMPLE}) và gửi lại{by_vi}.",
                f"The file was refused because: {reason_en}. Name it <source>_<unit_code>_<period>[_v<N>]"
                f".xlsx|csv (e.g. {NAME_EXAMPLE}) and send it again{by_en}.",
            )
        return (
            f"Tệp bị từ chối vì: {reason_vi}. Sửa và gửi lại toàn bộ biểu với tên {name}{by_vi}.",
            f"The file was refused because: {reason_en}. Fix it and send the whole return again as {name}{by_en}.",
        )
    if summary.status == "superseded":
        return "Không cần làm gì: bản mới hơn đã thay thế bản này.", "Nothing to do: a newer version replaces this one."
    quarantined = [p.row_number for p in problems if p.severity == "row"]
    flagged = sorted({p.row_number for p in problems if p.severity == "warn"} - set(quarantined))
    if quarantined:
        vi = f"Sửa dòng {row_list(quarantined)} và gửi lại toàn bộ biểu với tên {name}{by_vi}"
        en = f"Fix {_rows_en(quarantined)} and send the whole return again as {name}{by_en}"
        if flagged:
            vi += f"; kiểm tra lại cả dòng {row_list(flagged)}"
            en += f"; also check {_rows_en(flagged)}"
        return vi + ".", en + "."
    if flagged:
        return (
            f"Kiểm tra lại dòng {row_list(flagged)} (đã được nạp). Nếu số liệu sai, gửi bản sửa {name}{by_vi}; "
            "nếu đúng, không cần gửi lại.",
            f"Check {_rows_en(flagged)} (loaded). If a figure is wrong, send the corrected return as {name}"
            f"{by_en}; if it is right, nothing to do.",
        )
    return "Không cần làm gì thêm.", "Nothing to do."


@cache
def _pair_columns(source: str) -> dict[str, tuple[str, str]]:
    """rule -> (column_A, column_B) of the source's two-column checks, in the order GX reports values."""
    path = EXPECTATIONS / f"{source}_return.json"
    if not path.exists():
        return {}
    suite = json.loads(path.read_text(encoding="utf-8"))
    return {
        e["meta"]["rule"]: (e["kwargs"]["column_A"], e["kwargs"]["column_B"])
        for e in suite["expectations"]
        if "column_A" in e["kwargs"] and "column_B" in e["kwargs"]
    }


def _number(text: str, kind: str) -> str:
    """`26212000000` -> `26.212.000.000` (Vietnamese thousands) for money and counts."""
    if kind in ("money", "count") and re.fullmatch(r"-?\d+(\.0+)?", text):
        return f"{int(float(text)):,}".replace(",", ".")
    return text


def display_value(problem: RowProblem, source: str | None) -> str:
    """The value for the unit: as written; a two-column check names both columns with readable amounts."""
    from ingestion.contract.sources import SOURCES

    value = problem.value or ""
    spec = SOURCES.get(source or "")
    pair = _pair_columns(source).get(problem.rule) if source else None
    if spec is not None and pair is not None and " / " in value:
        parts = value.split(" / ")
        if len(parts) == 2:
            cols = [spec.column(name) for name in pair]
            return "\n".join(f"{c.header_vi}: {_number(v.strip(), c.type)}" for c, v in zip(cols, parts, strict=True))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # a date the suite read back: as the unit writes dates
        return _date(dt.date.fromisoformat(value))
    return value


# ---------------------------------------------------------------- layout
def _lines(text: str, width: float) -> int:
    """Lines a wrapped cell of `width` characters needs (a little pessimistic, so nothing is cut)."""
    per_line = max(1, int(width * 1.15) - 1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def _fit_row(ws, row: int, cells: Sequence[tuple[object, float]], line_pt: float = 15.0) -> None:
    ws.set_row(row, line_pt * max(_lines(str(v), w) for v, w in cells) + 3)


def _page_setup(ws, *, landscape: bool, header_rows: tuple[int, int] | None, title: str) -> None:
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)  # one page wide, as many pages tall as needed
    ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    ws.center_horizontally()
    if header_rows is not None:
        ws.repeat_rows(*header_rows)
    safe = title.replace("&", "&&")
    ws.set_header(f"&L&8{safe}")
    ws.set_footer("&R&8Trang / Page &P / &N")


def build_feedback(
    summary: FeedbackSummary, problems: Sequence[RowProblem], skipped: Sequence[SkippedRow] = ()
) -> bytes:
    """The feedback workbook: a one-page summary (outcome, next step, rows not read) and the problems."""
    import xlsxwriter  # local: only the feedback step writes workbooks

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": f"Phản hồi / Feedback: {summary.file_name}", "author": "Thanh tra tỉnh Thanh Hóa"})
    title = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter", "text_wrap": True})
    subtitle = wb.add_format({"italic": True, "align": "center", "valign": "top", "text_wrap": True})
    label = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "border": 1, "bg_color": "#F2F2F2"})
    value = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
    strong = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "bold": True, "bg_color": "#FFF2CC"})
    section = wb.add_format({"bold": True, "font_size": 12, "valign": "bottom", "text_wrap": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
    number = wb.add_format({"valign": "top", "border": 1, "align": "center"})

    # ---- sheet 1: what happened, what to do (A4 portrait)
    ws = wb.add_worksheet("Phản hồi - Feedback")
    widths = (30.0, 72.0)
    ws.set_column(0, 0, widths[0])
    ws.set_column(1, 1, widths[1])
    _page_setup(ws, landscape=False, header_rows=None, title=f"Phản hồi / Feedback: {summary.file_name}")
    ws.merge_range(0, 0, 0, 1, "PHẢN HỒI VỀ BIỂU BÁO CÁO\nFEEDBACK ON YOUR RETURN", title)
    ws.set_row(0, 40)
    ws.merge_range(1, 0, 1, 1, "Thanh tra tỉnh Thanh Hóa — hệ thống tiếp nhận số liệu PCTN", subtitle)
    outcome_vi, outcome_en = outcome_line(summary)
    step_vi, step_en = next_step(summary, problems)
    facts: list[tuple[str, str, object]] = [
        ("Đơn vị gửi / Sending unit", unit_name(summary.unit_code), value),
        ("Nguồn số liệu / Source", source_name(summary.source), value),
        ("Kỳ báo cáo / Period", period_text(summary.period_code), value),
        ("Tệp / File", summary.file_name, value),
        ("Ngày nhận / Received", received_text(summary), value),
        ("Kết quả / Outcome", f"{outcome_vi}\n{outcome_en}", strong),
        ("Việc cần làm / Next step", f"{step_vi}\n{step_en}", strong),
    ]
    if summary.status == "rejected":
        facts.append(("Lý do / Reason", f"{summary.reason_vi}\n{summary.reason_en}", value))
    if problems:
        facts.append(
            (
                "Danh sách lỗi / Problems",
                f"{len(problems)} lỗi, liệt kê theo dòng ở trang 'Lỗi - Problems'.\n"
                f"{len(problems)} problem(s), listed by row on sheet 'Lỗi - Problems'.",
                value,
            )
        )
    row = 3
    for text, content, fmt in facts:
        ws.write_string(row, 0, text, label)
        ws.write_string(row, 1, str(content), fmt)
        _fit_row(ws, row, [(text, widths[0]), (content, widths[1])])
        row += 1
    row += 1
    ws.merge_range(row, 0, row, 1, "Dòng không đọc là số liệu / Rows not read as data", section)
    ws.set_row(row, 22)
    row += 1
    if skipped:
        ws.write_string(row, 0, "Dòng, loại / Row, kind", head)
        ws.write_string(row, 1, "Nội dung trong tệp / Text in the file", head)
        row += 1
        for s in sorted(skipped, key=lambda s: s.row_number):
            kind_vi, kind_en = SKIPPED_KIND.get(s.kind, (s.kind, s.kind))
            first = f"Dòng / Row {s.row_number}: {kind_vi} / {kind_en}"
            ws.write_string(row, 0, first, wrap)
            ws.write_string(row, 1, s.text, wrap)
            _fit_row(ws, row, [(first, widths[0]), (s.text, widths[1])])
            row += 1
    elif summary.status == "rejected":
        none = "Không áp dụng: tệp bị từ chối, không dòng nào được đọc. / Not applicable: the file was refused."
        ws.merge_range(row, 0, row, 1, none, value)
        _fit_row(ws, row, [(none, sum(widths))])
    else:
        none = (
            "Không có: mọi dòng dưới tiêu đề đều được đọc là số liệu. / "
            "None: every row below the header was read as data."
        )
        ws.merge_range(row, 0, row, 1, none, value)
        _fit_row(ws, row, [(none, sum(widths))])
    ws.print_area(0, 0, row, 1)

    # ---- sheet 2: the problems, one a row (A4 landscape, header repeated)
    if problems:
        ps = wb.add_worksheet("Lỗi - Problems")
        headers = [
            "Dòng / Row",
            "Cột / Column",
            "Giá trị đã ghi / Value as written",
            "Xử lý / Handling",
            "Vấn đề / Problem",
            "Problem (EN)",
            "Mã quy tắc / Rule",
        ]
        col_widths = [8.0, 24.0, 30.0, 22.0, 34.0, 34.0, 24.0]
        for c, (h, w) in enumerate(zip(headers, col_widths, strict=True)):
            ps.write_string(0, c, h, head)
            ps.set_column(c, c, w)
        _fit_row(ps, 0, list(zip(headers, col_widths, strict=True)))
        ps.freeze_panes(1, 0)
        _page_setup(ps, landscape=True, header_rows=(0, 0), title=f"Lỗi trong tệp / Problems in {summary.file_name}")
        ordered = sorted(problems, key=lambda p: (p.row_number, p.column or ""))
        for r, p in enumerate(ordered, start=1):
            cells = [
                str(p.row_number),
                p.column or "",
                display_value(p, summary.source),
                f"{SEVERITY_VI[p.severity]} / {SEVERITY_EN[p.severity]}",
                p.reason_vi,
                p.reason_en,
                p.rule,
            ]
            ps.write_number(r, 0, p.row_number, number)
            for c, text in enumerate(cells[1:], start=1):
                ps.write_string(r, c, text, wrap)
            _fit_row(ps, r, list(zip(cells, col_widths, strict=True)))
        ps.autofilter(0, 0, len(ordered), len(headers) - 1)
    wb.close()
    return buffer.getvalue()


def rejection_report(summary: FeedbackSummary) -> str:
    """Plain-text report placed beside a rejected file."""
    step_vi, step_en = next_step(summary, ())
    return (
        f"Tệp / File: {summary.file_name}\n"
        f"Đơn vị / Unit: {unit_name(summary.unit_code)}\n"
        f"Ngày nhận / Received: {received_text(summary)}\n"
        f"Bị từ chối / Rejected: {summary.reject_code}\n"
        f"Lý do: {summary.reason_vi}\n"
        f"Reason: {summary.reason_en}\n"
        f"Việc cần làm: {step_vi}\n"
        f"Next step: {step_en}\n"
        "Tệp gốc được giữ nguyên, không bị sửa. / The original is kept unchanged.\n"
    )
