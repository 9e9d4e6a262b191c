"""The simulated province behind the sample returns: one story told by five sources.

Inspections (thanh tra) conclude, some detect corruption and transfer it to the
police with a transfer reference; the police case (`VA-2024-0012`) is investigated,
sent to the procuracy, indicted, tried at first instance (district cases are
sometimes appealed to the provincial court) and its money parts enforced. Each
stage of each case is a `Record` that knows the days it was handled and its state
on any date, so a return is just "the records this unit handled in the period, as
they stood at the period's end" (contract: "One return = one file"). Units that
end on 30/06/2025 hand their open records to their successor
(`reporting_units.csv`), which then reports them.

Every draw comes from `random.Random` seeded with a string, so a seed gives the
same story on every machine and Python run (no `hash()`, no set iteration).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from ingestion.paths import SEEDS_DIR
from ingestion.reference import (
    PROVINCE_CODE,
    ReportingPeriod,
    ReportingUnit,
    read_periods,
    read_province_names,
    read_units,
)

DAY = timedelta(days=1)

Value = str | int | date | Decimal | list[str] | None


# --------------------------------------------------------------------------
# Reference data (the seeds dbt and Python share).
# --------------------------------------------------------------------------
class Unit(ReportingUnit):
    """A reporting unit of the reference (`ingestion.reference`) under the generator's short names."""

    @property
    def code(self) -> str:
        return self.unit_code

    @property
    def agency(self) -> str:
        return self.agency_code

    @property
    def level(self) -> str:
        return self.unit_level

    @property
    def area(self) -> str:
        return self.area_code

    @property
    def successor(self) -> str | None:
        """The unit that takes this one's records when it ends."""
        return self.successor_unit_code

    @property
    def province(self) -> str:
        return self.province_code


class Period(ReportingPeriod):
    """A reporting period of the reference (inspection-sector regime: years run 15/12 to 14/12)."""

    @property
    def code(self) -> str:
        return self.period_code

    @property
    def year(self) -> int:
        return self.report_year

    @property
    def kind(self) -> str:
        return self.period_kind

    @property
    def start(self) -> date:
        return self.start_date

    @property
    def end(self) -> date:
        return self.end_date


class Reference:
    """Units and periods from the seeds, with the old-to-new unit mapping."""

    def __init__(
        self, units: dict[str, Unit], periods: dict[str, Period], places: dict[str, str] | None = None
    ) -> None:
        self.units = units
        self.periods = periods
        self.places = places or {}  # province code -> short name for the place line of a form ("Thanh Hóa")

    def place(self, unit: str) -> str:
        """The place a unit's forms are signed in: its province's short name."""
        u = self.units.get(unit)
        return self.places.get(u.province, "Thanh Hóa") if u else "Thanh Hóa"

    def current(self, code: str, d: date) -> str:
        """The unit that holds a record of `code` on day `d` (follows successors after `code` ends)."""
        unit = self.units[code]
        while unit.valid_to is not None and d > unit.valid_to and unit.successor:
            unit = self.units[unit.successor]
        return unit.code

    def handlers(self, code: str, first: date, last: date) -> list[str]:
        """Every unit that held a record of `code` at some day in [first, last]."""
        out = [self.current(code, first)]
        unit = self.units[out[0]]
        while unit.valid_to is not None and unit.valid_to < last and unit.successor:
            unit = self.units[self.current(unit.successor, unit.valid_to + DAY)]
            out.append(unit.code)
        return out

    def period(self, year: int, kind: str) -> Period:
        return self.periods[f"{year}-{kind}"]


def load_reference(seeds_dir: Path = SEEDS_DIR) -> Reference:
    """Units, periods and province names of a reference directory, read by `ingestion.reference`."""
    units = {code: Unit(**vars(u)) for code, u in read_units(seeds_dir).items()}
    periods = {code: Period(**vars(p)) for code, p in read_periods(seeds_dir).items()}
    places = {code: short_province_name(name) for code, name in read_province_names(seeds_dir).items()}
    return Reference(units, periods, places)


def short_province_name(name_vi: str) -> str:
    """'Tỉnh Thanh Hóa' -> 'Thanh Hóa', 'Thành phố Hà Nội' -> 'Hà Nội' (the place line of a form)."""
    for prefix in ("Tỉnh ", "Thành phố "):
        if name_vi.startswith(prefix):
            return name_vi[len(prefix) :]
    return name_vi


# --------------------------------------------------------------------------
# Records: one stage of one matter, with its state on any day.
# --------------------------------------------------------------------------
@dataclass
class Record:
    """One row-to-be of a source: handled by `origin_unit` (or its successor) from `opened` to `closed`."""

    source: str
    origin_unit: str
    opened: date
    closed: date | None
    sort_key: str

    def handled_by(self, ref: Reference, unit: str, period: Period) -> bool:
        first = max(self.opened, period.start)
        last = min(self.closed or period.end, period.end)
        return first <= last and unit in ref.handlers(self.origin_unit, first, last)

    def row(self, at: date) -> dict[str, Value]:
        raise NotImplementedError


def _ramp(total: int, start: date, end: date | None, at: date, step: int = 1_000_000) -> int:
    """An amount that grows linearly from 0 at `start` to `total` at `end`, rounded down to `step`."""
    if total <= 0 or at < start:
        return 0
    if end is None or at >= end:
        return total
    share = (at - start).days / max((end - start).days, 1)
    return min(total, int(total * share) // step * step)


@dataclass
class Inspection(Record):
    """A `thanhtra` record: one inspection or internal check (cuộc thanh tra, kiểm tra)."""

    inspection_id: str = ""
    title: str = ""
    kind: str = ""
    sector: str = ""
    entity: str = ""
    start_date: date = date.min
    conclusion_date: date | None = None
    conclusion_no: str | None = None
    violation_vnd: int | None = None
    land_m2: Decimal | None = None
    recommended_vnd: int | None = None
    recovered_vnd: int | None = None
    orgs: int = 0
    persons: int = 0
    heads: int = 0
    corruption_cases: int = 0
    corruption_persons: int = 0
    transferred_cases: int = 0
    transferred_persons: int = 0
    transfer_ref: str | None = None

    def row(self, at: date) -> dict[str, Value]:
        done = self.conclusion_date is not None and self.conclusion_date <= at
        row: dict[str, Value] = {
            "inspection_id": self.inspection_id,
            "title": self.title,
            "kind": self.kind,
            "sector": self.sector,
            "inspected_entity": self.entity,
            "start_date": self.start_date,
            "status": "Đã kết luận" if done else "Đang tiến hành",
        }
        if done:
            row |= {
                "conclusion_no": self.conclusion_no,
                "conclusion_date": self.conclusion_date,
                "violation_vnd": self.violation_vnd,
                "violation_land_m2": self.land_m2,
                "recommended_recovery_vnd": self.recommended_vnd,
                "recovered_vnd": self.recovered_vnd,
                "orgs_proposed": self.orgs,
                "persons_proposed": self.persons,
                "heads_disciplined": self.heads,
                "corruption_cases": self.corruption_cases,
                "corruption_persons": self.corruption_persons,
                "transferred_cases": self.transferred_cases,
                "transferred_persons": self.transferred_persons,
                "transfer_ref": self.transfer_ref,
            }
        return row


@dataclass
class Case:
    """A criminal case through every stage; the stage records below read from it."""

    case_id: str = ""
    area: str = "TINH"  # TINH or a district area code (HOANGHOA, ...)
    agency_inv: str = "CA"
    title: str = ""
    article: int = 353
    initiation_date: date = date.min
    accused: list[str] = field(default_factory=list)
    channel: str = ""
    transfer_ref: str | None = None
    damage_vnd: int = 0
    secured_vnd: int = 0
    outcome: str = "Đề nghị truy tố"
    closing_date: date | None = None
    # prosecution
    vks_received: date | None = None
    vks_returned: date | None = None
    vks_rereceived: date | None = None
    vks_terminated: date | None = None
    indictment_date: date | None = None
    indictment_no: str | None = None
    indicted: int = 0
    # first instance and appeal
    st_received: date | None = None
    st_trial: date | None = None
    st_judgment: str | None = None
    convicted: int = 0
    ordered_vnd: int = 0
    court_omits_case_id: bool = False
    pt_received: date | None = None
    pt_trial: date | None = None
    pt_judgment: str | None = None


@dataclass
class Investigation(Record):
    """A `dieutra` record: the case at the investigation agency."""

    case: Case = field(default_factory=Case)

    def row(self, at: date) -> dict[str, Value]:
        c = self.case
        closed = c.closing_date is not None and c.closing_date <= at
        return {
            "case_id": c.case_id,
            "case_title": c.title,
            "initiation_date": c.initiation_date,
            "article": c.article,
            "accused_count": len(c.accused),
            "detection_channel": c.channel,
            "transfer_ref": c.transfer_ref,
            "damage_vnd": c.damage_vnd,
            "secured_vnd": _ramp(c.secured_vnd, c.initiation_date, c.closing_date or c.initiation_date + 300 * DAY, at),
            "status": c.outcome if closed else "Đang điều tra",
            "closing_date": c.closing_date if closed else None,
            "accused_names": list(c.accused),
        }


@dataclass
class Prosecution(Record):
    """A `truyto` record: the case at the procuracy."""

    case: Case = field(default_factory=Case)

    def row(self, at: date) -> dict[str, Value]:
        c = self.case
        assert c.vks_received is not None
        status = "Đang giải quyết"
        row: dict[str, Value] = {
            "case_id": c.case_id,
            "received_date": c.vks_received,
            "article": c.article,
            "accused_count": len(c.accused),
        }
        if c.vks_returned and c.vks_returned <= at and (c.vks_rereceived is None or at < c.vks_rereceived):
            status = "Trả hồ sơ điều tra bổ sung"
        if c.vks_terminated and c.vks_terminated <= at:
            status = "Đình chỉ"
        if c.indictment_date and c.indictment_date <= at:
            status = "Đã truy tố"
            row |= {
                "indictment_no": c.indictment_no,
                "indictment_date": c.indictment_date,
                "indicted_count": c.indicted,
            }
        row["status"] = status
        return row


@dataclass
class Trial(Record):
    """A `xetxu` record: the case at one trial level of one court."""

    case: Case = field(default_factory=Case)
    level: str = "Sơ thẩm"

    def row(self, at: date) -> dict[str, Value]:
        c = self.case
        appeal = self.level == "Phúc thẩm"
        received = c.pt_received if appeal else c.st_received
        trial = c.pt_trial if appeal else c.st_trial
        judgment = c.pt_judgment if appeal else c.st_judgment
        tried = trial is not None and trial <= at
        row: dict[str, Value] = {
            "case_id": None if (c.court_omits_case_id and tried) else c.case_id,
            "trial_level": self.level,
            "received_date": received,
            "article": c.article,
            "defendants_count": c.indicted,
            "status": "Đã xét xử" if tried else "Chưa xét xử",
            "defendant_names": c.accused[: c.indicted],
        }
        if tried:
            row |= {"judgment_no": judgment, "trial_date": trial, "convicted_count": c.convicted}
            row["ordered_vnd"] = c.ordered_vnd
        return row


@dataclass
class Enforcement(Record):
    """A `thads` record: one enforcement matter (việc) of a judgment's money part."""

    decision_no: str = ""
    judgment_no: str = ""
    case_id: str | None = None
    decision_date: date = date.min
    due_vnd: int = 0
    enforceable: bool = True
    collect_share: float = 0.0
    collect_until: date | None = None
    postponed_from: date | None = None

    def collected(self, at: date) -> int:
        target = int(self.due_vnd * self.collect_share) // 1_000_000 * 1_000_000
        if self.collect_share >= 1.0:
            target = self.due_vnd
        return _ramp(target, self.decision_date, self.collect_until, at)

    def row(self, at: date) -> dict[str, Value]:
        collected = self.collected(at)
        if not self.enforceable:
            status = "Chưa có điều kiện"
        elif collected >= self.due_vnd:
            status = "Đã thi hành xong"
        elif self.postponed_from and self.postponed_from <= at:
            status = "Hoãn, tạm đình chỉ"
        else:
            status = "Đang thi hành"
        return {
            "decision_no": self.decision_no,
            "judgment_no": self.judgment_no,
            "case_id": self.case_id,
            "decision_date": self.decision_date,
            "due_vnd": self.due_vnd,
            "enforceable": self.enforceable,
            "collected_vnd": collected,
            "status": status,
        }


# --------------------------------------------------------------------------
# Vocabulary: names, places, entities (fake but plausible).
# --------------------------------------------------------------------------
def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(sep))


# Given names start with a consonant: TCVN3 has no capital toned vowels ("Ánh" would come back "ánh").
FAMILY = _words(
    "Nguyễn Trần Lê Phạm Hoàng Vũ Đỗ Bùi Đặng Ngô Dương Lý Mai Trịnh Đinh Lương Hà Tống Cao Lại Trương Phan Hồ Mạc"
)
MIDDLE_M = _words("Văn Đức Hữu Minh Xuân Quang Đình Công Trọng Bá Ngọc Thanh")
MIDDLE_F = _words("Thị Ngọc Thanh Thu Kim Minh Hồng Phương")
GIVEN_M = _words(
    "Hùng Dũng Tuấn Hải Long Nam Sơn Thắng Cường Bình Khánh Hiếu Quân Lợi Toàn Vinh Phúc Thịnh Trung Hưng Tùng "
    "Nghĩa Chiến Quyết Thành Lâm Tiến Hoàng Đạt Duy Kiên Mạnh"
)
GIVEN_F = _words("Hương Lan Hà Hoa Thủy Nga Phương Linh Trang Tâm Thảo Yến Hằng Giang Hạnh Dung Huyền Nhung Loan Mai")

COMMUNES = _words(
    "Quảng Tâm|Hoằng Quang|Đông Hương|Thiệu Dương|Quảng Thịnh|Nga Thạch|Hải Lĩnh|Xuân Lai|Vĩnh Hùng|Thọ Lập|"
    "Định Tân|Triệu Thành|Hà Lĩnh|Cẩm Tân|Ngọc Trung|Lương Sơn|Hoằng Lộc|Quảng Nhân|Tân Ninh|Minh Sơn",
    "|",
)
DISTRICTS = _words(
    "Hoằng Hóa|Quảng Xương|Thọ Xuân|Triệu Sơn|Hậu Lộc|Nga Sơn|Yên Định|Tĩnh Gia|Thạch Thành|Ngọc Lặc|"
    "Hà Trung|Nông Cống",
    "|",
)
SECTORS = ("đất đai", "xây dựng", "tài chính - ngân sách", "y tế", "giáo dục", "tài nguyên - môi trường", "đầu tư công")
TOPICS = {
    "đất đai": "việc quản lý, sử dụng đất đai và giao đất, cho thuê đất",
    "xây dựng": "công tác quản lý đầu tư xây dựng các công trình",
    "tài chính - ngân sách": "việc quản lý, sử dụng ngân sách và tài sản công",
    "y tế": "công tác mua sắm trang thiết bị, vật tư y tế",
    "giáo dục": "việc thu, chi các khoản đóng góp và mua sắm",
    "tài nguyên - môi trường": "việc cấp phép, khai thác khoáng sản",
    "đầu tư công": "việc thực hiện các dự án đầu tư công",
}
OFFENCE_TITLES = {
    353: "Tham ô tài sản",
    354: "Nhận hối lộ",
    355: "Lạm dụng chức vụ, quyền hạn chiếm đoạt tài sản",
    356: "Lợi dụng chức vụ, quyền hạn trong khi thi hành công vụ",
    357: "Lạm quyền trong khi thi hành công vụ",
    358: "Lợi dụng chức vụ, quyền hạn gây ảnh hưởng đối với người khác để trục lợi",
    359: "Giả mạo trong công tác",
    219: "Vi phạm quy định về quản lý, sử dụng tài sản Nhà nước gây thất thoát, lãng phí",
    360: "Thiếu trách nhiệm gây hậu quả nghiêm trọng",
    364: "Đưa hối lộ",
    365: "Môi giới hối lộ",
}
ARTICLE_WEIGHTS = {353: 26, 354: 12, 355: 17, 356: 22, 357: 4, 358: 3, 359: 4, 219: 7, 360: 2, 364: 2, 365: 1}
CHANNEL_WEIGHTS = {
    "Tố cáo, tin báo": 34,
    "Cơ quan điều tra tự phát hiện": 30,
    "Kiểm toán": 12,
    "Kiểm tra": 8,
    "Báo chí": 8,
    "Khác": 8,
}


def _entity(
    rng: random.Random,
    sector: str,
    communes: tuple[str, ...] = COMMUNES,
    districts: tuple[str, ...] = DISTRICTS,
    province: str = "Thanh Hóa",
) -> str:
    commune = rng.choice(communes)
    district = rng.choice(districts)
    options = {
        "đất đai": [f"UBND xã {commune}, huyện {district}", f"Văn phòng đăng ký đất đai chi nhánh {district}"],
        "xây dựng": [f"Ban quản lý dự án đầu tư xây dựng huyện {district}", f"UBND xã {commune}, huyện {district}"],
        "tài chính - ngân sách": [
            f"UBND xã {commune}, huyện {district}",
            f"Phòng Tài chính - Kế hoạch huyện {district}",
        ],
        "y tế": [f"Trung tâm Y tế huyện {district}", f"Bệnh viện Đa khoa tỉnh {province}"],
        "giáo dục": [f"Trường THCS {commune}, huyện {district}", f"Phòng Giáo dục và Đào tạo huyện {district}"],
        "tài nguyên - môi trường": [f"Công ty TNHH khai thác đá {commune}", f"UBND huyện {district}"],
        "đầu tư công": [f"Ban quản lý dự án huyện {district}", f"UBND huyện {district}"],
    }
    return rng.choice(options[sector])


def _weighted(rng: random.Random, weights: dict) -> object:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _lognormal_amount(rng: random.Random, median: float, sigma: float, low: int, high: int, step: int) -> int:
    value = median * math.exp(rng.gauss(0.0, sigma))
    return max(low, min(high, int(value) // step * step))


def _day_in(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))


# --------------------------------------------------------------------------
# The province.
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Inspectorate:
    unit: str
    prefix: str
    weight: float
    area: str  # where transferred cases are investigated


INSPECTORATES = (
    Inspectorate("TT-TINH", "TTT", 0.34, "TINH"),
    Inspectorate("TT-SO-XAYDUNG", "TTSXD", 0.17, "TINH"),
    Inspectorate("TT-SO-TAICHINH", "TTSTC", 0.17, "TINH"),
    Inspectorate("TT-HUYEN-HOANGHOA", "TTHH", 0.14, "HOANGHOA"),
    Inspectorate("TT-HUYEN-SAMSON", "TTSS", 0.12, "TINH"),
    Inspectorate("TT-SO-YTE", "TTSYT", 0.06, "TINH"),
)
CRIMINAL_AREAS = {"TINH": 0.72, "HOANGHOA": 0.12, "TPTHANHHOA": 0.16}


@dataclass(frozen=True)
class ProvinceLayout:
    """Who in a province handles what: its inspectorates, the areas its criminal cases come from,
    and the unit code of an agency in an area. The default is Thanh Hóa's bundled sample; the
    national generator (`national.py`) builds one per province from its reference units."""

    code: str = PROVINCE_CODE
    name: str = "Thanh Hóa"
    inspectorates: tuple[Inspectorate, ...] = INSPECTORATES
    criminal_areas: tuple[tuple[str, float], ...] = tuple(CRIMINAL_AREAS.items())
    unit_codes: tuple[tuple[tuple[str, str], str], ...] = ()  # ((agency, area), unit code); empty: Thanh Hóa's
    suffixes: tuple[tuple[str, str], ...] = ()  # document-number suffixes per unit, beyond SUFFIX
    communes: tuple[str, ...] = COMMUNES
    districts: tuple[str, ...] = DISTRICTS
    tag: str | None = None  # id suffix; None: "" for the first copy, P02, P03, ... after
    inspections_per_year: int | None = None  # None: StoryConfig's
    cases_per_year: int | None = None

    def unit(self, agency: str, area: str) -> str:
        for key, code in self.unit_codes:
            if key == (agency, area):
                return code
        return f"{agency}-TINH" if area == "TINH" else f"{agency}-HUYEN-{area}"

    def suffix(self, unit: str) -> str | None:
        return dict(self.suffixes).get(unit) or SUFFIX.get(unit)


SUFFIX = {  # document-number suffixes per unit
    "TT-TINH": "TTT",
    "TT-SO-XAYDUNG": "TTSXD",
    "TT-SO-TAICHINH": "TTSTC",
    "TT-HUYEN-HOANGHOA": "TTHH",
    "TT-HUYEN-SAMSON": "TTSS",
    "TT-SO-YTE": "TTSYT",
}


@dataclass
class Story:
    """All records of the simulated province, by source, and the clear person names used."""

    records: dict[str, list[Record]]
    names: list[str]
    cases: list[Case]


@dataclass
class StoryConfig:
    first_year: int = 2023
    last_year: int = 2025
    inspections_per_year: int = 80
    cases_per_year: int = 30
    copies: int = 1  # --provinces N: N independent copies of the province, ids kept unique


class _Namer:
    """Unique Vietnamese-looking person names (unique within one copy of the province)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.order: list[str] = []

    def person(self) -> str:
        while True:
            if self.rng.random() < 0.72:
                name = f"{self.rng.choice(FAMILY)} {self.rng.choice(MIDDLE_M)} {self.rng.choice(GIVEN_M)}"
            else:
                name = f"{self.rng.choice(FAMILY)} {self.rng.choice(MIDDLE_F)} {self.rng.choice(GIVEN_F)}"
            if name not in self.used:
                self.used.add(name)
                self.order.append(name)
                return name


class _Numbers:
    """Document numbers issued in date order per issuing unit, with gaps for the unit's other business.

    Judgment numbers (`45/2024/HS-ST`) restart each year; enforcement decisions
    carry no year, so their counter never restarts (their number is the `thads`
    key). A number is never issued twice in a group and year, across units and
    province copies, so keys stay unique in every return.
    """

    BASE: ClassVar[dict[str, int]] = {"KL": 0, "CT": 0, "HS-ST": 2, "HS-PT": 1, "QD": 40}

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.requests: list[tuple[date, str, str, Callable[[int], None]]] = []

    def request(self, when: date, counter: str, sort_key: str, assign: Callable[[int], None]) -> None:
        self.requests.append((when, counter, sort_key, assign))

    def issue(self, gap: int = 6) -> None:
        counters: dict[tuple[str, int], int] = {}
        used: set[tuple[str, int, int]] = set()
        for when, counter, _key, assign in sorted(self.requests, key=lambda r: (r[0], r[1], r[2])):
            group = counter.split(":")[0]
            year = 0 if group == "QD" else when.year
            number = counters.get((counter, year), self.BASE[group])
            number += self.rng.randint(1, gap)
            while (group, year, number) in used:
                number += 1
            used.add((group, year, number))
            counters[(counter, year)] = number
            assign(number)


def build_story(
    ref: Reference, seed: int, config: StoryConfig, layouts: tuple[ProvinceLayout, ...] | None = None
) -> Story:
    """Simulate `config.copies` copies of the province (or one province per layout) and return every record."""
    records: dict[str, list[Record]] = defaultdict(list)
    names: list[str] = []
    cases: list[Case] = []
    numbers = _Numbers(random.Random(f"pctn-numbers:{seed}"))
    plan: list[ProvinceLayout | None] = list(layouts) if layouts else [None] * config.copies
    for copy, layout in enumerate(plan):
        part = _ProvinceCopy(ref, seed, config, copy, numbers, layout)
        part.simulate()
        for source, recs in part.records.items():
            records[source].extend(recs)
        names.extend(part.namer.order)
        cases.extend(part.cases)
    numbers.issue()
    for recs in records.values():
        recs.sort(key=lambda r: (r.opened, r.sort_key))
    return Story(dict(records), sorted(set(names)), cases)


class _ProvinceCopy:
    """One copy of the province's five-source story."""

    def __init__(
        self,
        ref: Reference,
        seed: int,
        config: StoryConfig,
        copy: int,
        numbers: _Numbers,
        layout: ProvinceLayout | None = None,
    ) -> None:
        self.ref = ref
        self.config = config
        self.copy = copy
        self.layout = layout or ProvinceLayout()
        if self.layout.tag is not None:
            self.tag = self.layout.tag
        else:
            self.tag = "" if copy == 0 else f"P{copy + 1:02d}"
        self.rng = random.Random(f"pctn-story:{seed}:{copy}")
        self.namer = _Namer(random.Random(f"pctn-names:{seed}:{copy}"))
        self.numbers = numbers
        self.records: dict[str, list[Record]] = defaultdict(list)
        self.cases: list[Case] = []
        self.sim_start = date(config.first_year - 2, 6, 1)
        self.sim_end = ref.period(config.last_year, "Y").end

    # -- ids ----------------------------------------------------------------
    def _id(self, text: str) -> str:
        return f"{text}-{self.tag}" if self.tag else text

    def _assign_case_ids(self) -> None:
        """Police case numbers grow with the initiation date; the gaps are the agency's other cases."""
        seq: dict[int, int] = {}
        for _, case in sorted(enumerate(self.cases), key=lambda ic: (ic[1].initiation_date, ic[0])):
            year = case.initiation_date.year
            seq[year] = seq.get(year, 0) + self.rng.randint(1, 9)
            if self.layout.tag:  # national: every province numbers its own cases, the tag keeps them apart
                case.case_id = self._id(f"VA-{year}-{seq[year]:04d}")
            else:
                case.case_id = f"VA-{year}-{seq[year] + 5000 * self.copy:04d}"

    def _unit(self, agency: str, area: str, on: date) -> str:
        return self.ref.current(self.layout.unit(agency, area), on)

    # -- simulation -----------------------------------------------------------
    def simulate(self) -> None:
        self._inspections()
        self._criminal_cases()
        self._assign_case_ids()
        for case in sorted(self.cases, key=lambda c: (c.initiation_date, c.case_id)):
            self._chain(case)

    def _inspections(self) -> None:
        rng = self.rng
        per_year = self.layout.inspections_per_year or self.config.inspections_per_year
        for year in range(self.config.first_year - 1, self.config.last_year + 1):
            for insp in self.layout.inspectorates:
                unit = self.ref.units[insp.unit]
                expected = per_year * insp.weight * (0.35 if year == self.config.first_year - 1 else 1.0)
                count = max(1, round(expected * rng.uniform(0.85, 1.15)))
                first = date(year, 9, 1) if year == self.config.first_year - 1 else date(year, 1, 2)
                last = min(date(year, 12, 10), self.sim_end - 20 * DAY)
                if unit.valid_to is not None:
                    last = min(last, unit.valid_to - 10 * DAY)
                if last < first:
                    continue
                starts = sorted(_day_in(rng, first, last) for _ in range(count))
                for seq, start in enumerate(starts, 1):
                    self._inspection(insp, start, seq)

    def _inspection(self, insp: Inspectorate, start: date, seq: int) -> None:
        rng = self.rng
        kind = _weighted(rng, {"Theo kế hoạch": 65, "Đột xuất": 20, "Kiểm tra nội bộ": 15})
        sector = {
            "TT-SO-XAYDUNG": rng.choice(("xây dựng", "đầu tư công")),
            "TT-SO-TAICHINH": "tài chính - ngân sách",
            "TT-SO-YTE": "y tế",
        }.get(insp.unit) or rng.choice(SECTORS)
        entity = self._entity(sector)
        verb = {"Theo kế hoạch": "Thanh tra", "Đột xuất": "Thanh tra đột xuất", "Kiểm tra nội bộ": "Kiểm tra nội bộ"}
        title = f"{verb[str(kind)]} {TOPICS[sector]} tại {entity}"
        ins = Inspection(
            source="thanhtra",
            origin_unit=insp.unit,
            opened=start,
            closed=None,
            sort_key="",
            inspection_id=self._id(f"{insp.prefix}-{start.year}-{seq:03d}"),
            title=title,
            kind=str(kind),
            sector=sector,
            entity=entity,
            start_date=start,
        )
        ins.sort_key = ins.inspection_id
        conclusion = start + timedelta(days=rng.randint(40, 210))
        if conclusion <= self.sim_end:
            ins.conclusion_date = conclusion
            ins.closed = conclusion
            holder = self.ref.current(insp.unit, conclusion)
            suffix = self.layout.suffix(holder) or self.layout.suffix(insp.unit) or insp.prefix
            self.numbers.request(
                conclusion, f"KL:{holder}", ins.inspection_id, self._setter(ins, "conclusion_no", f"KL-{suffix}")
            )
            if rng.random() < 0.7:
                step = 1_000_000 if rng.random() < 0.4 else 1_000
                ins.violation_vnd = _lognormal_amount(rng, 260_000_000, 1.25, 5_000_000, 40_000_000_000, step)
                ins.recommended_vnd = int(ins.violation_vnd * rng.uniform(0.3, 0.9)) // step * step
                ins.recovered_vnd = int(ins.recommended_vnd * rng.choice((0.0, 0.0, 0.3, 0.5, 0.8, 1.0))) // step * step
            if sector in ("đất đai", "tài nguyên - môi trường") and rng.random() < 0.6:
                ins.land_m2 = Decimal(rng.randint(500, 80_000)) / 10
            ins.orgs = rng.randint(0, 4)
            ins.persons = rng.randint(0, 10)
            ins.heads = min(ins.persons, rng.choice((0, 0, 0, 1, 1, 2)))
            if rng.random() < 0.075:
                ins.corruption_cases = 1
                ins.corruption_persons = rng.randint(1, 4)
                if rng.random() < 0.75 and ins.violation_vnd:
                    ins.transferred_cases = 1
                    ins.transferred_persons = ins.corruption_persons
                    ins.transfer_ref = self._id(f"CHS-{insp.prefix}-{conclusion.year}-{seq:03d}")
                    self._transferred_case(ins, insp)
        self.records["thanhtra"].append(ins)

    def _entity(self, sector: str) -> str:
        lay = self.layout
        return _entity(self.rng, sector, lay.communes, lay.districts, lay.name)

    def _setter(self, obj: object, attr: str, suffix: str) -> Callable[[int], None]:
        def assign(number: int) -> None:
            setattr(obj, attr, f"{number}/{suffix}")

        return assign

    def _transferred_case(self, ins: Inspection, insp: Inspectorate) -> None:
        assert ins.conclusion_date is not None
        initiation = ins.conclusion_date + timedelta(days=self.rng.randint(30, 120))
        if initiation > self.sim_end:
            return
        case = self._new_case(initiation, insp.area, "CA")
        case.channel = "Kiểm tra" if ins.kind == "Kiểm tra nội bộ" else "Thanh tra"
        case.transfer_ref = ins.transfer_ref
        case.article = self.rng.choice((353, 355, 356, 219))
        case.title = f"{OFFENCE_TITLES[case.article]} xảy ra tại {ins.entity}"
        case.accused = [self.namer.person() for _ in range(ins.transferred_persons)]
        case.damage_vnd = max(ins.violation_vnd or 0, 100_000_000) // 1_000_000 * 1_000_000

    def _criminal_cases(self) -> None:
        rng = self.rng
        for year in range(self.config.first_year - 2, self.config.last_year + 1):
            first = max(date(year, 1, 1), self.sim_start)
            last = min(date(year, 12, 31), self.sim_end)
            share = ((last - first).days + 1) / 365
            per_year = self.layout.cases_per_year or self.config.cases_per_year
            count = round(per_year * share * rng.uniform(0.85, 1.15))
            for _ in range(count):
                self._random_case(_day_in(rng, first, last))
        # The military investigation agency: a case or two on the province's ground.
        for when in (date(self.config.first_year, 9, 18), date(self.config.last_year - 1, 11, 5)):
            if self.sim_start <= when <= self.sim_end:
                case = self._random_case(when, agency="QD")
                case.article = 353
                case.title = (
                    f"{OFFENCE_TITLES[353]} xảy ra tại Kho K{rng.randint(10, 99)}, Bộ CHQS tỉnh {self.layout.name}"
                )
                case.channel = "Kiểm toán"

    def _random_case(self, initiation: date, agency: str = "CA") -> Case:
        rng = self.rng
        area = "TINH" if agency == "QD" else str(_weighted(rng, dict(self.layout.criminal_areas)))
        case = self._new_case(initiation, area, agency)
        case.article = int(_weighted(rng, ARTICLE_WEIGHTS))  # type: ignore[call-overload]
        place = self._entity(rng.choice(SECTORS))
        case.title = f"{OFFENCE_TITLES[case.article]} xảy ra tại {place}"
        case.channel = str(_weighted(rng, CHANNEL_WEIGHTS))
        n_accused = int(_weighted(rng, {1: 30, 2: 28, 3: 18, 4: 11, 5: 6, 6: 4, 8: 3}))  # type: ignore[call-overload]
        case.accused = [self.namer.person() for _ in range(n_accused)]
        median = 900_000_000 if case.article in (354, 364, 365) else 5_000_000_000
        case.damage_vnd = _lognormal_amount(rng, median, 1.1, 50_000_000, 150_000_000_000, 1_000_000)
        return case

    def _new_case(self, initiation: date, area: str, agency: str) -> Case:
        case = Case(area=area, agency_inv=agency)
        case.initiation_date = initiation
        self.cases.append(case)
        return case

    def _chain(self, case: Case) -> None:
        """Draw the case's path through every stage and create the stage records."""
        self._investigation(case)
        if case.agency_inv == "QD" or case.closing_date is None or case.outcome != "Đề nghị truy tố":
            return  # military cases go to the military procuracy, outside these returns

        indicted = self._prosecution(case)
        if indicted is None:
            return
        trial = self._first_instance(case, indicted)
        if trial is None:
            return
        final = self._appeal(case, trial)
        if final is None:
            return
        self._enforcement(case, *final)

    def _investigation(self, case: Case) -> None:
        """The investigation: its length, outcome and record."""
        rng = self.rng
        end = self.sim_end
        case.secured_vnd = int(case.damage_vnd * rng.uniform(0.05, 0.75)) // 1_000_000 * 1_000_000
        duration = rng.randint(120, 330) + (rng.randint(60, 150) if rng.random() < 0.15 else 0)
        case.outcome = str(_weighted(rng, {"Đề nghị truy tố": 76, "Tạm đình chỉ": 12, "Đình chỉ": 12}))
        closing = case.initiation_date + timedelta(days=duration)
        case.closing_date = closing if closing <= end else None
        inv_unit = self._unit(case.agency_inv, case.area, case.initiation_date)
        self.records["dieutra"].append(
            Investigation("dieutra", inv_unit, case.initiation_date, case.closing_date, case.case_id, case=case)
        )

    def _prosecution(self, case: Case) -> date | None:
        """The procuracy's part; the indictment date, or None when the case stops there (or after the end)."""
        assert case.closing_date is not None  # the investigation closed: `_chain` checks
        rng = self.rng
        end = self.sim_end
        received = case.closing_date + timedelta(days=rng.randint(2, 10))
        if received > end:
            return None
        case.vks_received = received
        done = received + timedelta(days=rng.randint(20, 80))
        draw = rng.random()
        if draw < 0.06:
            case.vks_returned = received + timedelta(days=rng.randint(15, 30))
            case.vks_rereceived = case.vks_returned + timedelta(days=rng.randint(30, 60))
            done = case.vks_rereceived + timedelta(days=rng.randint(15, 40))
        elif draw < 0.09:
            case.vks_terminated = received + timedelta(days=rng.randint(30, 60))
            done = case.vks_terminated
        vks_unit = self._unit("VKS", case.area, received)
        closed = done if done <= end else None
        self.records["truyto"].append(Prosecution("truyto", vks_unit, received, closed, case.case_id, case=case))
        if case.vks_terminated or closed is None:
            return None
        case.indictment_date = done
        n = len(case.accused)
        case.indicted = n - 1 if n > 1 and rng.random() < 0.1 else n
        holder = self._unit("VKS", case.area, done)
        self.numbers.request(done, f"CT:{holder}", case.case_id, self._setter(case, "indictment_no", f"CT-{holder}"))
        return done

    def _first_instance(self, case: Case, done: date) -> date | None:
        """The first-instance trial; its date, or None when it is not held by the end."""
        rng = self.rng
        end = self.sim_end
        st_received = done + timedelta(days=rng.randint(5, 20))
        if st_received > end:
            return None
        case.st_received = st_received
        trial = st_received + timedelta(days=rng.randint(25, 100))
        case.court_omits_case_id = rng.random() < 0.2
        ta_unit = self._unit("TA", case.area, st_received)
        st_closed = trial if trial <= end else None
        self.records["xetxu"].append(
            Trial("xetxu", ta_unit, st_received, st_closed, case.case_id + ":ST", case=case, level="Sơ thẩm")
        )
        if st_closed is None:
            return None
        case.st_trial = trial
        case.convicted = case.indicted
        case.ordered_vnd = int(case.damage_vnd * rng.uniform(0.6, 1.0)) // 1_000_000 * 1_000_000
        court = self._unit("TA", case.area, trial)
        self.numbers.request(trial, f"HS-ST:{court}", case.case_id, self._judgment(case, "st_judgment", "HS-ST"))
        return trial

    def _appeal(self, case: Case, trial: date) -> tuple[date, str] | None:
        """Sometimes an appeal at the provincial court; the final judgment (date, attribute), or None if still open."""
        rng = self.rng
        end = self.sim_end
        final, final_attr = trial, "st_judgment"
        appeal_court = self.layout.unit("TA", "TINH")
        if case.area != "TINH" and rng.random() < 0.35:
            pt_received = trial + timedelta(days=rng.randint(20, 40))
            if pt_received <= end:
                case.pt_received = pt_received
                pt_trial = pt_received + timedelta(days=rng.randint(30, 90))
                pt_closed = pt_trial if pt_trial <= end else None
                self.records["xetxu"].append(
                    Trial(
                        "xetxu",
                        appeal_court,
                        pt_received,
                        pt_closed,
                        case.case_id + ":PT",
                        case=case,
                        level="Phúc thẩm",
                    )
                )
                if pt_closed is None:
                    return None
                case.pt_trial = pt_trial
                self.numbers.request(
                    pt_trial, f"HS-PT:{appeal_court}", case.case_id, self._judgment(case, "pt_judgment", "HS-PT")
                )
                final, final_attr = pt_trial, "pt_judgment"
        return final, final_attr

    def _enforcement(self, case: Case, final: date, final_attr: str) -> None:
        """Enforcement of the money parts of the final judgment."""
        rng = self.rng
        end = self.sim_end
        if case.ordered_vnd <= 0:
            return
        decision = final + timedelta(days=rng.randint(20, 60))
        if decision > end:
            return
        parts = 1 if len(case.accused) == 1 or rng.random() < 0.6 else 2
        remaining = case.ordered_vnd
        for k in range(parts):
            due = remaining if k == parts - 1 else remaining // 2 // 1_000_000 * 1_000_000
            remaining -= due
            matter = Enforcement(
                source="thads",
                origin_unit=self._unit("THADS", case.area, decision),
                opened=decision + timedelta(days=k),
                closed=None,
                sort_key=f"{case.case_id}:{k}",
                case_id=case.case_id if rng.random() < 0.35 else None,
                decision_date=decision + timedelta(days=k),
                due_vnd=due,
                enforceable=rng.random() < 0.75,
            )
            if matter.enforceable:
                matter.collect_share = 1.0 if rng.random() < 0.45 else rng.uniform(0.1, 0.8)
                matter.collect_until = matter.decision_date + timedelta(days=rng.randint(120, 900))
                if matter.collect_share >= 1.0:
                    matter.closed = matter.collect_until
                elif rng.random() < 0.1:
                    matter.postponed_from = matter.decision_date + timedelta(days=rng.randint(60, 200))
                    matter.collect_until = matter.postponed_from
            holder = self._unit("THADS", case.area, matter.decision_date)
            self.numbers.request(
                matter.decision_date, f"QD:{holder}", matter.sort_key, self._decision(matter, holder, case, final_attr)
            )
            self.records["thads"].append(matter)

    def _judgment(self, case: Case, attr: str, kind: str) -> Callable[[int], None]:
        def assign(number: int) -> None:
            when = case.pt_trial if attr == "pt_judgment" else case.st_trial
            assert when is not None
            setattr(case, attr, f"{number}/{when.year}/{kind}")

        return assign

    def _decision(self, matter: Enforcement, holder: str, case: Case, final_attr: str) -> Callable[[int], None]:
        suffix = {"province": "CTHADS", "district": "CCTHADS", "region": "PTHADS"}[self.ref.units[holder].level]

        def assign(number: int) -> None:
            matter.decision_no = f"{number}/QĐ-{suffix}"
            matter.judgment_no = str(getattr(case, final_attr))

        return assign
