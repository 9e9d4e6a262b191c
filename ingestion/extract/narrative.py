"""The sentences of the yearly evaluation draft, written from the mart rows in Vietnamese.

The Inspectorate writes its yearly report (and the mid-term review of the plan) by
hand from the same figures the extract carries; this module writes the first draft
of that text. Every number in a sentence is a mart value (`fct_indicator_comparisons`
for a year, `fct_phase_totals` and the yearly values for a phase), formatted the
Vietnamese way (`25.429.403.000 đồng`, `38,4 %`): nothing is computed here but the
wording. Where the data-quality indicators of the agencies behind a section say that
returns are missing or rows were quarantined, the section says so beside its figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ingestion.extract.queries import DETECTION_CHANNEL_PREFIX, MartData, Row

# The agencies whose returns each section's figures come from (domain.md, five sources).
SECTION_AGENCIES = {
    "detection": ("TT", "CA", "QD"),
    "handling": ("TT", "CA", "QD", "VKS", "TA"),
    "recovery": ("TT", "CA", "QD", "THADS"),
}
SECTION_TITLES = {
    "detection": "I. KẾT QUẢ PHÁT HIỆN THAM NHŨNG / DETECTION",
    "handling": "II. KẾT QUẢ XỬ LÝ THAM NHŨNG / HANDLING",
    "recovery": "III. KẾT QUẢ THU HỒI TÀI SẢN / ASSET RECOVERY",
}
UNIT_WORDS = {
    "cases": "vụ",
    "persons": "người",
    "inspections": "cuộc",
    "vnd": "đồng",
    "m2": "m²",
    "days": "ngày",
    "returns": "báo cáo",
    "rows": "dòng",
}


@dataclass
class Section:
    """One section of the draft: its sentences, then a caveat where data quality limits them."""

    group: str
    title: str
    sentences: list[str] = field(default_factory=list)
    caveat: str | None = None


# --- numbers, the Vietnamese way ----------------------------------------------------------------


def _group_thousands(digits: str) -> str:
    out: list[str] = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return ".".join(out)


def fmt_number(value: Any, decimals: int = 1) -> str:
    """`25429403000` -> `25.429.403.000`; `304.5` -> `304,5`; `304.0` -> `304` (dot thousands, comma decimals)."""
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals))
    sign = "-" if number < 0 else ""
    whole, _, fraction = f"{abs(number):f}".partition(".")
    fraction = fraction.rstrip("0")
    return sign + _group_thousands(whole) + ("," + fraction if fraction else "")


def fmt_percent(fraction: Any) -> str:
    """A fraction as a percentage with one decimal: `0.383614` -> `38,4 %`."""
    return f"{fmt_number(Decimal(str(fraction)) * 100)} %"


def fmt_value(value: Any, unit: str) -> str:
    """A value with its unit word: `28 vụ`, `38,4 %`, `25.429.403.000 đồng`, `304 ngày`."""
    if value is None:
        return "chưa có số liệu"
    if unit == "ratio":
        return fmt_percent(value)
    return f"{fmt_number(value)} {UNIT_WORDS.get(unit, unit)}"


def change_phrase(row: Row, previous_label: str) -> str:
    """`tăng 12 % so với năm 2024 (25 vụ)`; for a ratio the change in percentage points."""
    value, previous, unit = row["value"], row["previous_value"], row["unit"]
    if value is None:
        return ""
    if previous is None:
        return f"({previous_label} chưa có số liệu để so sánh)"
    then = fmt_value(previous, unit)
    if value == previous:
        return f"bằng {previous_label} ({then})"
    verb = "tăng" if value > previous else "giảm"
    if unit == "ratio" and row.get("change_points") is not None:
        return f"{verb} {fmt_number(abs(row['change_points']))} điểm phần trăm so với {previous_label} ({then})"
    if row.get("change_pct") is not None:
        return f"{verb} {fmt_percent(abs(row['change_pct']))} so với {previous_label} ({then})"
    return f"{verb} so với {previous_label} ({then})"


# --- sentences ------------------------------------------------------------------------------------


def _province(data: MartData, group: str) -> dict[str, Row]:
    return {r["indicator_code"]: r for r in data.groups.get(group, []) if r["unit_level"] == "province"}


def _years(data: MartData) -> dict[str, dict[int, Any]]:
    by_code: dict[str, dict[int, Any]] = {}
    for r in data.trends:
        by_code.setdefault(r["indicator_code"], {})[int(r["report_year"])] = r["value"]
    return by_code


def covered_years(data: MartData) -> tuple[int, int]:
    """The phase's years that have data (fct_phase_totals first/last_year_covered), else the phase's own."""
    firsts = [r["first_year_covered"] for rows in data.groups.values() for r in rows if r.get("first_year_covered")]
    lasts = [r["last_year_covered"] for rows in data.groups.values() for r in rows if r.get("last_year_covered")]
    if firsts and lasts:
        return min(firsts), max(lasts)
    return data.period.years[0], data.period.years[-1]


def opening(data: MartData) -> str:
    """How each sentence starts: `Năm 2025`, `9 tháng năm 2025`, `Giai đoạn 2023–2025`."""
    p = data.period
    if p.is_phase:
        first, last = covered_years(data)
        return f"Giai đoạn {first}–{last}"
    words = {"Y": "Năm", "9M": "9 tháng năm", "6M": "6 tháng năm"}
    quarters = {"Q1": "Quý I năm", "Q2": "Quý II năm", "Q3": "Quý III năm", "Q4": "Quý IV năm"}
    return f"{(words | quarters).get(p.kind, p.kind)} {p.report_year}"


def previous_label(data: MartData) -> str:
    p = data.period
    return f"năm {p.report_year - 1}" if p.is_year else f"cùng kỳ năm {p.report_year - 1}"


def _pair(rows: dict[str, Row], first: str, second: str, lead: str, words: tuple[str, str], prev: str) -> str | None:
    """`<lead> 28 vụ/72 bị can về tham nhũng, tăng 12 % so với năm 2024 (25 vụ/59 bị can)`."""
    a, b = rows.get(first), rows.get(second)
    if a is None or a["value"] is None:
        return None
    text = f"{lead} {fmt_number(a['value'])} {words[0]}"
    if b is not None and b["value"] is not None:
        text += f"/{fmt_number(b['value'])} {words[1]}"
    text += " về tham nhũng"
    if a["previous_value"] is None:
        return text + f" ({prev} chưa có số liệu để so sánh)"
    direction = "tăng" if a["value"] > a["previous_value"] else "giảm"
    if a["value"] == a["previous_value"]:
        verb = f"bằng {prev}"
    elif a.get("change_pct") is not None:
        verb = f"{direction} {fmt_percent(abs(a['change_pct']))} so với {prev}"
    else:
        verb = f"{direction} so với {prev}"
    then = f"{fmt_number(a['previous_value'])} {words[0]}"
    if b is not None and b["previous_value"] is not None:
        then += f"/{fmt_number(b['previous_value'])} {words[1]}"
    return f"{text}, {verb} ({then})"


def _single(rows: dict[str, Row], code: str, lead: str, prev: str) -> str | None:
    r = rows.get(code)
    if r is None or r["value"] is None:
        return None
    change = change_phrase(r, prev)
    return f"{lead} {fmt_value(r['value'], r['unit'])}" + (f", {change}" if change else "")


def _year_sentences(data: MartData, group: str) -> list[str]:
    rows = _province(data, group)
    start, prev = opening(data), previous_label(data)
    out: list[str | None] = []
    if group == "detection":
        out.append(
            _pair(
                rows,
                "DET_CASES_NEW",
                "DET_PERSONS_NEW",
                f"{start}, các cơ quan điều tra đã khởi tố mới",
                ("vụ", "bị can"),
                prev,
            )
        )
        channels = [
            (r["name_vi"].split(": ", 1)[-1], r["value"])
            for code, r in rows.items()
            if code.startswith(DETECTION_CHANNEL_PREFIX) and r["value"]
        ]
        if channels:
            out.append("Theo nguồn phát hiện: " + "; ".join(f"{name} {fmt_number(v)} vụ" for name, v in channels))
        out.append(_single(rows, "DET_SELF_SHARE", "Tỷ lệ vụ án phát hiện qua thanh tra, kiểm tra là", prev))
        out.append(_single(rows, "DET_INSPECTIONS_CONCLUDED", "Các cơ quan thanh tra đã kết luận", prev))
        out.append(_single(rows, "DET_VIOLATION_VND", "Qua thanh tra, kiểm tra phát hiện sai phạm về tiền", prev))
        out.append(
            _single(rows, "DET_TRANSFER_CONVERSION", "Tỷ lệ hồ sơ chuyển cơ quan điều tra đã được khởi tố là", prev)
        )
    elif group == "handling":
        out.append(
            _pair(
                rows,
                "HDL_INDICTED_CASES",
                "HDL_INDICTED_PERSONS",
                f"{start}, viện kiểm sát đã truy tố",
                ("vụ", "bị can"),
                prev,
            )
        )
        out.append(
            _pair(rows, "HDL_TRIED_CASES", "HDL_TRIED_PERSONS", "Tòa án đã xét xử sơ thẩm", ("vụ", "bị cáo"), prev)
        )
        out.append(_single(rows, "HDL_CONVICTION_RATE", "Tỷ lệ bị cáo bị kết án là", prev))
        out.append(_single(rows, "HDL_ATTRITION_RATE", "Tỷ lệ vụ án bị đình chỉ, tạm đình chỉ điều tra là", prev))
        out.append(
            _single(rows, "HDL_DAYS_TO_INDICTMENT_MEDIAN", "Thời gian từ khởi tố đến truy tố (trung vị) là", prev)
        )
        out.append(
            _single(rows, "HDL_DAYS_TO_TRIAL_MEDIAN", "Thời gian từ khởi tố đến xét xử sơ thẩm (trung vị) là", prev)
        )
        out.append(_single(rows, "HDL_BACKLOG_CASES", "Số vụ án tồn cuối kỳ là", prev))
        out.append(_single(rows, "HDL_HEADS_DISCIPLINED", "Số người đứng đầu bị xử lý trách nhiệm là", prev))
    elif group == "recovery":
        out.append(_single(rows, "REC_ADMIN_RATE", f"{start}, tỷ lệ thu hồi theo kiến nghị thanh tra đạt", prev))
        out.append(
            _single(rows, "REC_SECURED_RATE", "Tỷ lệ thu hồi, kê biên, phong tỏa trong giai đoạn điều tra đạt", prev)
        )
        out.append(_single(rows, "REC_ENFORCEMENT_RATE", "Tỷ lệ tiền thi hành án đã thu đạt", prev))
        out.append(
            _single(
                rows, "REC_ENFORCEMENT_ENFORCEABLE_RATE", "Tỷ lệ tiền đã thu trên số có điều kiện thi hành đạt", prev
            )
        )
        out.append(_single(rows, "REC_OUTSTANDING_VND", "Số tiền còn phải thi hành cuối kỳ là", prev))
    return [s + "." for s in out if s]


def _phase_sentences(data: MartData, group: str) -> list[str]:
    """Totals over the phase for additive indicators, each year's value for the others."""
    totals = _province(data, group)
    years = _years(data)
    first, last = covered_years(data)
    start = opening(data)
    out = []
    for code, r in totals.items():
        if r["value"] is None or code.startswith(DETECTION_CHANNEL_PREFIX):
            continue
        by_year = years.get(code, {})
        detail = "; ".join(
            f"năm {y}: {fmt_value(by_year[y], r['unit'])}" for y in range(first, last + 1) if y in by_year
        )
        out.append(
            f"{start}, {r['name_vi'][0].lower() + r['name_vi'][1:]}: {fmt_value(r['value'], r['unit'])}"
            + (f" ({detail})" if detail else "")
            + "."
        )
    additive = set(totals)
    for i in data.indicators:
        code = i["indicator_code"]
        if i["indicator_group"] != group or code in additive or code not in years:
            continue
        by_year = years[code]
        detail = "; ".join(
            f"năm {y}: {fmt_value(by_year[y], i['unit'])}" for y in range(first, last + 1) if y in by_year
        )
        if detail:
            out.append(f"{i['name_vi']} qua các năm: {detail}.")
    return out


def caveat(data: MartData, group: str) -> str | None:
    """Missing returns and quarantined rows of the agencies behind a section (agency rows of the marts)."""
    quality = [r for r in data.groups.get("data_quality", []) if r["unit_level"] == "agency"]
    agencies = SECTION_AGENCIES[group]
    missing = [
        (r["unit_name_vi"], r["value"])
        for r in quality
        if r["indicator_code"] == "DQ_RETURNS_MISSING" and r["agency_code"] in agencies and r["value"]
    ]
    quarantined = [
        (r["unit_name_vi"], r["value"])
        for r in quality
        if r["indicator_code"] == "DQ_ROWS_QUARANTINED" and r["agency_code"] in agencies and r["value"]
    ]
    parts = []
    if missing:
        parts.append("còn " + ", ".join(f"{fmt_number(v)} báo cáo của {name}" for name, v in missing) + " chưa nộp")
    if quarantined:
        parts.append(
            ", ".join(f"{fmt_number(v)} dòng số liệu của {name}" for name, v in quarantined)
            + " bị cách ly (không được tính)"
        )
    if group == "handling":
        link = next(
            (
                r
                for r in data.groups.get("data_quality", [])
                if r["unit_level"] == "province"
                and r["indicator_code"] == "DQ_CASE_LINK_RATE"
                and r["value"] is not None
            ),
            None,
        )
        if link is not None:
            parts.append(f"tỷ lệ vụ án liên kết được giữa các giai đoạn là {fmt_percent(link['value'])}")
    if not parts:
        return None
    return "Lưu ý về số liệu / Data caveat: " + "; ".join(parts) + ", nên số liệu phần này có thể chưa đầy đủ."


def sections(data: MartData) -> list[Section]:
    """Detection, handling and asset recovery, each with its sentences and its caveat."""
    out = []
    for group, title in SECTION_TITLES.items():
        sentences = _phase_sentences(data, group) if data.period.is_phase else _year_sentences(data, group)
        out.append(Section(group, title, sentences or ["Không có số liệu / No data."], caveat(data, group)))
    return out
