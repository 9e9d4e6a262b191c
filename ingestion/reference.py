"""Reference data shared with dbt: reporting units and the reporting calendar.

The seeds in `dbt_project/seeds/` are the single source of truth; Python reads the
same CSV files so a unit added there is valid for the intake and the models alike.
`PCTN_REFERENCE_DIR` points both at another complete reference directory (the
national generator writes one beside its inbox: more provinces, earlier years);
dbt reads it through `seed-paths` in `dbt_project.yml`, so the two never disagree.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ingestion.paths import DBT_PROJECT_DIR, SEEDS_DIR
from ingestion.settings import env_name, settings

SEEDS = SEEDS_DIR  # the committed reference (Thanh Hóa)
REFERENCE_DIR_ENV = env_name("reference_dir")


def reference_dir() -> Path:
    """The reference directory in force: `PCTN_REFERENCE_DIR` (relative to `dbt_project/`, as dbt
    resolves `seed-paths`), else the committed seeds."""
    return settings().reference_dir or SEEDS


def dbt_seed_dir() -> str:
    """The reference directory in force as dbt's `seed-paths` needs it: relative, inside `dbt_project/`.

    dbt writes each node's run copy at `<target>/run/pctn/<seed path>/<file>`: with an
    absolute or escaping path that is the reference's own CSV, which it then overwrites
    (seen with dbt 1.11; the dbt docs say seed-paths must be relative to dbt_project.yml).
    A directory outside the project is reached through a link in `dbt_project/.references/`
    (git-ignored), made here on demand; `warehouse.dbt_env` passes this path to every dbt run.
    """
    directory = reference_dir().resolve()
    project = DBT_PROJECT_DIR.resolve()
    if directory.is_relative_to(project):
        return directory.relative_to(project).as_posix()
    digest = hashlib.sha256(str(directory).encode()).hexdigest()[:8]
    link = project / ".references" / f"{directory.name}-{digest}"
    link.parent.mkdir(exist_ok=True)
    if not (link.is_symlink() and link.resolve() == directory):
        if link.is_symlink():
            link.unlink()
        link.symlink_to(directory, target_is_directory=True)
    return link.relative_to(project).as_posix()


@dataclass(frozen=True)
class ReportingUnit:
    unit_code: str
    agency_code: str
    unit_level: str
    name_vi: str
    valid_from: dt.date
    valid_to: dt.date | None
    successor_unit_code: str | None
    province_code: str = "THANHHOA"

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class ReportingPeriod:
    period_code: str
    regime: str
    report_year: int
    period_kind: str
    start_date: dt.date
    end_date: dt.date
    is_cumulative: bool
    due_date: dt.date


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def units() -> dict[str, ReportingUnit]:
    """Reporting units of the reference directory in force, by code."""
    return _units(reference_dir())


def periods() -> dict[str, ReportingPeriod]:
    """Reporting periods of the reference directory in force, by code."""
    return _periods(reference_dir())


@cache
def _units(directory: Path) -> dict[str, ReportingUnit]:
    with (directory / "reporting_units.csv").open(encoding="utf-8") as f:
        return {
            r["unit_code"]: ReportingUnit(
                unit_code=r["unit_code"],
                agency_code=r["agency_code"],
                unit_level=r["unit_level"],
                name_vi=r["unit_name_vi"],
                valid_from=_date(r["valid_from"]) or dt.date.min,
                valid_to=_date(r["valid_to"]),
                successor_unit_code=r["successor_unit_code"] or None,
                province_code=r.get("province_code") or "THANHHOA",
            )
            for r in csv.DictReader(f)
        }


@cache
def _periods(directory: Path) -> dict[str, ReportingPeriod]:
    with (directory / "reporting_periods.csv").open(encoding="utf-8") as f:
        out = {}
        for r in csv.DictReader(f):
            out[r["period_code"]] = ReportingPeriod(
                period_code=r["period_code"],
                regime=r["regime"],
                report_year=int(r["report_year"]),
                period_kind=r["period_kind"],
                start_date=dt.date.fromisoformat(r["start_date"]),
                end_date=dt.date.fromisoformat(r["end_date"]),
                is_cumulative=r["is_cumulative"] == "true",
                due_date=dt.date.fromisoformat(r["due_date"]),
            )
        return out
