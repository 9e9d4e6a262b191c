"""Write a validated return to the warehouse with PostgreSQL COPY.

Everything about one file happens in the caller's single transaction: earlier
rows of the same file are deleted first (so reprocessing is idempotent), the good
rows are copied into `raw.<table>`, the problems into `audit.quarantine`, and
the suite results into `audit.validation_results`. Either all of it lands or none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg.types.json import Jsonb

from ingestion.contract.sources import Source
from ingestion.intake.parse import DistinctColumn, ParsedReturn, PseudonymColumn
from ingestion.intake.problems import RowProblem, SkippedRow
from ingestion.intake.validate import ValidationReport


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


COPY_CHUNK_ROWS = 100_000
# Up to this many rows, quarantine, skipped-row and validation-result rows are INSERTed
# (`executemany`, which may run in the caller's pipeline: no round trip of its own) rather
# than COPYed (two round trips, and never in a pipeline). Most files have a few of each; a
# bad large file keeps COPY's speed.
INSERT_MAX_ROWS = 200


def insertable(*rows: Sequence[object]) -> bool:
    """Whether `write_problems`, `write_skipped` and `write_validation` on these rows all INSERT, so
    the caller may send them in a pipeline (COPY cannot run in one)."""
    return all(len(r) <= INSERT_MAX_ROWS for r in rows)


def _write_rows(conn: psycopg.Connection, table: str, columns: str, rows: Sequence[Sequence[object]]) -> None:
    """The rows into `table`: one `executemany` when few (pipeline-safe), else COPY."""
    if not rows:
        return
    if len(rows) <= INSERT_MAX_ROWS:
        marks = ", ".join(["%s"] * len(rows[0]))
        conn.cursor().executemany(f"insert into {table} ({columns}) values ({marks})", rows)
        return
    with conn.cursor().copy(f"copy {table} ({columns}) from stdin") as copy:
        for row in rows:
            copy.write_row(row)


def _array_literal(values: list[str] | None) -> str | None:
    if not values:
        return None
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _raw_frame(file_id: int, parsed: ParsedReturn, source: Source) -> tuple[pd.DataFrame, dict[str, PseudonymColumn]]:
    """The rows as the raw table's columns, still typed, for a vectorised CSV dump.

    A `PseudonymColumn` stays packed: its column holds placeholder codes here and is
    turned into array literals chunk by chunk in `copy_raw` (a literal per row of a
    1M-row return is ~0.1 GB more in the worker at once). Returns the frame and those columns.
    """
    frame = parsed.frame
    out = pd.DataFrame({"file_id": file_id, "row_number": frame["row_number"]})
    packed: dict[str, PseudonymColumn] = {}
    for c in source.columns:
        if c.type == "personal":
            pseudo = parsed.pseudonyms.get(c.name)
            if isinstance(pseudo, PseudonymColumn):  # literals per chunk, in copy_raw
                out[c.load_name] = None
                packed[c.load_name] = pseudo
            elif isinstance(pseudo, DistinctColumn):  # one literal per distinct list of names, mapped to the rows
                literals = [_array_literal(p) for p in pseudo.values]
                out[c.load_name] = pseudo.take(literals, _array_literal(pseudo.missing))
            else:
                out[c.load_name] = [_array_literal(p) for p in pseudo] if pseudo is not None else None
        elif c.name in frame:
            out[c.load_name] = frame[c.name]
        else:
            out[c.load_name] = None
    out["extra_columns"] = parsed.extra
    return out, packed


def _literals(pseudo: PseudonymColumn, rows: Sequence[int]) -> list[str | None]:
    """The array literal of each of these rows' pseudonyms (each distinct cell's once per chunk)."""
    missing = _array_literal(pseudo.missing)
    seen: dict[int, str | None] = {}
    out: list[str | None] = []
    for code in pseudo.codes[np.asarray(rows, dtype=np.int64)].tolist():
        if code < 0:
            out.append(missing)
            continue
        if code not in seen:
            seen[code] = _array_literal(pseudo.unpack(pseudo.values[code]))
        out.append(seen[code])
    return out


# Up to this many rows, `copy_raw` hands psycopg the rows themselves: building a pandas frame
# and its CSV costs ~2 ms whatever the size, four times the bare loop's whole file, and most
# returns hold a few rows (issue 11, per-file cost).
SMALL_COPY_ROWS = 200


def _raw_rows(file_id: int, parsed: ParsedReturn, source: Source, keep: Sequence[int]) -> list[tuple[Any, ...]]:
    """The kept rows as the raw table's columns, as Python values (`_py`) psycopg adapts."""
    frame = parsed.frame
    columns: list[list[Any]] = [[file_id] * len(keep)]
    row_numbers = frame["row_number"].tolist()
    columns.append([row_numbers[i] for i in keep])
    for c in source.columns:
        if c.type == "personal":
            pseudo = parsed.pseudonyms.get(c.name)
            columns.append([_array_literal(pseudo[i]) for i in keep] if pseudo is not None else [None] * len(keep))
        elif c.name in frame:
            values = frame[c.name].tolist()
            columns.append([_py(values[i]) for i in keep])
        else:
            columns.append([None] * len(keep))
    columns.append([parsed.extra[i] for i in keep])
    return list(zip(*columns, strict=True))


def raw_columns(source: Source) -> list[str]:
    """The raw table's columns in the order `copy_raw` writes them."""
    return ["file_id", "row_number", *(c.load_name for c in source.columns), "extra_columns"]


def copy_raw(conn: psycopg.Connection, file_id: int, parsed: ParsedReturn, source: Source, keep: Sequence[int]) -> int:
    """COPY the kept rows into `raw.<table>`: a few rows as they are, more formatted as CSV by pandas in chunks.

    pandas writes the CSV in C; building the rows in Python and letting psycopg
    adapt each value was the slowest step of the intake on large files (about 5x
    slower), but a frame's fixed cost dominates a file of a few rows (`SMALL_COPY_ROWS`).
    Empty unquoted fields are NULL for COPY's CSV format; the parsers never
    produce empty strings, so nothing else is read as NULL (and both ways store the same
    values: tests/intake/test_intake_store.py).
    """
    if len(keep) <= SMALL_COPY_ROWS:
        if keep:
            with conn.cursor().copy(f"copy raw.{source.raw_table} ({', '.join(raw_columns(source))}) from stdin") as cp:
                for row in _raw_rows(file_id, parsed, source, keep):
                    cp.write_row(row)
        return len(keep)
    out, packed = _raw_frame(file_id, parsed, source)
    target = list(out.columns)
    with conn.cursor().copy(f"copy raw.{source.raw_table} ({', '.join(target)}) from stdin (format csv)") as copy:
        for start in range(0, len(keep), COPY_CHUNK_ROWS):
            rows = list(keep[start : start + COPY_CHUNK_ROWS])
            chunk = out.iloc[rows]
            for name, pseudo in packed.items():
                chunk[name] = _literals(pseudo, rows)
            copy.write(chunk.to_csv(header=False, index=False, date_format="%Y-%m-%d", lineterminator="\n"))
    return len(keep)


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
    if not problems:  # most files: no COPY to open, no columns to copy out of the frame
        return
    index_of: dict[int, int] = {}
    columns: dict[str, list[Any]] = {}
    if parsed is not None:
        index_of = {n: i for i, n in enumerate(parsed.frame["row_number"].tolist())}
        columns = {name: parsed.frame[name].tolist() for name in parsed.frame.columns}
    rows = []
    for p in problems:
        known = parsed is not None and p.row_number in index_of
        data = row_data(parsed, columns, index_of[p.row_number]) if known and parsed is not None else None
        rows.append(
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
    _write_rows(
        conn,
        "audit.quarantine",
        "file_id, row_number, column_name, value, rule, severity, reason_vi, reason_en, row_data",
        rows,
    )


def write_skipped(conn: psycopg.Connection, file_id: int, skipped: Sequence[SkippedRow]) -> None:
    """Rows below the header that are not records, with their kind and text (nothing is dropped)."""
    if not skipped:
        return
    _write_rows(
        conn,
        "audit.skipped_rows",
        "file_id, row_number, kind, text",
        [(file_id, row.row_number, row.kind, row.text) for row in skipped],
    )


def write_validation(conn: psycopg.Connection, file_id: int, report: ValidationReport) -> None:
    conn.execute(
        "insert into audit.validation_runs (run_id, file_id, suite, success, run_at, result)"
        " values (%s, %s, %s, %s, %s, %s)",
        (report.run_id, file_id, report.suite, report.success, report.run_at, Jsonb(report.result_json)),
    )
    if not report.outcomes:
        return
    # one statement (or COPY) for all the expectations, not one INSERT each
    _write_rows(
        conn,
        "audit.validation_results",
        "run_id, file_id, suite, expectation_type, rule, column_name, severity, success, element_count,"
        " unexpected_count, unexpected_sample, run_at",
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
    """Remove what an earlier attempt at this file wrote (reprocessing is idempotent).

    One statement (data-modifying CTEs) instead of one per table: the intake pays
    this on every file, almost always with nothing to delete.
    """
    tables = [f"raw.{source.raw_table}"] if source is not None else []
    tables += [
        "audit.quarantine",
        "audit.validation_results",
        "audit.validation_runs",
        "audit.feedback_files",
        "audit.skipped_rows",
    ]
    deletes = ", ".join(f"d{i} as (delete from {t} where file_id = %(f)s)" for i, t in enumerate(tables))
    conn.execute(f"with {deletes} select 1", {"f": file_id})
