"""Write real return files (xlsx in the official layout, csv in any encoding) for tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingestion.contract.sources import SOURCES

THANHTRA_HEADERS = [c.header_vi for c in SOURCES["thanhtra"].columns]
DIEUTRA_HEADERS = [c.header_vi for c in SOURCES["dieutra"].columns]


def thanhtra_row(i: int, **overrides: Any) -> list[Any]:
    base = {
        "inspection_id": f"TTR-2024-{i:03d}",
        "title": f"Thanh tra việc quản lý đất đai số {i}",
        "kind": "Theo kế hoạch",
        "sector": "đất đai",
        "inspected_entity": "UBND xã Hoằng Lộc",
        "start_date": "15/01/2024",
        "status": "Đã kết luận",
        "conclusion_no": f"{i}/KL-TTT",
        "conclusion_date": "20/06/2024",
        "violation_vnd": "1.500.000.000",
        "violation_land_m2": "1.250,5",
        "recommended_recovery_vnd": "1,2 tỷ",
        "recovered_vnd": "800 triệu",
        "orgs_proposed": 1,
        "persons_proposed": 3,
        "heads_disciplined": 1,
        "corruption_cases": 0,
        "corruption_persons": 0,
        "transferred_cases": 0,
        "transferred_persons": 0,
        "transfer_ref": None,
    }
    base.update(overrides)
    return [base[c.name] for c in SOURCES["thanhtra"].columns]


def dieutra_row(i: int, **overrides: Any) -> list[Any]:
    base = {
        "case_id": f"VA-2024-{i:04d}",
        "case_title": f"Vụ tham ô tài sản tại Ban quản lý dự án số {i}",
        "initiation_date": "10/02/2024",
        "article": "Điều 353",
        "accused_count": 2,
        "detection_channel": "Thanh tra",
        "transfer_ref": f"HS-{i}",
        "damage_vnd": "2 tỷ",
        "secured_vnd": "500.000.000",
        "status": "Đang điều tra",
        "closing_date": None,
        "accused_names": "Nguyễn Văn Thử; Lê Thị Mẫu",
    }
    base.update(overrides)
    return [base[c.name] for c in SOURCES["dieutra"].columns]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], encoding: str = "utf-8") -> Path:
    lines = [",".join(_csv_cell(h) for h in header)]
    lines += [",".join(_csv_cell(v) for v in row) for row in rows]
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes(to_cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    return path


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows wrote it: vowel letters precomposed, tone marks combining."""
    import unicodedata

    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        for i in range(len(marks), -1, -1):
            head = unicodedata.normalize("NFC", base + "".join(marks[:i]))
            try:
                out += head.encode("cp1258") + "".join(marks[i:]).encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            raise UnicodeEncodeError("cp1258", ch, 0, 1, "no Windows-1258 form")
    return bytes(out)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_official_xlsx(
    path: Path,
    unit_title: str,
    period_title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    column_numbers: bool = True,
    totals: bool = True,
) -> Path:
    """An .xlsx laid out like the official forms: title lines, header, (1)(2)…, rows, totals, footer."""
    import openpyxl
    from openpyxl.styles import Alignment

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
    ws.append([f"Đơn vị báo cáo: {unit_title}"])
    ws.append([f"Kỳ báo cáo: {period_title}"])
    ws.append(["Biểu số 01/PCTN"])
    ws.append([])
    ws.append(["STT", *[h.replace(" (", "\n(") for h in header]])
    for cell in ws[6]:
        cell.alignment = Alignment(wrap_text=True)
    if column_numbers:
        ws.append([f"({i})" for i in range(1, len(header) + 2)])
    for i, row in enumerate(rows, start=1):
        ws.append([i, *[v.isoformat() if False else v for v in row]])
    if totals:
        ws.append(["Tổng cộng", None, None])
    ws.append([])
    ws.append(["Người lập biểu", None, None, "Thủ trưởng đơn vị"])
    wb.save(path)
    return path


def excel_date(y: int, m: int, d: int) -> dt.date:
    return dt.date(y, m, d)
