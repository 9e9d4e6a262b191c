"""Feedback workbooks for the sending unit, and the rejection report.

Every return gets one: a short receipt when it passed, the list of problems (row
number as the unit sees it in its own file, column, value, what is expected)
when rows were quarantined or flagged, or the reason it was refused. Vietnamese
first, English beside it, because the unit's clerk reads it and the
Inspectorate forwards it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from ingestion.problems import RowProblem, SkippedRow

SEVERITY_VI = {"row": "Loại khỏi số liệu (cách ly)", "warn": "Đã nạp, cần kiểm tra lại"}
SEVERITY_EN = {"row": "Quarantined (not loaded)", "warn": "Loaded, please check"}


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


def feedback_kind(summary: FeedbackSummary, problems: Sequence[RowProblem]) -> str:
    if summary.status == "rejected":
        return "rejection"
    return "problems" if problems else "receipt"


def feedback_file_name(file_name: str) -> str:
    return f"{file_name.rsplit('.', 1)[0]}.phan-hoi.feedback.xlsx"


SKIPPED_KIND = {
    "totals": "Dòng tổng cộng / Totals row",
    "footer": "Phần ký tên, cuối biểu / Footer (signatures)",
    "note": "Dòng ghi chú giữa bảng / Note among the records",
    "column_numbers": "Dòng số thứ tự cột / Column-number row",
    "header": "Dòng tiêu đề lặp lại / Header repeated",
}


def build_feedback(
    summary: FeedbackSummary, problems: Sequence[RowProblem], skipped: Sequence[SkippedRow] = ()
) -> bytes:
    import xlsxwriter  # local: only the feedback step writes workbooks

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": f"Phản hồi / Feedback: {summary.file_name}", "author": "Thanh tra tỉnh Thanh Hóa"})
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
    ws = wb.add_worksheet("Phản hồi - Feedback")
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 70)
    ws.write_string(0, 0, "PHẢN HỒI VỀ BIỂU BÁO CÁO / FEEDBACK ON YOUR RETURN", bold)
    outcome_vi = {
        "rejected": "Bị từ chối toàn bộ",
        "loaded": "Đã tiếp nhận",
        "superseded": "Đã tiếp nhận (đã có bản thay thế mới hơn)",
    }.get(summary.status, summary.status)
    outcome_en = {
        "rejected": "Rejected as a whole",
        "loaded": "Accepted",
        "superseded": "Accepted (a newer version replaces it)",
    }.get(summary.status, summary.status)
    facts = [
        ("Tệp / File", summary.file_name),
        ("Nguồn / Source", summary.source or ""),
        ("Đơn vị / Unit", summary.unit_code or ""),
        ("Kỳ báo cáo / Period", summary.period_code or ""),
        ("Kết quả / Outcome", f"{outcome_vi} / {outcome_en}"),
        ("Số dòng đọc được / Rows read", summary.rows_read),
        ("Số dòng đã nạp / Rows loaded", summary.rows_loaded),
        ("Số dòng bị cách ly / Rows quarantined", summary.rows_quarantined),
        ("Số dòng cần kiểm tra / Rows flagged", summary.rows_flagged),
    ]
    if summary.status == "rejected":
        facts.append(("Lý do / Reason", f"{summary.reason_vi}\n{summary.reason_en}"))
    for i, (label, value) in enumerate(facts, start=2):
        ws.write_string(i, 0, label, bold)
        if isinstance(value, int):
            ws.write_number(i, 1, value)
        else:
            ws.write_string(i, 1, str(value), wrap)
    if problems:
        ps = wb.add_worksheet("Lỗi - Problems")
        headers = [
            "Dòng trong tệp / Row in file",
            "Cột / Column",
            "Giá trị / Value",
            "Mức độ / Severity",
            "Vấn đề / Problem (VI)",
            "Problem (EN)",
            "Mã quy tắc / Rule",
        ]
        widths = [14, 30, 24, 26, 50, 50, 20]
        for c, (h, w) in enumerate(zip(headers, widths, strict=True)):
            ps.write_string(0, c, h, head)
            ps.set_column(c, c, w)
        ps.freeze_panes(1, 0)
        for r, p in enumerate(sorted(problems, key=lambda p: (p.row_number, p.column or "")), start=1):
            ps.write_number(r, 0, p.row_number, wrap)
            ps.write_string(r, 1, p.column or "", wrap)
            ps.write_string(r, 2, p.value or "", wrap)
            ps.write_string(r, 3, f"{SEVERITY_VI[p.severity]} / {SEVERITY_EN[p.severity]}", wrap)
            ps.write_string(r, 4, p.reason_vi, wrap)
            ps.write_string(r, 5, p.reason_en, wrap)
            ps.write_string(r, 6, p.rule, wrap)
        ps.autofilter(0, 0, len(problems), len(headers) - 1)
    if skipped:
        ss = wb.add_worksheet("Không phải số liệu - Skipped")
        ss.write_string(0, 0, "Dòng không đọc là số liệu / Rows not read as data", bold)
        for c, (h, w) in enumerate(
            zip(["Dòng trong tệp / Row in file", "Loại / Kind", "Nội dung / Text"], [14, 36, 90], strict=True)
        ):
            ss.write_string(1, c, h, head)
            ss.set_column(c, c, w)
        for r, row in enumerate(skipped, start=2):
            ss.write_number(r, 0, row.row_number, wrap)
            ss.write_string(r, 1, SKIPPED_KIND.get(row.kind, row.kind), wrap)
            ss.write_string(r, 2, row.text, wrap)
    wb.close()
    return buffer.getvalue()


def rejection_report(summary: FeedbackSummary) -> str:
    """Plain-text report placed beside a rejected file."""
    return (
        f"Tệp / File: {summary.file_name}\n"
        f"Bị từ chối / Rejected: {summary.reject_code}\n"
        f"Lý do: {summary.reason_vi}\n"
        f"Reason: {summary.reason_en}\n"
        "Tệp gốc được giữ nguyên, không bị sửa. / The original is kept unchanged.\n"
    )
