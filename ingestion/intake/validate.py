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
from ingestion.intake.problems import Code, Rejection, RowProblem
from ingestion.intake.readers.values import clean_text

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
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    with contextlib.suppress(Exception):  # progress bars are cosmetic; older configs lack the key
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
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


def _applicable(suite_dict: dict[str, Any], frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The suite's expectations that apply to this frame: file rules always, others when their columns are there."""
    present = set(frame.columns)
    return [
        e
        for e in suite_dict["expectations"]
        if e["meta"]["severity"] == "file" or set(_columns_of(e["kwargs"])) <= present
    ]


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
    applicable = _applicable(suite_dict, frame)
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
    for res in result.results:
        config = res.expectation_config
        raised = res.exception_info.get("raised_exception") if isinstance(res.exception_info, dict) else False
        if raised:
            column = config.kwargs.get("column") or config.kwargs.get("column_B") or None
            raise RuntimeError(f"Expectation {config.type} on {column} raised: {res.exception_info}")
        # GX hands back each expectation's config with the suite's `meta` (severity, rule, reasons)
        r = res.result or {}
        _classify(
            report,
            _Judged(
                config.type,
                dict(config.kwargs),
                config.meta,
                bool(res.success),
                r.get("element_count"),
                r.get("unexpected_count"),
                r.get("unexpected_list") or [],
                r.get("unexpected_index_list") or [],
            ),
            frame,
            source,
            written,
        )
    return report


@dataclass
class _Judged:
    """One expectation's verdict on one file, whether GX judged that file alone or a batch."""

    type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any]
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_list: list[Any]
    indices: list[Any]  # positions in the file's frame


def _classify(
    report: ValidationReport,
    judged: _Judged,
    frame: pd.DataFrame,
    source: Source,
    written: dict[str, list[Any]] | None,
) -> None:
    """Add one verdict to the report: its outcome row, then a rejection or one problem per failing row."""
    meta, kwargs, unexpected_list = judged.meta, judged.kwargs, judged.unexpected_list
    column = kwargs.get("column") or kwargs.get("column_B") or None
    if kwargs.get("column_list"):
        column = ",".join(kwargs["column_list"])
    report.outcomes.append(
        ExpectationOutcome(
            expectation_type=judged.type,
            rule=Code(meta["rule"]),
            column=column,
            severity=meta["severity"],
            success=judged.success,
            element_count=judged.element_count,
            unexpected_count=judged.unexpected_count,
            unexpected_sample=[_jsonable(v) for v in unexpected_list[:SAMPLE_SIZE]],
        )
    )
    if judged.success:
        return
    if meta["severity"] == "file":
        if report.rejection is None:
            detail_vi, detail_en = "", ""
            if meta["rule"] == "missing_columns":
                present = set(frame.columns)
                missing = [c for c in kwargs["column_set"] if c not in present]
                heads = ", ".join(source.column(c).header_vi for c in missing)
                detail_vi, detail_en = f": {heads}", f": {', '.join(missing)} ({heads})"
            report.rejection = Rejection(meta["rule"], meta["reason_vi"] + detail_vi, meta["reason_en"] + detail_en)
        return
    row_numbers = frame["row_number"].tolist() if "row_number" in frame else []
    columns = _columns_of(kwargs)
    as_written = bool(written) and bool(columns) and all(c in (written or {}) for c in columns)
    for pos, idx in enumerate(judged.indices):
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
                rule=Code(meta["rule"]),
                severity="warn" if meta["severity"] == "warn" else "row",
                reason_vi=meta["reason_vi"],
                reason_en=meta["reason_en"],
            )
        )


def _trimmed(result: dict[str, Any]) -> dict[str, Any]:
    """The GX result without the full failing-row lists (they live in audit.quarantine)."""
    for res in result.get("results", []):
        r = res.get("result") or {}
        for key in ("unexpected_index_list", "unexpected_list", "unexpected_index_query"):
            if key in r:
                r[key] = r[key][:SAMPLE_SIZE] if isinstance(r[key], list) else None
    return result


# ---------------------------------------------------------------------------------------------
# Many files, one GX run: the fixed cost (metric graphs, pydantic) is paid per batch, not per file.

FILE_KEY = "__file"  # position of the row's file in the batch
VALUE_RULES = frozenset(
    {
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
    }
)
_PERIOD_END = {"$PARAMETER": "period_end"}


@dataclass
class BatchItem:
    """One file's parsed rows, with what `validate` takes besides them."""

    frame: pd.DataFrame
    source: Source
    period_end: dt.date
    written: dict[str, list[Any]] | None = None


class _Unbatchable(Exception):
    """A rule this batch form cannot judge exactly as `validate` would: the files go one by one."""


def _gx_order(expectations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The order GX reports results in: rules without a `column` first, then by column as first seen."""
    groups: dict[str, list[dict[str, Any]]] = {"": []}
    for e in expectations:
        groups.setdefault(e["kwargs"].get("column") or "", []).append(e)
    return [e for group in groups.values() for e in group]


def _passes_file_rules(applicable: list[dict[str, Any]], frame: pd.DataFrame) -> bool:
    """True when the file-level rules certainly pass (the same predicates GX applies); else GX judges the file alone.

    A file that fails one is rejected whole and rare: it costs one GX run of its own, so its
    report (its rejection, and the verdicts GX still gives on its rows) is `validate`'s own.
    """
    for e in applicable:
        if e["meta"]["severity"] != "file":
            continue
        kw = e["kwargs"]
        if e["type"] == "expect_table_columns_to_match_set" and not kw.get("exact_match", True):
            if not set(kw["column_set"]) <= set(frame.columns):
                return False
        elif e["type"] == "expect_table_row_count_to_be_between":
            low, high = kw.get("min_value"), kw.get("max_value")
            if (low is not None and len(frame) < low) or (high is not None and len(frame) > high):
                return False
        else:
            return False
    return True


def validate_batch(items: list[BatchItem]) -> list[ValidationReport]:
    """Judge many files with one GX run per source (and column set); one report per file, as `validate` gives.

    The rows of the batch are concatenated with their file's position (`__file`). Rules that
    look at one row (required, conditionally required, pairs that should agree) run on those
    rows; a key must be unique per file, so `__file` joins it. Rules that look at one value
    (labels, ranges, signs, regex, dates) run on the column's distinct values, padded into one
    small frame, and each verdict is joined back to the rows holding that value; a date that
    must not pass the period's end is judged on the distinct (date, period end) pairs. File-level
    rules stay per file: a file that fails one is validated alone. Problems, row numbers,
    counts and outcome order per file are those of `validate` (a test holds them equal).
    """
    reports: list[ValidationReport | None] = [None] * len(items)
    groups: dict[tuple[str, tuple[int, ...]], list[int]] = {}
    for n, item in enumerate(items):
        suite_dict = load_suite_dict(item.source.code)
        applicable = _applicable(suite_dict, item.frame)
        if not _passes_file_rules(applicable, item.frame):
            reports[n] = validate(item.frame, item.source, item.period_end, item.written)
            continue
        ids = tuple(i for i, e in enumerate(suite_dict["expectations"]) if e in applicable)
        groups.setdefault((item.source.code, ids), []).append(n)
    for (code, ids), members in groups.items():
        suite_dict = load_suite_dict(code)
        applicable = _gx_order([suite_dict["expectations"][i] for i in ids])
        sub = [items[n] for n in members]
        try:
            judged = _judge_group(sub, suite_dict["name"], applicable)
        except _Unbatchable:
            judged = None
        kwargs_json: dict[int, dict[str, Any]] = {}  # the rules' kwargs live as long as suite_dict
        for pos, n in enumerate(members):
            item = items[n]
            if judged is None:
                reports[n] = validate(item.frame, item.source, item.period_end, item.written)
            else:
                reports[n] = _file_report(suite_dict["name"], judged[pos], item, kwargs_json)
    return [r for r in reports if r is not None]


def _file_report(
    suite_name: str, verdicts: list[_Judged], item: BatchItem, kwargs_json: dict[int, dict[str, Any]] | None = None
) -> ValidationReport:
    """One file's report from its share of the batch's verdicts, shaped as GX's own result.

    `kwargs_json` caches the JSON form of each rule's kwargs across the files of a group
    (the same dict object for every file), so it is computed once per rule, not per file.
    """
    cache: dict[int, dict[str, Any]] = {} if kwargs_json is None else kwargs_json

    def jsonable(kwargs: dict[str, Any]) -> dict[str, Any]:
        out = cache.get(id(kwargs))
        if out is None:
            out = cache[id(kwargs)] = _jsonable_kwargs(kwargs)
        return dict(out)  # each file's result owns its dict

    report = ValidationReport(run_id=uuid.uuid4().hex, suite=suite_name, run_at=dt.datetime.now(dt.UTC))
    for judged in verdicts:
        _classify(report, judged, item.frame, item.source, item.written)
    ok = sum(1 for j in verdicts if j.success)
    report.success = ok == len(verdicts)
    report.result_json = {
        "success": report.success,
        "suite_name": suite_name,
        "statistics": {
            "evaluated_expectations": len(verdicts),
            "successful_expectations": ok,
            "unsuccessful_expectations": len(verdicts) - ok,
            "success_percent": ok / len(verdicts) * 100 if verdicts else None,  # as GX computes it
        },
        "results": [
            {
                "success": j.success,
                "expectation_config": {"type": j.type, "kwargs": jsonable(j.kwargs), "meta": j.meta},
                "result": {
                    "element_count": j.element_count,
                    "unexpected_count": j.unexpected_count,
                    "unexpected_list": [_jsonable(v) for v in j.unexpected_list[:SAMPLE_SIZE]],
                    "unexpected_index_list": [int(i) for i in j.indices[:SAMPLE_SIZE]],
                },
            }
            for j in verdicts
        ],
        "meta": {"validated_in_batch": True, "period_end": item.period_end.isoformat()},
    }
    return report


def _jsonable_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, dict | list | str | int | float | bool) or v is None else str(v)
        for k, v in kwargs.items()
    }


@dataclass
class _Plan:
    """How one suite rule is judged in the batch, and how GX's answer maps back to the rule as written."""

    rule: dict[str, Any]
    on: str  # file | rows | distinct
    gx: dict[str, Any] | None = None  # the expectation GX runs
    codes: Any = None  # distinct: per batch row, the position of its value (-1 = null)
    unwrap: Any = None  # rows: GX's unexpected value -> the value the rule as written reports
    condition: str | None = None


def _judge_group(sub: list[BatchItem], suite_name: str, applicable: list[dict[str, Any]]) -> list[list[_Judged]]:
    """One GX run over the rows, one over the distinct values; the verdicts split back per file."""
    import numpy as np
    from great_expectations.core import ExpectationSuite

    sizes = [len(it.frame) for it in sub]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    rows = pd.concat([it.frame for it in sub], ignore_index=True)
    file_of = np.repeat(np.arange(len(sub)), sizes)
    rows[FILE_KEY] = file_of
    period_ends = pd.Series(pd.to_datetime(np.repeat([np.datetime64(it.period_end, "ns") for it in sub], sizes)))
    plans: list[_Plan] = []
    distinct: dict[str, pd.Series] = {}
    for k, e in enumerate(applicable):
        kind, kw = e["type"], e["kwargs"]
        if "mostly" in kw:
            raise _Unbatchable(kind)
        if e["meta"]["severity"] == "file":
            plans.append(_Plan(e, "file"))
            continue
        if kind in VALUE_RULES and "column" in kw and "row_condition" not in kw:
            plans.append(_distinct_plan(k, e, rows, period_ends, distinct))
        else:
            plans.append(_rows_plan(k, e))
    params = {"earliest_date": pd.Timestamp(EARLIEST_DATE)}
    answers: dict[int, dict[str, Any]] = {}
    for on, frame in (("rows", rows), ("distinct", pd.DataFrame(distinct) if distinct else None)):
        exps = [p.gx for p in plans if p.on == on and p.gx is not None]
        if not exps or frame is None:
            continue
        suite = ExpectationSuite(name=f"{suite_name}_batch_{on}", expectations=exps)
        batch = _context().get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format={"result_format": "COMPLETE"}, expectation_parameters=params)
        for res in result.results:
            info = res.exception_info
            if isinstance(info, dict) and info.get("raised_exception"):
                raise _Unbatchable(res.expectation_config.type)
            answers[int(res.expectation_config.meta["plan"])] = res.result or {}
    per_file: list[list[_Judged]] = [[] for _ in sub]
    for k, plan in enumerate(plans):
        rule = plan.rule
        if plan.on == "file":
            for f in range(len(sub)):
                per_file[f].append(_Judged(rule["type"], rule["kwargs"], rule["meta"], True, None, None, [], []))
            continue
        r = answers[k]
        gx_values = list(r.get("unexpected_list") or [])
        gx_index = [int(i) for i in r.get("unexpected_index_list") or []]
        if plan.on == "rows":
            failing = np.asarray(gx_index, dtype=np.int64)
            shown = [plan.unwrap(v) for v in gx_values] if plan.unwrap else gx_values
        else:
            pair = _PERIOD_END in rule["kwargs"].values()
            value_of = {i: (pd.Timestamp(v[1]) if pair else v) for i, v in zip(gx_index, gx_values, strict=True)}
            failing = np.flatnonzero(np.isin(plan.codes, np.asarray(gx_index, dtype=np.int64)))
            shown = [value_of[int(plan.codes[g])] for g in failing]
        if plan.condition:
            counted = np.bincount(file_of[rows.eval(plan.condition).to_numpy(dtype=bool)], minlength=len(sub))
        else:
            counted = np.asarray(sizes)
        owner = file_of[failing] if len(failing) else np.asarray([], dtype=np.int64)
        for f in range(len(sub)):
            mine = np.flatnonzero(owner == f)
            local = [int(failing[m] - offsets[f]) for m in mine]
            values = [shown[m] for m in mine]
            per_file[f].append(
                _Judged(
                    rule["type"], rule["kwargs"], rule["meta"], not local, int(counted[f]), len(local), values, local
                )
            )
    return per_file


def _distinct_plan(
    k: int, e: dict[str, Any], rows: pd.DataFrame, period_ends: pd.Series, distinct: dict[str, pd.Series]
) -> _Plan:
    """A value rule judged once per distinct value (with its file's period end where the rule needs it).

    Adds the distinct values it judges to `distinct` (one column per rule).
    """
    import numpy as np

    kind, kw = e["type"], e["kwargs"]
    col, name = kw["column"], f"__v{k}"
    values = rows[col]
    if _PERIOD_END in kw.values():
        if kind != "expect_column_values_to_be_between" or set(kw) != {"column", "max_value"}:
            raise _Unbatchable(kind)
        mask = values.notna().to_numpy()
        codes = np.full(len(rows), -1, dtype=np.int64)
        pairs = pd.MultiIndex.from_arrays([values[mask], period_ends[mask]])
        found, uniques = pd.factorize(pairs)
        codes[mask] = found
        distinct[name] = pd.Series(uniques.get_level_values(0))
        distinct[f"__p{k}"] = pd.Series(uniques.get_level_values(1))
        gx: dict[str, Any] = {
            "type": "expect_column_pair_values_a_to_be_greater_than_b",
            "kwargs": {
                "column_A": f"__p{k}",
                "column_B": name,
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
        }
    else:
        codes, uniques = pd.factorize(values)
        distinct[name] = pd.Series(uniques, dtype=values.dtype)
        gx = {"type": kind, "kwargs": {**kw, "column": name}}
    return _Plan(e, "distinct", {**gx, "meta": {"plan": k}}, codes=codes)


def _rows_plan(k: int, e: dict[str, Any]) -> _Plan:
    """A rule judged over all the rows of the batch at once, each file's rows apart (`FILE_KEY`)."""
    kind, kw = e["type"], e["kwargs"]
    unwrap = None
    if kind == "expect_column_values_to_be_unique" and set(kw) == {"column"}:
        col = kw["column"]
        gx = {
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": [FILE_KEY, col], "ignore_row_if": "any_value_is_missing"},
        }
        unwrap = lambda d, col=col: d[col]  # noqa: E731
    elif kind == "expect_compound_columns_to_be_unique":
        if kw.get("ignore_row_if") != "any_value_is_missing":
            raise _Unbatchable(kind)
        cols = list(kw["column_list"])
        gx = {"type": kind, "kwargs": {**kw, "column_list": [FILE_KEY, *cols]}}
        unwrap = lambda d, cols=cols: {c: d[c] for c in cols}  # noqa: E731
    elif kind.startswith("expect_column") and _PERIOD_END not in kw.values():
        gx = {"type": kind, "kwargs": dict(kw)}
    else:
        raise _Unbatchable(kind)
    return _Plan(e, "rows", {**gx, "meta": {"plan": k}}, unwrap=unwrap, condition=kw.get("row_condition"))
