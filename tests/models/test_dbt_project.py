"""Checks of the dbt project itself, from its parsed manifest (no database needed).

- every model is described and tested (data tests, unit tests, or an enforced contract's constraints);
- every mart enforces its contract, persists its docs, and describes each column
  in Vietnamese and English ("Mã chỉ tiêu / Indicator code");
- the marts other parts of the project read have exactly the columns that
  docs/interfaces.md fixes;
- every indicator of the seed has a unit test that states its expected values;
- layers as dbt's structure guide has them: a source's staging model is a view over one raw
  table, the models that join the registry and change grain (state history, latest state)
  are intermediate; the active periods and the order of the case stages are written once.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ingestion.platform.transform import DBT_PROJECT_DIR, run_dbt
from tests.interfaces_doc import mart_columns

# docs/interfaces.md, section "Marts (schema `marts`) that the extract and BI read", parsed
INTERFACE_COLUMNS: dict[str, list[str]] = mart_columns()


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    target = tmp_path_factory.mktemp("dbt_parse")
    # parsing needs the profile but no connection
    run_dbt("postgresql://nobody@localhost:1/none", ["parse"], target_path=target)
    return json.loads((Path(target) / "manifest.json").read_text())


def _models(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def test_every_model_described_and_tested(manifest: dict[str, Any]) -> None:
    models = _models(manifest)
    tested: set[str] = set()
    for node in [*manifest["nodes"].values(), *manifest.get("unit_tests", {}).values()]:
        if node["resource_type"] in {"test", "unit_test"}:
            tested.update(dep.split(".")[-1] for dep in node["depends_on"]["nodes"] if dep.startswith("model."))
    # An enforced contract's constraints are tests PostgreSQL runs on every row as dbt builds the
    # table (a violating row fails the build): dbt's docs let them stand in for not_null, unique
    # and accepted_values tests (dbt_project.yml, intermediate and marts)
    constrained = {
        name
        for name, n in models.items()
        if n["config"]["contract"]["enforced"]
        and (n["constraints"] or any(c["constraints"] for c in n["columns"].values()))
    }
    undescribed = [name for name, n in models.items() if not n["description"].strip()]
    untested = sorted(set(models) - tested - constrained)
    undescribed_columns = [
        f"{name}.{col}" for name, n in models.items() for col, c in n["columns"].items() if not c["description"]
    ]
    assert not undescribed, undescribed
    assert not untested, untested
    assert not undescribed_columns, undescribed_columns


def test_marts_contracts_docs_and_bilingual_columns(manifest: dict[str, Any]) -> None:
    marts = {k: v for k, v in _models(manifest).items() if v["schema"] == "marts"}
    assert len(marts) >= 11
    for name, node in marts.items():
        assert node["config"]["contract"]["enforced"], name
        assert node["config"]["persist_docs"] == {"relation": True, "columns": True}, name
        # fct_indicator_values is rebuilt by period (README "Incremental builds and statistics")
        assert node["config"]["materialized"] == ("incremental" if name == "fct_indicator_values" else "table"), name
        for col, c in node["columns"].items():
            assert c.get("data_type"), f"{name}.{col} has no data_type"
            assert " / " in c["description"], f"{name}.{col}: describe as 'Vietnamese / English'"


def test_schemas_are_exact(manifest: dict[str, Any]) -> None:
    schemas = {n["schema"] for n in _models(manifest).values()}
    assert schemas == {"staging", "intermediate", "marts"}
    seeds = {n["schema"] for n in manifest["nodes"].values() if n["resource_type"] == "seed"}
    assert seeds == {"reference"}
    sources = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["sources"]]
    assert all(n["schema"] == "staging" for n in sources), "only staging reads source()"


SOURCE_FOLDERS = ("thanhtra", "dieutra", "truyto", "xetxu", "thads")


def test_source_staging_is_one_to_one_with_raw(manifest: dict[str, Any]) -> None:
    """Renames and cleaning of one raw table: a view on one source, no registry, no seed, no other model."""
    staged = {
        name: n for name, n in _models(manifest).items() if n["fqn"][1:3] in (["staging", s] for s in SOURCE_FOLDERS)
    }
    assert len(staged) == len(SOURCE_FOLDERS), sorted(staged)
    for name, node in staged.items():
        assert node["config"]["materialized"] == "view", name
        assert [d.split(".")[0] for d in node["depends_on"]["nodes"]] == ["source"], (name, node["depends_on"])


def test_state_models_are_intermediate(manifest: dict[str, Any]) -> None:
    """History and latest state join the registry and change grain: intermediate, incremental, keyed on the record."""
    macros = {"macro.pctn.state_history", "macro.pctn.latest_state"}
    states = {name: n for name, n in _models(manifest).items() if macros & set(n["depends_on"]["macros"])}
    assert len(states) == 2 * len(SOURCE_FOLDERS), sorted(states)
    for name, node in states.items():
        assert node["schema"] == "intermediate" and name.startswith("int_"), name
        assert name.endswith(("_states", "_latest")), name
        assert (node["config"]["materialized"], node["config"]["unique_key"]) == ("incremental", "record_key"), name


def test_active_periods_and_stage_order_written_once(manifest: dict[str, Any]) -> None:
    models = _models(manifest)
    users = {name for name, n in models.items() if re.search(r"\bactive_periods as\b", n["raw_code"])}
    assert len(users) >= 4, users  # the contribution models and the inspections' inputs
    for name in users:
        assert "model.pctn.int_active_periods" in models[name]["depends_on"]["nodes"], name
        assert "loaded_periods" not in models[name]["raw_code"], f"{name} derives the active periods again"
    literal = [name for name, n in models.items() if re.search(r"(\b\d+|\bend) as stage_order", n["raw_code"])]
    assert not literal, f"stage order written out instead of macro case_stage_order: {literal}"


def test_interface_document_parsed() -> None:
    """The parser found every mart the extract reads, each with its columns (a parse that finds nothing fails)."""
    assert len(INTERFACE_COLUMNS) == 13, sorted(INTERFACE_COLUMNS)
    assert all(len(columns) >= 4 for columns in INTERFACE_COLUMNS.values()), INTERFACE_COLUMNS
    assert INTERFACE_COLUMNS["dim_reporting_periods"][0] == "period_code"
    assert INTERFACE_COLUMNS["fct_indicator_values"][-3:] == ["value", "numerator", "denominator"]


@pytest.mark.parametrize("mart", sorted(INTERFACE_COLUMNS))
def test_interface_columns(manifest: dict[str, Any], mart: str) -> None:
    assert list(_models(manifest)[mart]["columns"]) == INTERFACE_COLUMNS[mart]


def test_every_indicator_has_a_unit_test(manifest: dict[str, Any]) -> None:
    with (DBT_PROJECT_DIR / "seeds" / "indicators.csv").open(encoding="utf-8") as f:
        codes = {row["indicator_code"] for row in csv.DictReader(f)}
    covered: set[str] = set()
    for test in manifest.get("unit_tests", {}).values():
        rows = test["expect"]["rows"]
        text = rows if isinstance(rows, str) else json.dumps(rows)
        covered.update(code for code in codes if code in text)
    assert codes - covered == set()
