"""Write a validated return to the warehouse with PostgreSQL COPY.

Everything about one file happens in the caller's single transaction: earlier
rows of the same file are deleted first (so reprocessing is idempotent), the good
rows are copied into `raw.<table>`, the problems into `audit.quarantine`, and
the suite results into `audit.validation_results`. Either all of it lands or none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import psycopg
from psycopg.types.json import Jsonb

from ingestion.contract.sources import Source
from ingestion.parse import ParsedReturn
from ingestion.problems import RowProblem
from ingestion.validate import ValidationReport


def _py(value: Any) -> Any:
    """pandas scalars -> what psycopg's COPY adapts (None for every kind of missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):
        return value.item()
    return value


def _raw_rows(parsed: ParsedReturn, source: Source, keep: Sequence[int]) -> Iterator[tuple[Any, ...]]:
    frame = parsed.frame
    columns = [c for c in source.columns if c.type != "personal"]
    personal = [c for c in source.columns if c.type == "personal"]
    series = {c.name: frame[c.name].tolist() if c.name in frame else None for c in columns}
    for i in keep:
        row: list[Any] = []
        for c in columns:
            values = series[c.name]
            row.append(_py(values[i]) if values is not None else None)
        for c in personal:
            pseudo = parsed.pseudonyms.get(c.name)
            row.append(pseudo[i] if pseudo is not None and pseudo[i] else None)
        row.append(parsed.extra[i])
        yield tuple(row)


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_CHUNK_ROWS = 20_000


def _text_field(value: Any) -> str:
    """One field in PostgreSQL's COPY text format.

    Formatting rows ourselves and sending them in chunks is several times faster
    than psycopg's per-row `write_row` adaptation, and the types here are few.
    """
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list):
        items = ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
        return ("{" + items + "}").translate(_ESCAPES)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).translate(_ESCAPES)


def copy_raw(conn: psycopg.Connection, file_id: int, parsed: ParsedReturn, source: Source, keep: Sequence[int]) -> int:
    row_numbers = parsed.frame["row_number"].tolist()
    ordinary = [c.load_name for c in source.columns if c.type != "personal"]
    personal = [c.load_name for c in source.columns if c.type == "personal"]
    target = ["file_id", "row_number", *ordinary, *personal, "extra_columns"]
    count = 0
    prefix = f"{file_id}\t"
    buffer: list[str] = []
    with conn.cursor().copy(f"copy raw.{source.raw_table} ({', '.join(target)}) from stdin") as copy:
        for i, values in zip(keep, _raw_rows(parsed, source, keep), strict=True):
            buffer.append(prefix + str(row_numbers[i]) + "\t" + "\t".join(map(_text_field, values)) + "\n")
            count += 1
            if len(buffer) >= COPY_CHUNK_ROWS:
                copy.write("".join(buffer))
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
    return count


def row_data(parsed: ParsedReturn, columns: dict[str, list[Any]], index: int) -> dict[str, Any]:
    """A quarantined row as JSON: parsed values, with names only as pseudonyms."""
    out: dict[str, Any] = {}
    for name, values in columns.items():
        v = _py(values[index])
        out[name] = v.isoformat() if isinstance(v, dt.date) else v
    for name, pseudo in parsed.pseudonyms.items():
        out[f"{name}_pseudonyms"] = pseudo[index]
    if parsed.extra[index]:
        out["extra_columns"] = json.loads(parsed.extra[index] or "{}")
    return out


def write_problems(
    conn: psycopg.Connection, file_id: int, problems: Sequence[RowProblem], parsed: ParsedReturn | None
) -> None:
    index_of: dict[int, int] = {}
    columns: dict[str, list[Any]] = {}
    if parsed is not None:
        index_of = {n: i for i, n in enumerate(parsed.frame["row_number"].tolist())}
        columns = {name: parsed.frame[name].tolist() for name in parsed.frame.columns}
    with conn.cursor().copy(
        "copy audit.quarantine (file_id, row_number, column_name, value, rule, severity,"
        " reason_vi, reason_en, row_data) from stdin"
    ) as copy:
        for p in problems:
            known = parsed is not None and p.row_number in index_of
            data = row_data(parsed, columns, index_of[p.row_number]) if known and parsed is not None else None
            copy.write_row(
                (
                    file_id,
                    p.row_number,
                    p.column,
                    p.value,
                    p.rule,
                    p.severity,
                    p.reason_vi,
                    p.reason_en,
                    Jsonb(data) if data is not None else None,
                )
            )


def write_validation(conn: psycopg.Connection, file_id: int, report: ValidationReport) -> None:
    conn.execute(
        "insert into audit.validation_runs (run_id, file_id, suite, success, run_at, result)"
        " values (%s, %s, %s, %s, %s, %s)",
        (report.run_id, file_id, report.suite, report.success, report.run_at, Jsonb(report.result_json)),
    )
    with conn.cursor() as cur:
        cur.executemany(
            "insert into audit.validation_results (run_id, file_id, suite, expectation_type, rule, column_name,"
            " severity, success, element_count, unexpected_count, unexpected_sample, run_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    report.run_id,
                    file_id,
                    report.suite,
                    o.expectation_type,
                    o.rule,
                    o.column,
                    o.severity,
                    o.success,
                    o.element_count,
                    o.unexpected_count,
                    Jsonb(o.unexpected_sample),
                    report.run_at,
                )
                for o in report.outcomes
            ],
        )


def clear_file(conn: psycopg.Connection, file_id: int, source: Source | None) -> None:
    """Remove what an earlier attempt at this file wrote (reprocessing is idempotent)."""
    if source is not None:
        conn.execute(f"delete from raw.{source.raw_table} where file_id = %s", (file_id,))
    conn.execute("delete from audit.quarantine where file_id = %s", (file_id,))
    conn.execute("delete from audit.validation_results where file_id = %s", (file_id,))
    conn.execute("delete from audit.validation_runs where file_id = %s", (file_id,))
    conn.execute("delete from audit.feedback_files where file_id = %s", (file_id,))
