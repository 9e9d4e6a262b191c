"""The national inbox (`ingestion_samples/national.py`) and the province as a dimension of the marts.

The generator is checked on real files (same seed, same bytes; a reference directory that
the intake's own `ingestion.reference` reads through `PCTN_REFERENCE_DIR`); a small
multi-province inbox then goes through the real intake and a real `dbt build`, and the
marts must carry every province, a national total that is the sum of the provinces for
additive indicators and a recomputation (not a sum) for ratios, and an extract that
still reads Thanh Hóa only.
"""

from __future__ import annotations

import csv
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from ingestion.intake.filenames import parse_file_name
from ingestion_samples.generate import main
from ingestion_samples.national import HOME_PROVINCE, read_provinces

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "dbt_project" / "seeds"
# The small form: Thanh Hóa and Hà Nội, one year, a few active districts (about 90 files).
SMALL = ["--provinces", "2", "--years", "2025", "--active-units", "0.05", "--no-bad"]


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_national_generator_is_deterministic(tmp_path: Path) -> None:
    for run in ("a", "b"):
        assert main([*SMALL, "--out", str(tmp_path / run / "returns")]) == 0
    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert first == second
    assert any(p.startswith("reference/") for p in first) and "expected.json" in first
    assert len([p for p in first if p.startswith("returns/")]) > 40
    assert main([*SMALL, "--seed", "169", "--out", str(tmp_path / "c" / "returns")]) == 0
    assert digests(tmp_path / "c") != first


def test_provinces_seed_and_committed_units() -> None:
    provinces = _csv(SEEDS / "provinces.csv")
    assert len(provinces) == 34 and len({p["province_code"] for p in provinces}) == 34
    assert {p["province_kind"] for p in provinces} == {"province", "city"}
    assert sum(p["province_kind"] == "city" for p in provinces) == 6
    units = _csv(SEEDS / "reporting_units.csv")
    assert len(units) == 182 and {u["province_code"] for u in units} == {HOME_PROVINCE}
    assert read_provinces()[0].code == HOME_PROVINCE


def test_reference_directory_extends_units_and_calendar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "returns"
    assert main(["--provinces", "3", "--years", "2018", "--active-units", "0.1", "--no-bad", "--out", str(out)]) == 0
    reference = tmp_path / "reference"
    assert sorted(p.name for p in reference.iterdir()) == sorted(p.name for p in SEEDS.glob("*.csv"))
    committed = {u["unit_code"]: u for u in _csv(SEEDS / "reporting_units.csv")}
    units = {u["unit_code"]: u for u in _csv(reference / "reporting_units.csv")}
    # Thanh Hóa's units are all there, unchanged but for the start of the story (2016)
    for code, unit in committed.items():
        assert units[code] | {"valid_from": unit["valid_from"]} == unit
        assert units[code]["valid_from"] in (unit["valid_from"], "2016-01-01")
    provinces = [p.code for p in read_provinces()[:3]]
    assert {u["province_code"] for u in units.values()} == set(provinces)
    for province in provinces[1:]:
        own = [u for u in units.values() if u["province_code"] == province]
        assert all(u["unit_code"].split("-")[1] == province for u in own)
        assert {u["agency_code"] for u in own if u["unit_level"] == "province"} == {
            "TT",
            "CA",
            "QD",
            "VKS",
            "TA",
            "THADS",
        }
        districts = [u for u in own if u["unit_level"] == "district"]
        assert districts and all(u["valid_to"] == "2025-06-30" and u["successor_unit_code"] in units for u in districts)
        regions = [u for u in own if u["unit_level"] == "region"]
        assert regions and all(u["valid_from"] == "2025-07-01" for u in regions)
        # every successor stays in the province
        assert {units[u["successor_unit_code"]]["province_code"] for u in districts} == {province}
    periods = {p["period_code"]: p for p in _csv(reference / "reporting_periods.csv")}
    assert periods["2018-Q1"]["start_date"] == "2017-12-15" and periods["2018-Y"]["end_date"] == "2018-12-14"
    assert {k for k in periods if k.startswith("2018-")} == {
        f"2018-{k}" for k in ("Q1", "Q2", "Q3", "Q4", "6M", "9M", "Y")
    }
    assert "2031-Y" in periods  # the committed calendar goes on

    # the intake reads the same directory through PCTN_REFERENCE_DIR: every file's unit is valid then
    monkeypatch.setenv("PCTN_REFERENCE_DIR", str(reference))
    from ingestion import reference as ref

    expected = json.loads((tmp_path / "expected.json").read_text(encoding="utf-8"))
    assert expected["reference"] == "reference" and expected["provinces"] == 3
    files = [f for f in expected["files"] if f["status"] == "loaded"]
    assert files and len(files) == expected["totals"]["files"]
    seen_provinces, kinds = set(), set()
    for f in files:
        name = parse_file_name(Path(f["path"]).name)
        unit, period = ref.units()[name.unit_code], ref.periods()[name.period_code]
        assert unit.valid_on(period.end_date), f["path"]
        seen_provinces.add(unit.province_code)
        kinds.add(period.period_kind)
    assert seen_provinces == set(provinces)
    assert kinds == {"Q1", "6M", "9M", "Y"}  # the expected period kinds, every one
    monkeypatch.delenv("PCTN_REFERENCE_DIR")
    assert set(ref.units()) == set(committed)


def _rows(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.slow
def test_small_national_inbox_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_warehouse_url: str
) -> None:
    from ingestion.extract import queries
    from ingestion.intake.pipeline import run_intake
    from ingestion.platform.transform import run_dbt
    from tests.conftest import drop_database

    out = tmp_path / "returns"
    assert main([*SMALL, "--out", str(out)]) == 0
    expected = json.loads((tmp_path / "expected.json").read_text(encoding="utf-8"))
    monkeypatch.setenv("PCTN_REFERENCE_DIR", str(tmp_path / "reference"))
    url = fresh_warehouse_url
    try:
        outcomes = run_intake(url, out, tmp_path / "output")
        assert len(outcomes) == expected["totals"]["files"]
        loaded = _rows(url, "select count(*), sum(rows_loaded) from registry.files where status = 'loaded'")[0]
        assert loaded[0] == expected["totals"]["files"]
        assert loaded[1] == sum(f["rows_loaded"] for f in expected["files"])
        run_dbt(url, ["build"], target_path=tmp_path / "dbt_target", quiet=True)

        provinces = [p.code for p in read_provinces()[:2]]
        assert _rows(url, "select count(*) from marts.dim_provinces")[0][0] == 34
        assert dict(
            _rows(url, "select province_code, count(*) from marts.dim_reporting_units group by 1")
        ).keys() == set(provinces)
        # one province row per province, and the national total, for every indicator of 2025-Y
        levels = _rows(
            url,
            """select unit_level, unit_code, count(distinct indicator_code) from marts.fct_indicator_values
               where period_code = '2025-Y' and unit_level in ('province', 'national') and restatement = 'restated'
               group by 1, 2 order by 1, 2""",
        )
        indicators = _rows(url, "select count(*) from marts.dim_indicators")[0][0]
        assert {(level, code) for level, code, _ in levels} == {("national", "TOANQUOC")} | {
            ("province", p) for p in provinces
        }
        assert all(n == indicators for *_, n in levels)
        # additive indicators: national = sum of the provinces
        sums = _rows(
            url,
            """select v.indicator_code, v.period_code, v.restatement, v.scope, v.value,
                      (select sum(p.value) from marts.fct_indicator_values as p
                       where p.unit_level = 'province' and p.indicator_code = v.indicator_code
                         and p.period_code = v.period_code and p.restatement = v.restatement and p.scope = v.scope)
               from marts.fct_indicator_values as v join reference.indicators as i using (indicator_code)
               where v.unit_level = 'national' and i.calc = 'sum'""",
        )
        assert len(sums) > 100
        assert [r for r in sums if r[4] != r[5]] == []
        assert any(r[4] > 0 for r in sums)
        # ratios: recomputed from the provinces' numerators and denominators, not added up
        ratios = _rows(
            url,
            """select v.indicator_code, v.period_code, v.restatement, v.scope, v.value, v.numerator, v.denominator,
                      sum(p.numerator), sum(p.denominator), sum(p.value), count(p.value)
               from marts.fct_indicator_values as v
               join reference.indicators as i using (indicator_code)
               join marts.fct_indicator_values as p
                 on p.unit_level = 'province' and p.indicator_code = v.indicator_code
                 and p.period_code = v.period_code and p.restatement = v.restatement and p.scope = v.scope
               where v.unit_level = 'national' and i.calc = 'ratio'
               group by 1, 2, 3, 4, 5, 6, 7""",
        )
        assert ratios
        for code, period, _, _, value, num, den, prov_num, prov_den, _, _ in ratios:
            assert (num, den) == (prov_num, prov_den), (code, period)
            expected_value = (num / den).quantize(Decimal("0.000001")) if den else None
            assert value == expected_value, (code, period)
        both = [r for r in ratios if r[10] == 2 and r[4] is not None and r[4] > 0]
        assert both and any(r[4] != r[9] for r in both)  # a sum of the two provinces' ratios would differ
        evaluation = _rows(url, "select distinct unit_level, unit_code from marts.fct_yearly_evaluation")
        assert set(evaluation) == {("national", "TOANQUOC")} | {("province", p) for p in provinces}

        # the Thanh Hóa extract still reads Thanh Hóa only
        home_units = {
            r[0]
            for r in _rows(
                url, "select unit_code from marts.dim_reporting_units where province_code = %s", (HOME_PROVINCE,)
            )
        }
        with psycopg.connect(url) as conn:
            period = queries.find_period(conn, "2025-Y")
            rows = [r for g in ("detection", "handling", "recovery") for r in queries.read_group(conn, period, g)]
            quality = queries.read_unit_quality(conn, period)
        assert rows and {r["unit_level"] for r in rows} <= {"unit", "agency", "province"}
        assert {r["unit_code"] for r in rows if r["unit_level"] == "province"} == {HOME_PROVINCE}
        assert {r["unit_code"] for r in rows if r["unit_level"] == "unit"} <= home_units
        assert quality and {r["unit_code"] for r in quality} <= home_units
        # and so does the run summary's headline table: one line per indicator, the home province's values
        from ingestion.extract.headline import headline_indicators

        headline = headline_indicators(url)
        codes = [r["indicator_code"] for r in headline]
        assert headline and len(codes) == len(set(codes))
        home = dict(
            _rows(
                url,
                "select indicator_code, value from marts.fct_yearly_evaluation e join marts.dim_indicators i "
                "using (indicator_code) where e.province_code = %s and e.unit_level = 'province' "
                "and e.scope = i.default_scope and e.report_year = %s",
                (HOME_PROVINCE, headline[0]["report_year"]),
            )
        )
        assert {r["indicator_code"]: r["value"] for r in headline} == {c: home[c] for c in codes}
    finally:
        drop_database(url)
        from ingestion.reference import DBT_PROJECT_DIR, dbt_seed_dir

        (DBT_PROJECT_DIR / dbt_seed_dir()).unlink(missing_ok=True)  # the link run_dbt made for the reference
