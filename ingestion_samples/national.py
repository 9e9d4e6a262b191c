"""The national inbox: every unit of N provinces, every expected period of every year asked.

    python -m ingestion_samples.generate --out /tmp/national/returns --provinces 34 --years 2016-2025 --no-bad

`--provinces 1` is the bundled Thanh Hóa sample (`generate.py`, unchanged). With N > 1
the generator writes the returns of Thanh Hóa and the next N - 1 provinces of the
`provinces` seed (in its display order), each from its own story (`story.py`, one
`ProvinceLayout` per province):

- Thanh Hóa keeps its committed units (`reporting_units.csv`); every other province gets
  generated units namespaced by its code, matching the file-name pattern: provincial
  agencies `TT-<P>-TINH`, `CA-<P>-TINH`, `QD-<P>-TINH`, `VKS-<P>-TINH`, `TA-<P>-TINH`,
  `THADS-<P>-TINH`, two department inspectorates `TT-<P>-SO-XAYDUNG`, `TT-<P>-SO-TAICHINH`,
  district units `<AGENCY>-<P>-HUYEN-<NN>` valid until 30/06/2025 and regional units
  `VKS|TA|THADS-<P>-KV<N>` from 01/07/2025 (district inspectorates and police hand over to
  the provincial ones, procuracies, courts and enforcement offices to a region). District
  names are not real: `huyện số 07`.
- Every unit sends every expected period kind (Q1, 6M, 9M, Y: dbt var
  `expected_period_kinds`) valid on the period's end date, listing every record it
  handled in the period with its state at the period's end, so a record reappears in
  each cumulative return with its later state. A unit with nothing to report sends no
  file: the contract rejects a return without data rows (`no_rows`), so an empty
  return is not what it expects; the unit shows as missing in `fct_return_submissions`.
- Beside the inbox it writes a complete reference directory (`<out>/../reference`):
  copies of every committed seed (the CSVs; their properties and tests stay in
  `dbt_project/seed_properties/`), `reporting_units.csv` extended by the generated
  provinces' units and `reporting_periods.csv` back to the first year asked (same
  calendar), units of the committed seed dated back to the story's start. Point the
  intake and dbt at it with `PCTN_REFERENCE_DIR=<that directory>`.

Volumes per unit, so they scale with the number of units: `--inspections-per-unit`
(new inspections per inspectorate a year), `--cases-per-unit` (new criminal cases per
active investigation area a year), `--active-units` (the share of district areas with
any activity; the others never have anything to report).
"""

from __future__ import annotations

import csv
import io
import random
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ingestion.calendar import EXPECTED_KINDS, is_expected
from ingestion.reference import PROVINCE_CODE
from ingestion_samples.story import (
    COMMUNES,
    DISTRICTS,
    SEEDS_DIR,
    Inspectorate,
    Period,
    ProvinceLayout,
    Record,
    Reference,
    Story,
    load_reference,
    short_province_name,
)

HOME_PROVINCE = PROVINCE_CODE  # the deployment's province (dbt var province_code): Thanh Hóa
DISTRICT_END = date(2025, 6, 30)
REGION_START = date(2025, 7, 1)
COMMITTED_HORIZON = "2020-01-01"  # the committed seed's units start here: the start of its data, not of the unit
UNIT_COLUMNS = (
    "unit_code",
    "agency_code",
    "unit_level",
    "area_code",
    "unit_name_vi",
    "valid_from",
    "valid_to",
    "successor_unit_code",
    "province_code",
)
PROVINCIAL_AGENCIES = {
    "TT": "Thanh tra {kind} {name}",
    "CA": "Cơ quan Cảnh sát điều tra Công an {kind} {name}",
    "QD": "Cơ quan điều tra Quân sự (địa bàn {name})",
    "VKS": "Viện kiểm sát nhân dân {kind} {name}",
    "TA": "Tòa án nhân dân {kind} {name}",
    "THADS": "Thi hành án dân sự {kind} {name}",
}
DEPARTMENTS = {"SO-XAYDUNG": "Thanh tra Sở Xây dựng {name}", "SO-TAICHINH": "Thanh tra Sở Tài chính {name}"}
DISTRICT_AGENCIES = {
    "TT": "Thanh tra huyện số {n:02d} - {name}",
    "CA": "Cơ quan CSĐT Công an huyện số {n:02d} - {name}",
    "VKS": "Viện kiểm sát nhân dân huyện số {n:02d} - {name}",
    "TA": "Tòa án nhân dân huyện số {n:02d} - {name}",
    "THADS": "Chi cục Thi hành án dân sự huyện số {n:02d} - {name}",
}
REGIONAL_AGENCIES = {
    "VKS": "Viện kiểm sát nhân dân khu vực {n} - {name}",
    "TA": "Tòa án nhân dân khu vực {n} - {name}",
    "THADS": "Phòng Thi hành án dân sự khu vực {n} - {name}",
}


@dataclass(frozen=True)
class Province:
    """A row of the `provinces` seed."""

    code: str
    name_vi: str
    kind: str  # province | city

    @property
    def short_name(self) -> str:
        return short_province_name(self.name_vi)

    @property
    def kind_vi(self) -> str:
        return "thành phố" if self.kind == "city" else "tỉnh"


def read_provinces(seeds_dir: Path = SEEDS_DIR) -> list[Province]:
    """The provinces of the seed, Thanh Hóa first, then in the seed's display order."""
    with (seeds_dir / "provinces.csv").open(encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: int(r["sort_order"]))
    provinces = [Province(r["province_code"], r["province_name_vi"], r["province_kind"]) for r in rows]
    return sorted(provinces, key=lambda p: p.code != HOME_PROVINCE)


def district_count(code: str) -> int:
    """How many district-level units a generated province had before 1/7/2025 (10-30, fixed per code)."""
    return random.Random(f"pctn-national-districts:{code}").randint(10, 30)


def generated_units(province: Province) -> list[dict[str, str]]:
    """The reporting units of a province that the committed seed does not carry."""
    code, name, kind = province.code, province.short_name, province.kind_vi
    start = COMMITTED_HORIZON
    rows: list[dict[str, str]] = []

    def add(unit: str, agency: str, level: str, area: str, unit_name: str, valid_to: str = "", successor: str = "",
            valid_from: str = start) -> None:  # fmt: skip
        values = (unit, agency, level, area, unit_name, valid_from, valid_to, successor, code)
        rows.append(dict(zip(UNIT_COLUMNS, values, strict=True)))

    for agency, pattern in PROVINCIAL_AGENCIES.items():
        add(f"{agency}-{code}-TINH", agency, "province", "TINH", pattern.format(kind=kind, name=name))
    for area, pattern in DEPARTMENTS.items():
        add(f"TT-{code}-{area}", "TT", "department", area, pattern.format(name=name))
    districts = district_count(code)
    regions = max(2, round(districts * 12 / 26))  # Thanh Hóa: 26 district-level units, 12 regions
    for n in range(1, districts + 1):
        region = (n - 1) * regions // districts + 1
        for agency, pattern in DISTRICT_AGENCIES.items():
            successor = f"{agency}-{code}-TINH" if agency in ("TT", "CA") else f"{agency}-{code}-KV{region}"
            add(f"{agency}-{code}-HUYEN-{n:02d}", agency, "district", f"HUYEN-{n:02d}",
                pattern.format(n=n, name=name), DISTRICT_END.isoformat(), successor)  # fmt: skip
    for n in range(1, regions + 1):
        for agency, pattern in REGIONAL_AGENCIES.items():
            add(f"{agency}-{code}-KV{n}", agency, "region", f"KV{n}", pattern.format(n=n, name=name),
                valid_from=REGION_START.isoformat())  # fmt: skip
    return rows


# --------------------------------------------------------------------------
# The reference directory.
# --------------------------------------------------------------------------
def _csv_text(header: list[str], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _shift_year(day: str, years: int) -> str:
    return date.fromisoformat(day).replace(year=date.fromisoformat(day).year + years).isoformat()


def extended_periods(rows: list[dict[str, str]], first_year: int) -> list[dict[str, str]]:
    """The calendar back to `first_year`: each earlier year is the seed's first year moved back.

    The inspection-sector calendar has the same days every year (15/12 to 14/12, due dates
    a fixed number of days after the end), so moving the dates by whole years is the rule.
    """
    first_seeded = min(int(r["report_year"]) for r in rows)
    template = [r for r in rows if int(r["report_year"]) == first_seeded]
    earlier: list[dict[str, str]] = []
    for year in range(first_year, first_seeded):
        shift = year - first_seeded
        for r in template:
            earlier.append(
                r
                | {
                    "period_code": f"{year}-{r['period_kind']}",
                    "report_year": str(year),
                    "start_date": _shift_year(r["start_date"], shift),
                    "end_date": _shift_year(r["end_date"], shift),
                    "due_date": _shift_year(r["due_date"], shift),
                }
            )
    return earlier + rows


def write_reference(target: Path, provinces: list[Province], first_year: int) -> Path:
    """A complete reference directory for the provinces and years asked (see the module docstring)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for seed in sorted(SEEDS_DIR.iterdir()):
        if seed.suffix == ".csv" and seed.name not in ("reporting_units.csv", "reporting_periods.csv"):
            shutil.copyfile(seed, target / seed.name)
    story_start = f"{min(first_year - 2, 2020)}-01-01"
    with (SEEDS_DIR / "reporting_units.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or UNIT_COLUMNS)
        units = [r | {"valid_from": story_start} if r["valid_from"] == COMMITTED_HORIZON else r for r in reader]
    for province in provinces:
        if province.code != HOME_PROVINCE:
            units.extend(
                r | {"valid_from": story_start} if r["valid_from"] == COMMITTED_HORIZON else r
                for r in generated_units(province)
            )
    (target / "reporting_units.csv").write_text(_csv_text(header, units), encoding="utf-8", newline="")
    with (SEEDS_DIR / "reporting_periods.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or ())
        periods = extended_periods(list(reader), first_year)
    (target / "reporting_periods.csv").write_text(_csv_text(header, periods), encoding="utf-8", newline="")
    return target


# --------------------------------------------------------------------------
# One story per province.
# --------------------------------------------------------------------------
def layout_for(
    ref: Reference, province: Province, seed: int, inspections_per_unit: int, cases_per_unit: float, active: float
) -> ProvinceLayout:
    """The province's layout from its reference units, with its yearly inspections and cases."""
    units = [u for u in ref.units.values() if u.province == province.code]
    unit_codes: dict[tuple[str, str], str] = {}
    for u in units:
        if u.level in ("province", "district"):
            unit_codes[(u.agency, u.area)] = u.code  # area TINH, or a district's HUYEN-...
    # districts with a full set of agencies, still existing at some point of the story
    district_areas = sorted({u.area for u in units if u.level == "district" and u.agency == "CA"})
    rng = random.Random(f"pctn-national-active:{seed}:{province.code}")
    n_active = max(1, round(len(district_areas) * active)) if district_areas else 0
    active_areas = sorted(rng.sample(district_areas, n_active)) if n_active else []
    inspectorates: list[Inspectorate] = []
    suffixes: list[tuple[str, str]] = []
    tt = sorted((u for u in units if u.agency == "TT"), key=lambda u: u.code)
    chosen = [u for u in tt if u.level in ("province", "department") or u.area in active_areas]
    shares = {u.code: (3.0 if u.level == "province" else 1.0) for u in chosen}
    total = sum(shares.values()) or 1.0
    for u in chosen:
        stem = u.area.removeprefix("HUYEN-").removeprefix("SO-").replace("-", "")
        prefix = "TTT" if u.level == "province" else f"TT{stem}"
        area = u.area if u.level == "district" else "TINH"
        inspectorates.append(Inspectorate(u.code, prefix, shares[u.code] / total, area))
        suffixes.append((u.code, prefix))
    criminal = [("TINH", 1.0)]
    if active_areas:
        criminal = [("TINH", 0.4)] + [(a, 0.6 / len(active_areas)) for a in active_areas]
    districts = DISTRICTS if province.code == HOME_PROVINCE else tuple(f"số {n:02d}" for n in range(1, 31))
    layout = ProvinceLayout(
        code=province.code,
        name=province.short_name,
        inspectorates=tuple(inspectorates),
        criminal_areas=tuple(criminal),
        unit_codes=tuple(sorted(unit_codes.items())),
        suffixes=tuple(suffixes),
        communes=COMMUNES,
        districts=districts,
        tag=province.code,
        inspections_per_year=max(1, inspections_per_unit * len(chosen)),
        cases_per_year=max(1, round(cases_per_unit * (len(active_areas) + 2))),
    )
    return layout


def national_reference(reference_dir: Path) -> Reference:
    """The generator's view of the reference directory it wrote."""
    return load_reference(reference_dir)


def expected_periods(ref: Reference, unit: str, first_year: int, last_year: int) -> list[Period]:
    """Every expected period of every year a unit is valid on (validated on the period's end date)."""
    u = ref.units[unit]
    return [
        p
        for year in range(first_year, last_year + 1)
        for kind in EXPECTED_KINDS
        if (p := ref.period(year, kind)) and is_expected(u, p)
    ]


class RecordIndex:
    """The records each unit ever holds, so a return reads its unit's records, not the nation's."""

    def __init__(self, ref: Reference, story: Story, sim_end: date) -> None:
        self.ref = ref
        self.by_unit: dict[tuple[str, str], list[Record]] = defaultdict(list)
        for source, records in story.records.items():
            for record in records:  # story order: (opened, sort_key), as return_rows keeps it
                for unit in ref.handlers(record.origin_unit, record.opened, record.closed or sim_end):
                    self.by_unit[(source, unit)].append(record)

    def records(self, source: str, unit: str, period: Period) -> list[Record]:
        return [r for r in self.by_unit.get((source, unit), ()) if r.handled_by(self.ref, unit, period)]
