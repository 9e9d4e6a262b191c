"""The reporting calendar (`ingestion.calendar`): one rule each for the time zone, due, late,
the periods due at a run, expected returns and the latest period, on dates where the old
copies of those rules disagreed.

The fast tests read the committed seeds (the calendar's own input); the slow one takes real
returns through the intake and `dbt build` and asks the extract and the headline report for
"the latest" period and year.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import time
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg.rows import dict_row

from ingestion import calendar
from ingestion.extract.sheets import SCOPE_LABELS
from ingestion.reference import INDICATOR_SCOPES, OFFENCE_SCOPES, PROVINCE_CODE, SEEDS, periods, units
from tests.returns_factory import DIEUTRA_HEADERS, dieutra_row, write_csv

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "returns"
UTC = dt.UTC


def test_time_zone_province_and_kinds_are_the_dbt_vars() -> None:
    """One owner each: dbt_project.yml's vars; Python reads them, nothing writes them again."""
    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    assert calendar.TIME_ZONE == project["local_time_zone"] == "Asia/Ho_Chi_Minh"
    assert PROVINCE_CODE == project["province_code"] == "THANHHOA"
    assert list(calendar.EXPECTED_KINDS) == project["expected_period_kinds"]
    assert {"corruption": range(353, 360), "position": range(352, 367)} == OFFENCE_SCOPES  # domain.md
    assert INDICATOR_SCOPES == ("all", "position", "corruption")
    assert set(SCOPE_LABELS) == set(INDICATOR_SCOPES)  # every scope a value has gets its label
    assert dt.datetime(2025, 6, 21, tzinfo=calendar.LOCAL_TZ).utcoffset() == dt.timedelta(hours=7)
    assert dt.datetime(2025, 1, 1, tzinfo=calendar.LOCAL_TZ).utcoffset() == dt.timedelta(hours=7)  # no DST


@pytest.mark.parametrize(
    ("moment", "due"),
    [
        (dt.datetime(2025, 6, 21, 0, 0, tzinfo=UTC), ["2025-6M", "2025-Q2"]),  # the cron: 07:00 on the 21st
        (dt.datetime(2025, 6, 20, 16, 59, tzinfo=UTC), ["2025-Q1"]),  # 23:59 on the deadline day: not yet
        (dt.datetime(2025, 6, 20, 17, 0, tzinfo=UTC), ["2025-6M", "2025-Q2"]),  # local midnight
        (dt.datetime(2025, 12, 21, 0, 0, tzinfo=UTC), ["2025-Q4", "2025-Y"]),
        (dt.datetime(2026, 3, 21, 0, 0, tzinfo=UTC), ["2026-Q1"]),
        (dt.date(2025, 9, 21), ["2025-9M", "2025-Q3"]),
    ],
)
def test_periods_due_at_a_run(moment: dt.datetime | dt.date, due: list[str]) -> None:
    assert calendar.periods_due(moment) == due
    assert calendar.periods_due(moment, "2024-Y") == ["2024-Y"]  # pinned by hand


def test_periods_due_rejects_an_unknown_period() -> None:
    with pytest.raises(ValueError, match="2024-X"):
        calendar.periods_due(dt.date(2025, 1, 1), "2024-X")


def test_a_naive_run_date_is_utc_whatever_the_machine_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixed difference: `dags/_common.periods_due` read a naive datetime in the machine's zone
    (`astimezone` with a hard-coded +7), the chase list's as-of date (`submissions.local_date`)
    as UTC, so on a machine east of Hà Nội the same run chased 2025-6M but extracted 2025-Q1."""
    naive = dt.datetime(2025, 6, 20, 20, 0)  # 03:00 on 21/06 in Hà Nội if UTC; 13:00 on 20/06 if UTC+14
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    time.tzset()
    try:
        assert calendar.local_date(naive) == dt.date(2025, 6, 21)
        assert calendar.periods_due(naive) == ["2025-6M", "2025-Q2"]
    finally:
        monkeypatch.undo()
        time.tzset()


def test_due_and_late_around_the_deadline() -> None:
    q2 = periods()["2025-Q2"]
    assert q2.due_date == dt.date(2025, 6, 20)
    assert not calendar.is_due(q2, dt.date(2025, 6, 20)) and calendar.is_due(q2, dt.date(2025, 6, 21))
    assert not calendar.is_late(q2, dt.datetime(2025, 6, 20, 16, 59, tzinfo=UTC))  # 23:59 local
    assert calendar.is_late(q2, dt.datetime(2025, 6, 20, 17, 0, tzinfo=UTC))  # 00:00 local on the 21st
    assert not calendar.is_late(q2, dt.date(2025, 6, 20))


def test_expected_returns_follow_the_unit_validity_and_the_kinds() -> None:
    district, region = units()["CA-HUYEN-HOANGHOA"], units()["TA-KV1"]
    y2025, six2025, q2 = periods()["2025-Y"], periods()["2025-6M"], periods()["2025-Q2"]
    assert calendar.is_expected(district, six2025) and not calendar.is_expected(district, y2025)  # ends 30/06/2025
    assert calendar.is_expected(region, y2025) and not calendar.is_expected(region, six2025)  # from 01/07/2025
    assert not calendar.is_expected(district, q2)  # quarters are not an expected kind
    before, after = calendar.expected_units(six2025.end_date), calendar.expected_units(y2025.end_date)
    assert ("dieutra", "CA-HUYEN-HOANGHOA") in before and ("dieutra", "CA-HUYEN-HOANGHOA") not in after
    assert ("xetxu", "TA-KV1") in after and ("xetxu", "TA-KV1") not in before
    assert ("thanhtra", "TT-TINH") in before & after
    on = dt.date(2025, 9, 21)
    assert [p.period_code for p in calendar.expected_periods(on, 2025)] == ["2025-Q1", "2025-6M", "2025-9M"]


def test_the_latest_is_the_last_end_then_the_widest() -> None:
    p = periods()
    assert calendar.latest([p["2025-Q4"], p["2025-Y"], p["2025-9M"]]).period_code == "2025-Y"
    assert calendar.latest([p["2025-Q3"], p["2025-9M"], p["2024-Y"]]).period_code == "2025-9M"
    assert calendar.latest([p["2025-6M"], p["2024-Y"]], kind="Y").period_code == "2024-Y"
    assert calendar.latest([p["2025-6M"]], kind="Y") is None and calendar.latest([]) is None


def test_the_sample_generator_reads_the_reference_through_the_loader() -> None:
    """ingestion_samples sees the same units and periods as the intake (one CSV reader)."""
    from ingestion_samples.story import load_reference

    ref = load_reference(SEEDS)
    assert set(ref.units) == set(units()) and set(ref.periods) == set(periods())
    for code, unit in units().items():
        assert (ref.units[code].code, ref.units[code].valid_to, ref.units[code].province) == (
            code,
            unit.valid_to,
            unit.province_code,
        )
    assert ref.period(2025, "Y").end == periods()["2025-Y"].end_date
    assert ref.place("CA-TINH") == "Thanh Hóa"


@pytest.mark.slow
def test_latest_period_and_year_need_loaded_rows(fresh_warehouse_url: str, tmp_path: Path) -> None:
    """Fixed difference: a 2025-Y return whose every row was quarantined.

    The extract took the latest end date with any accepted return and any indicator value
    (the scaffold gives a loaded return zeros), so it built 2025-Y from nothing; the headline
    report took the latest year with an accepted `Y` return, also 2025. README ("A period with
    loaded returns") says such a return does not count: the latest period is 2025-6M, the
    latest year 2024, for both.
    """
    from ingestion.extract import latest_period
    from ingestion.extract.headline import headline_indicators
    from ingestion.intake.pipeline import run_intake
    from ingestion.intake.schema import ensure_schema
    from ingestion.platform.transform import run_dbt

    url = fresh_warehouse_url
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("dieutra_CA-TINH_2024-Y.xlsx", "dieutra_CA-TINH_2025-6M.xlsx"):
        shutil.copy(SAMPLES / name, inbox / name)
    bad = [dieutra_row(i, initiation_date="không rõ") for i in range(1, 4)]  # every row quarantined
    write_csv(inbox / "dieutra_CA-TINH_2025-Y.csv", DIEUTRA_HEADERS, bad)
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_schema(conn)
    outcomes = {o.file_name: o for o in run_intake(url, inbox, tmp_path / "out")}
    assert {n: o.status for n, o in outcomes.items()} == dict.fromkeys(sorted(outcomes), "loaded")
    run_dbt(url, ["build", "--exclude", "resource_type:unit_test", "--vars", "{as_of_date: '2026-01-10'}"])
    with psycopg.connect(url) as conn:
        y2025 = conn.execute(
            "select status, rows_loaded from marts.fct_return_submissions"
            " where period_code = '2025-Y' and unit_code = 'CA-TINH' and source = 'dieutra'"
        ).fetchone()
        (values_2025y,) = conn.execute(
            "select count(*) from marts.fct_indicator_values where period_code = '2025-Y'"
        ).fetchone()
    assert y2025[0] in ("on_time", "late") and y2025[1] == 0, y2025  # accepted, nothing loaded
    assert values_2025y > 0  # the scaffold's zeros: what the old extract rule took for data
    assert latest_period(url) == "2025-6M"
    with psycopg.connect(url, row_factory=dict_row) as conn:  # any caller's row factory
        assert calendar.latest_reported(conn, "Y").period_code == "2024-Y"
    headline = headline_indicators(url)
    assert headline and {r["report_year"] for r in headline} == {2024}


def test_the_dags_call_the_calendar() -> None:
    """The calendar DAGs' periods and zone are the calendar's (no copy left in dags/_common)."""
    import ast

    tree = ast.parse((REPO / "dags" / "_common.py").read_text(encoding="utf-8"))
    assert "periods_due" not in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    text = (REPO / "dags" / "_common.py").read_text(encoding="utf-8")
    assert "hours=7" not in text and '"Asia/Ho_Chi_Minh"' not in text
    with (SEEDS / "reporting_periods.csv").open(encoding="utf-8") as f:
        deadlines = {r["due_date"][5:] for r in csv.DictReader(f)}
    assert deadlines == {"03-20", "06-20", "09-20", "12-20"}  # REPORTING_CALENDAR_CRON runs on the 21st
