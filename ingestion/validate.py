"""Validate a parsed return with its Great Expectations suite.

GX Core runs in an ephemeral (in-memory) context loaded from the committed JSON
suites, so nothing is written at run time and any worker can validate any file.
It is imported inside functions only: `import great_expectations` costs seconds
(scipy), which must never be paid at DAG-parse time.

The suite runs set-based over the whole frame with `result_format=COMPLETE`, and
the failing rows come back as frame indices (`unexpected_index_list`), which we
map to the row numbers the sender sees. Each expectation's `meta.severity`
decides the consequence: `file` rejects the return, `row` quarantines the row,
`warn` loads it with a flag.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd

from ingestion.contract.sources import Source
from ingestion.contract.suites import EARLIEST_DATE, suite_path
from ingestion.problems import Rejection, RowProblem
from ingestion.readers.values import clean_text

SAMPLE_SIZE = 20


@dataclass
class ExpectationOutcome:
    """One expectation's result, as stored in `audit.validation_results`."""

    expectation_type: str
    rule: str
    column: str | None
    severity: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_sample: list[Any]


@dataclass
class ValidationReport:
    run_id: str
    suite: str
    run_at: dt.datetime
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    rejection: Rejection | None = None
    result_json: dict[str, Any] = field(default_factory=dict)
    success: bool = True


@cache
def _context() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    with contextlib.suppress(Exception):  # progress bars are cosmetic; older configs lack the key
        context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    source = context.data_sources.add_pandas("returns")
    asset = source.add_dataframe_asset("return_frame")
    return asset.add_batch_definition_whole_dataframe("whole_return")


@cache
def load_suite_dict(source_code: str) -> dict[str, Any]:
    return json.loads(suite_path(source_code).read_text(encoding="utf-8"))


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    cols += kwargs.get("column_list", [])
    return cols


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if pd.isna(value) else value
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()[:10] if not pd.isna(value) else None
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _display(value: Any) -> str | None:
    v = _jsonable(value)
    if v is None:
        return None
    if isinstance(v, list):
        return " / ".join("" if x is None else str(x) for x in v)
    return str(v)


def validate(
    frame: pd.DataFrame,
    source: Source,
    period_end: dt.date,
    written: dict[str, list[Any]] | None = None,
) -> ValidationReport:
    """Run the source's suite on the frame and classify every failure by severity.

    `written` (column -> per row, the cell as the sender typed it) makes a problem
    show the value as written (`-5.000.000`), not as parsed (`-5000000`).
    """
    from great_expectations.core import ExpectationSuite

    suite_dict = load_suite_dict(source.code)
    present = set(frame.columns)
    applicable = [
        e
        for e in suite_dict["expectations"]
        if e["meta"]["severity"] == "file" or set(_columns_of(e["kwargs"])) <= present
    ]
    suite = ExpectationSuite(name=suite_dict["name"], expectations=[dict(e) for e in applicable])
    batch_definition = _context()
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite,
        result_format={"result_format": "COMPLETE"},
        expectation_parameters={
            "period_end": pd.Timestamp(period_end),
            "earliest_date": pd.Timestamp(EARLIEST_DATE),
        },
    )
    report = ValidationReport(run_id=uuid.uuid4().hex, suite=suite_dict["name"], run_at=dt.datetime.now(dt.UTC))
    report.success = bool(result.success)
    report.result_json = _trimmed(result.to_json_dict())
    row_numbers = frame["row_number"].tolist() if "row_number" in frame else []
    for res in result.results:
        config = res.expectation_config
        # GX hands back each expectation's config with the suite's `meta` (severity, rule, reasons)
        spec = {"kwargs": dict(config.kwargs), "meta": config.meta}
        meta = spec["meta"]
        column = spec["kwargs"].get("column") or spec["kwargs"].get("column_B") or None
        if spec["kwargs"].get("column_list"):
            column = ",".join(spec["kwargs"]["column_list"])
        raised = res.exception_info.get("raised_exception") if isinstance(res.exception_info, dict) else False
        if raised:
            raise RuntimeError(f"Expectation {config.type} on {column} raised: {res.exception_info}")
        r = res.result or {}
        unexpected_list = r.get("unexpected_list") or []
        report.outcomes.append(
            ExpectationOutcome(
                expectation_type=config.type,
                rule=meta["rule"],
                column=column,
                severity=meta["severity"],
                success=bool(res.success),
                element_count=r.get("element_count"),
                unexpected_count=r.get("unexpected_count"),
                unexpected_sample=[_jsonable(v) for v in unexpected_list[:SAMPLE_SIZE]],
            )
        )
        if res.success:
            continue
        if meta["severity"] == "file":
            if report.rejection is None:
                detail_vi, detail_en = "", ""
                if meta["rule"] == "missing_columns":
                    missing = [c for c in spec["kwargs"]["column_set"] if c not in present]
                    heads = ", ".join(source.column(c).header_vi for c in missing)
                    detail_vi, detail_en = f": {heads}", f": {', '.join(missing)} ({heads})"
                report.rejection = Rejection(meta["rule"], meta["reason_vi"] + detail_vi, meta["reason_en"] + detail_en)
            continue
        indices = r.get("unexpected_index_list") or []
        columns = _columns_of(spec["kwargs"])
        as_written = bool(written) and bool(columns) and all(c in (written or {}) for c in columns)
        for pos, idx in enumerate(indices):
            i = idx if isinstance(idx, int) else int(idx.get("index", idx)) if isinstance(idx, dict) else int(idx)
            shown = _display(unexpected_list[pos] if pos < len(unexpected_list) else None)
            if as_written and written is not None:
                cells = [clean_text(written[c][i]) for c in columns]
                shown = cells[0] if len(cells) == 1 else " / ".join(c or "" for c in cells)
            report.problems.append(
                RowProblem(
                    row_number=int(row_numbers[i]),
                    column=meta.get("column_vi"),
                    value=shown,
                    rule=meta["rule"],
                    severity="warn" if meta["severity"] == "warn" else "row",
                    reason_vi=meta["reason_vi"],
                    reason_en=meta["reason_en"],
                )
            )
    return report


def _trimmed(result: dict[str, Any]) -> dict[str, Any]:
    """The GX result without the full failing-row lists (they live in audit.quarantine)."""
    for res in result.get("results", []):
        r = res.get("result") or {}
        for key in ("unexpected_index_list", "unexpected_list", "unexpected_index_query"):
            if key in r:
                r[key] = r[key][:SAMPLE_SIZE] if isinstance(r[key], list) else None
    return result
