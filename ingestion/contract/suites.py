"""Build the Great Expectations suites in `expectations/` from the contract.

The JSON files are committed and reviewed like code; a test fails when they drift
from the contract, so the rules have one source (`sources.py`) yet the suites stay
readable on their own. Each expectation's `meta` carries what the pipeline needs
to act on a failure: `severity` (`file` rejects the return, `row` quarantines the
failing rows, `warn` loads and flags them), the `rule` code, the column's
Vietnamese header, and the reason in Vietnamese and English.

Run `python -m ingestion.contract.suites` to rewrite the files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingestion.contract.sources import SOURCES, Source
from ingestion.paths import EXPECTATIONS_DIR

EARLIEST_DATE = "1990-01-01"


def _exp(kind: str, kwargs: dict[str, Any], severity: str, rule: str, reason_vi: str, reason_en: str, **meta: Any):
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"severity": severity, "rule": rule, "reason_vi": reason_vi, "reason_en": reason_en, **meta},
    }


def build_suite(source: Source) -> dict[str, Any]:
    exps: list[dict[str, Any]] = []
    required = [c.name for c in source.required]
    exps.append(
        _exp(
            "expect_table_columns_to_match_set",
            {"column_set": required, "exact_match": False},
            "file",
            "missing_columns",
            "Thiếu cột bắt buộc",
            "A required column is missing",
        )
    )
    exps.append(
        _exp(
            "expect_table_row_count_to_be_between",
            {"min_value": 1},
            "file",
            "no_rows",
            "Biểu không có dòng số liệu nào",
            "The return has no data rows",
        )
    )
    for col in source.columns:
        if col.type == "personal":
            continue
        head = {"column_vi": col.header_vi}
        if col.required and col.type != "bool":
            exps.append(
                _exp(
                    "expect_column_values_to_not_be_null",
                    {"column": col.name},
                    "row",
                    "required",
                    "Thiếu giá trị ở cột bắt buộc",
                    "A required value is missing",
                    **head,
                )
            )
        if col.type == "enum":
            labels = "; ".join(col.labels)
            exps.append(
                _exp(
                    "expect_column_values_to_be_in_set",
                    {"column": col.name, "value_set": sorted(col.labels.values())},
                    "row",
                    "bad_label",
                    f"Giá trị không thuộc danh mục; cần một trong: {labels}",
                    f"Unknown label; expected one of: {labels}",
                    **head,
                )
            )
        if col.type in ("money", "count", "decimal"):
            exps.append(
                _exp(
                    "expect_column_values_to_be_between",
                    {"column": col.name, "min_value": 0},
                    "row",
                    "negative",
                    "Giá trị âm không hợp lệ; cần số không âm",
                    "A negative value is invalid; expected 0 or more",
                    **head,
                )
            )
        if col.type == "date":
            exps.append(
                _exp(
                    "expect_column_values_to_be_between",
                    {"column": col.name, "min_value": {"$PARAMETER": "earliest_date"}},
                    "row",
                    "implausible_date",
                    f"Ngày trước {EARLIEST_DATE}, không hợp lý",
                    f"A date before {EARLIEST_DATE} is implausible",
                    **head,
                )
            )
            if col.name in source.date_columns_not_after_period_end:
                exps.append(
                    _exp(
                        "expect_column_values_to_be_between",
                        {"column": col.name, "max_value": {"$PARAMETER": "period_end"}},
                        "row",
                        "after_period_end",
                        "Ngày sau ngày kết thúc kỳ báo cáo",
                        "The date is after the end of the reporting period",
                        **head,
                    )
                )
    for key in source.uniques:
        heads = ", ".join(source.column(k).header_vi for k in key)
        kwargs: dict[str, Any]
        if len(key) == 1:
            kind, kwargs = "expect_column_values_to_be_unique", {"column": key[0]}
        else:
            kind = "expect_compound_columns_to_be_unique"
            kwargs = {"column_list": list(key), "ignore_row_if": "any_value_is_missing"}
        exps.append(
            _exp(
                kind,
                kwargs,
                "row",
                "duplicate_key",
                f"Mã bị lặp trong cùng tệp ({heads})",
                f"The key is repeated in the same file ({', '.join(key)})",
                column_vi=heads,
            )
        )
    for cond in source.conditional_required:
        col = source.column(cond.column)
        when = source.column(cond.when_column)
        label = next(lbl for lbl, code in when.labels.items() if code == cond.when_code)
        exps.append(
            _exp(
                "expect_column_values_to_not_be_null",
                {
                    "column": cond.column,
                    "row_condition": f'{cond.when_column}=="{cond.when_code}"',
                    "condition_parser": "pandas",
                },
                "row",
                "conditional_required",
                f"Bắt buộc khi '{when.header_vi}' là '{label}'",
                f"Required when '{when.name}' is '{label}'",
                column_vi=col.header_vi,
            )
        )
    for rule in source.plausibility:
        a, b = rule.columns
        exps.append(
            _exp(
                "expect_column_pair_values_a_to_be_greater_than_b",
                {"column_A": b, "column_B": a, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
                "warn",
                rule.code,
                rule.reason_vi,
                rule.reason_en,
                column_vi=source.column(a).header_vi,
            )
        )
    return {"name": f"{source.code}_return", "expectations": exps, "meta": {"source": source.code}}


def suite_path(source_code: str) -> Path:
    return EXPECTATIONS_DIR / f"{source_code}_return.json"


def render(suite: dict[str, Any]) -> str:
    return json.dumps(suite, ensure_ascii=False, indent=2) + "\n"


def write_all() -> list[Path]:
    EXPECTATIONS_DIR.mkdir(exist_ok=True)
    paths = []
    for source in SOURCES.values():
        path = suite_path(source.code)
        path.write_text(render(build_suite(source)), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """`python -m ingestion.contract.suites` (make suites): write expectations/<source>_return.json."""
    from ingestion.platform import envhelp

    envhelp.parser(
        "python -m ingestion.contract.suites",
        "Regenerate the GX suites (expectations/<source>_return.json) from the returns contract.\n"
        "Sinh lại bộ kiểm tra GX từ quy định biểu mẫu. Reads no database.",
        (),
    ).parse_args(argv)
    for p in write_all():
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
