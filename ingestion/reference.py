"""Reference data shared with dbt: reporting units, the reporting calendar, the deployment's vars.

The seeds in `dbt_project/seeds/` are the single source of truth; Python reads the
same CSV files so a unit added there is valid for the intake and the models alike.
`PCTN_REFERENCE_DIR` points both at another complete reference directory (the
national generator writes one beside its inbox: more provinces, earlier years);
dbt reads it through `seed-paths` in `dbt_project.yml`, so the two never disagree.
The deployment's settings that dbt and Python share (the province, the time zone, the
period kinds every unit sends) are dbt vars in `dbt_project.yml`, read here once
(`DBT_VARS`); the rules over the calendar (due, late, latest, expected) are in
`ingestion.calendar`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ingestion.paths import DBT_PROJECT_DIR, SEEDS_DIR
from ingestion.settings import env_name, settings

SEEDS = SEEDS_DIR  # the committed reference (Thanh Hóa)
REFERENCE_DIR_ENV = env_name("reference_dir")


def _dbt_vars() -> dict[str, Any]:
    import yaml  # PyYAML: already loaded by Airflow and dbt; read once, at import

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project["vars"])


DBT_VARS = _dbt_vars()  # `vars:` of dbt_project.yml, the one place the deployment's shared settings live
# The deployment's own province (dbt var `province_code`): the extract and the headline report
# select its rows; a unit without a province code in the reference belongs to it.
PROVINCE_CODE = str(DBT_VARS["province_code"])
# Offence scopes by Penal Code article range, narrowest first; any other article is `other`
# (dbt var `offence_scopes`, macros offence_scope and in_indicator_scope).
OFFENCE_SCOPES: dict[str, range] = {
    str(s["scope"]): range(int(s["first_article"]), int(s["last_article"]) + 1) for s in DBT_VARS["offence_scopes"]
}
# The scopes every indicator value is computed for (dbt var `indicator_scopes`): `all` and the offence scopes.
INDICATOR_SCOPES: tuple[str, ...] = tuple(str(s) for s in DBT_VARS["indicator_scopes"])


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
    area_code: str
    name_vi: str
    valid_from: dt.date
    valid_to: dt.date | None
    successor_unit_code: str | None
    province_code: str

    def valid_on(self, day: dt.date) -> bool:
        """The unit may report on `day` (validity dates inclusive): the one rule for unit validity."""
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
    return _cached_units(reference_dir())


def periods() -> dict[str, ReportingPeriod]:
    """Reporting periods of the reference directory in force, by code."""
    return _cached_periods(reference_dir())


def read_units(directory: Path) -> dict[str, ReportingUnit]:
    """`reporting_units.csv` of `directory` (a reference directory), by unit code; read on every call."""
    with (directory / "reporting_units.csv").open(encoding="utf-8") as f:
        return {
            r["unit_code"]: ReportingUnit(
                unit_code=r["unit_code"],
                agency_code=r["agency_code"],
                unit_level=r["unit_level"],
                area_code=r["area_code"],
                name_vi=r["unit_name_vi"],
                valid_from=_date(r["valid_from"]) or dt.date.min,
                valid_to=_date(r["valid_to"]),
                successor_unit_code=r["successor_unit_code"] or None,
                province_code=r.get("province_code") or PROVINCE_CODE,
            )
            for r in csv.DictReader(f)
        }


def read_periods(directory: Path) -> dict[str, ReportingPeriod]:
    """`reporting_periods.csv` of `directory` (a reference directory), by period code; read on every call."""
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


# The reference directory in force is read once per process (the intake validates every file against it).
_cached_units = cache(read_units)
_cached_periods = cache(read_periods)


def agency_sources() -> dict[str, str]:
    """`agencies.csv` of the reference directory in force: agency code -> the source its units send."""
    return _cached_agency_sources(reference_dir())


@cache
def _cached_agency_sources(directory: Path) -> dict[str, str]:
    with (directory / "agencies.csv").open(encoding="utf-8") as f:
        return {r["agency_code"]: r["source"] for r in csv.DictReader(f) if r["source"]}


def read_province_names(directory: Path) -> dict[str, str]:
    """`provinces.csv` of `directory`: province code -> Vietnamese name (empty when the file is absent)."""
    path = directory / "provinces.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as f:
        return {r["province_code"]: r["province_name_vi"] for r in csv.DictReader(f)}
