"""The marts the extract and the yearly draft read, checked on the sample's real `dbt build`.

`sample_warehouse` (tests/conftest.py) takes the bundled sample through intake and
`dbt build`; nothing here fakes a mart. Tests that must change the marts (an injected
formula, a target set, a quarantine emptied) work on `clone_of(sample_warehouse)`, a
copy of that database made by PostgreSQL (`create database … template …`), so the
session's warehouse stays as dbt built it.

The expected values are computed here with SQL of the test's own (self-joins on
`fct_indicator_values`, counts on the seeds), not with the marts' SQL, and never by
re-implementing a mart in Python: the formulas (changes, phase totals, per-unit data
quality) are dbt unit tests on fixed inputs and data tests on the built rows
(dbt_project/models/marts/_marts__unit_tests.yml, _marts__models.yml).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ingestion.extract.headline import headline_indicators
from ingestion.platform.transform import DBT_PROJECT_DIR
from ingestion.platform.warehouse import with_database

SEEDS = DBT_PROJECT_DIR / "seeds"


def fetch(url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())


@contextmanager
def clone_of(url: str) -> Iterator[str]:
    """A throw-away copy of the database at `url` (marts, raw, registry and all), dropped after."""
    name = f"pctn_clone_{uuid.uuid4().hex[:8]}"
    source = psycopg.conninfo.conninfo_to_dict(url).get("dbname") or url.rsplit("/", 1)[-1].split("?", 1)[0]
    admin = with_database(url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}" template "{source}"')
    try:
        yield with_database(url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --- dim_indicators -----------------------------------------------------------------------------


def test_headline_and_display_order_come_from_the_seed(sample_warehouse: Any) -> None:
    seed = _seed("indicators")
    rows = fetch(
        sample_warehouse.url,
        "select indicator_code, is_headline, group_order, display_order from marts.dim_indicators "
        "order by display_order",
    )
    assert {code: headline for code, headline, _, _ in rows} == {
        r["indicator_code"]: r["is_headline"] == "true" for r in seed
    }
    headlines = [code for code, headline, _, _ in rows if headline]
    assert 0 < len(headlines) < len(seed)  # a summary of headlines is shorter than the list
    groups = ["detection", "handling", "recovery", "data_quality"]
    by_seed = sorted(seed, key=lambda r: (groups.index(r["indicator_group"]), int(r["sort_order"])))
    assert [code for code, *_ in rows] == [r["indicator_code"] for r in by_seed]
    assert [d for *_, d in rows] == list(range(1, len(seed) + 1))
    assert {g for _, _, g, _ in rows} == {1, 2, 3, 4}


def test_every_headline_consumer_reads_dim_indicators(sample_warehouse: Any) -> None:
    """`make run`'s summary and the extract show the mart's headline list, in its order.

    Changed in the mart only (a clone): the seed still says otherwise, so a consumer
    that read the seed (the run summary did) fails. The README's BI example is held to
    the same list in tests/platform/test_bi_access.py.
    """
    from ingestion.extract import queries

    with clone_of(sample_warehouse.url) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "update marts.dim_indicators set is_headline = not is_headline "
                "where indicator_code in ('DET_CASES_NEW', 'DET_CASES_NEW_INSPECTION')"
            )
        expected = [
            code
            for (code,) in fetch(
                url, "select indicator_code from marts.dim_indicators where is_headline order by display_order"
            )
        ]
        assert "DET_CASES_NEW_INSPECTION" in expected and "DET_CASES_NEW" not in expected
        assert [r["indicator_code"] for r in headline_indicators(url)] == expected
        with psycopg.connect(url) as conn:
            period = queries.find_period(conn, "2025-Y")
            summary, _ = queries.read_summary(conn, period)
            assert [r["indicator_code"] for r in summary] == expected
            nine_months, _ = queries.read_summary(conn, queries.find_period(conn, "2025-9M"))
            assert [r["indicator_code"] for r in nine_months] == expected


# --- dim_strategy_phases ---------------------------------------------------------------------------


def test_phases_carry_their_official_dates(sample_warehouse: Any) -> None:
    rows = fetch(
        sample_warehouse.url,
        "select phase_code, start_year, end_year, start_date, end_date, name_vi from marts.dim_strategy_phases "
        "order by phase_code",
    )
    seed = {r["phase_code"]: r for r in _seed("strategy_phases")}
    assert [r[0] for r in rows] == sorted(seed)
    for code, first, last, start, end, name in rows:
        assert (str(first), str(last), name) == (
            seed[code]["start_year"],
            seed[code]["end_year"],
            seed[code]["name_vi"],
        )
        # the inspection-sector year runs 15/12 of the year before to 14/12 (domain.md)
        assert (start.year, start.month, start.day) == (first - 1, 12, 15)
        assert (end.year, end.month, end.day) == (last, 12, 14)


# --- fct_indicator_comparisons -----------------------------------------------------------------------


def test_comparisons_pair_each_cell_with_the_same_period_a_year_before(sample_warehouse: Any) -> None:
    url = sample_warehouse.url
    total = fetch(url, "select count(*) from marts.fct_indicator_values")[0][0]
    assert fetch(url, "select count(*) from marts.fct_indicator_comparisons")[0][0] == total > 1000
    # the test's own pairing: period code of the same kind, one year earlier (2025-9M -> 2024-9M)
    mismatches = fetch(
        url,
        """
        with expected as (
            select v.indicator_code, v.period_code, v.unit_code, v.unit_level, v.restatement, v.scope,
                   v.value, p.value as previous_value
            from marts.fct_indicator_values as v
            left join marts.fct_indicator_values as p
                on p.period_code = (cast(left(v.period_code, 4) as integer) - 1)::text || substr(v.period_code, 5)
                and p.indicator_code = v.indicator_code and p.unit_code = v.unit_code
                and p.unit_level = v.unit_level and p.restatement = v.restatement and p.scope = v.scope
        )
        select e.*, c.previous_value, c.change_abs, c.change_pct, c.change_points
        from expected as e
        join marts.fct_indicator_comparisons as c using (indicator_code, period_code, unit_code, unit_level,
                                                          restatement, scope)
        where c.previous_value is distinct from e.previous_value
           or c.value is distinct from e.value
        """,
    )
    assert mismatches == []
    # the change columns' formulas: unit test comparison_with_the_same_period_last_year and the
    # data tests of fct_indicator_comparisons (_marts__models.yml), on every built row


def test_comparisons_name_every_unit_agency_and_the_province(sample_warehouse: Any) -> None:
    url = sample_warehouse.url
    units = {r["unit_code"]: (r["unit_name_vi"], r["agency_code"]) for r in _seed("reporting_units")}
    agencies = {r["agency_code"]: r["agency_name_vi"] for r in _seed("agencies")}
    rows = fetch(
        url, "select distinct unit_level, unit_code, agency_code, unit_name_vi from marts.fct_indicator_comparisons"
    )
    assert {level for level, *_ in rows} == {"unit", "agency", "province", "national"}
    for level, code, agency, name in rows:
        if level == "unit":
            assert (name, agency) == units[code]
        elif level == "agency":
            assert (name, agency) == (agencies[code], code)
        elif level == "province":
            assert (code, agency, name) == ("THANHHOA", None, "Tỉnh Thanh Hóa")
        else:
            assert (code, agency, name) == ("TOANQUOC", None, "Toàn quốc")


# --- fct_yearly_evaluation and fct_phase_totals -------------------------------------------------------


def test_phase_totals_sum_the_years_and_say_which(sample_warehouse: Any) -> None:
    url = sample_warehouse.url
    rows = fetch(
        url,
        """
        select t.indicator_code, t.value, t.first_year_covered, t.last_year_covered, t.years_covered,
               t.unit_name_vi, t.unit_level
        from marts.fct_phase_totals as t
        where t.phase_code = '2023-2026' and t.unit_code = 'THANHHOA' and t.scope = 'all'
        """,
    )
    assert rows
    years = {
        (code, year): value
        for code, year, value in fetch(
            url,
            "select indicator_code, report_year, value from marts.fct_indicator_values "
            "where unit_code = 'THANHHOA' and restatement = 'restated' and scope = 'all' and period_code like '%-Y'",
        )
    }
    for code, value, first, last, covered, name, level in rows:
        mine = {y: v for (c, y), v in years.items() if c == code and 2023 <= y <= 2026}
        assert value == sum(mine.values(), Decimal(0))
        assert (first, last, covered) == (min(mine), max(mine), len(mine))
        assert (name, level) == ("Tỉnh Thanh Hóa", "province")
    assert max(r[3] for r in rows) == 2025  # the sample's mid-term review covers 2023-2025


@pytest.mark.parametrize("mart", ["fct_indicator_comparisons", "dim_strategy_phases", "fct_unit_return_quality"])
def test_new_marts_are_documented_in_the_database(sample_warehouse: Any, mart: str) -> None:
    comments = fetch(
        sample_warehouse.url,
        "select col_description(c.oid, a.attnum) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped "
        "where n.nspname = 'marts' and c.relname = %s",
        (mart,),
    )
    assert comments and all(c for (c,) in comments)
