"""How an intake run is told: its summary, the lines per file, the names of batches.

The Airflow DAG (`dags/pctn_intake.py`) calls these around the pipeline's own steps
(`ingestion.intake.pipeline`: `plan_batches`, `is_duplicate`, `final_outcomes`), so the
DAG file only wires calls. Outcomes are read back from `registry.files`, not from
task results, so rejected (skipped) and failed batches count too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import psycopg

from ingestion.intake.feedback import feedback_path, rejection_report_path
from ingestion.intake.pipeline import FileOutcome, Registration, final_outcomes, is_duplicate


def batch_label(names: list[str]) -> str:
    """How a batch is named in the grid: its file when alone, else the count and the first and last names."""
    if len(names) == 1:
        return names[0]
    return f"{len(names)} files: {names[0]} … {names[-1]}" if names else "no file"


def mark_duplicates(registrations: Iterable[Registration], outcomes: list[FileOutcome]) -> list[FileOutcome]:
    """The outcomes of the registered files (same order), `duplicate` for a file processed before this run."""
    known = {r.file_id for r in registrations if is_duplicate(r)}
    return [dataclasses.replace(o, status="duplicate") if o.file_id in known else o for o in outcomes]


def batch_outcomes(conn: psycopg.Connection, registrations: Iterable[Registration]) -> list[FileOutcome]:
    """The final outcome of each registered file (`registry.files`), `duplicate` for one processed before this run."""
    registrations = list(registrations)
    return mark_duplicates(registrations, final_outcomes(conn, [r.file_id for r in registrations]))


def outcome_lines(outcome: FileOutcome, out_dir: Path) -> list[str]:
    """What a batch's log says of one file: its rows, or its rejection (Vietnamese, English, where the feedback is)."""
    if outcome.status != "rejected":
        return [
            f"{outcome.file_name}: {outcome.status} (rows read {outcome.rows_read}, loaded {outcome.rows_loaded},"
            f" quarantined {outcome.rows_quarantined}, flagged {outcome.rows_flagged})"
        ]
    feedback = feedback_path(out_dir, outcome.file_name)
    report = rejection_report_path(out_dir, outcome.file_name)
    return [
        f"TỪ CHỐI / REJECTED {outcome.file_name} (file_id {outcome.file_id}): {outcome.reject_code}",
        f"  Lý do: {outcome.reason_vi}",
        f"  Reason: {outcome.reason_en}",
        f"  Phản hồi / feedback: {feedback} (also audit.feedback_files); report: {report}",
    ]


def all_rejected(outcomes: list[FileOutcome], out_dir: Path) -> str | None:
    """When every file of a batch was rejected, why (the batch then ends skipped); else None."""
    rejected = [o for o in outcomes if o.status == "rejected"]
    if not outcomes or len(rejected) < len(outcomes):
        return None
    first = rejected[0]
    return (
        f"{len(rejected)} file(s) rejected / từ chối, e.g. {first.file_name}: {first.reject_code}:"
        f" {first.reason_en} / {first.reason_vi}"
        f" — feedback: {feedback_path(out_dir, first.file_name)}"
    )


def run_summary(conn: psycopg.Connection, registrations: Iterable[Registration]) -> dict:
    """What an intake run did to its files, from `registry.files` (JSON-able: the `publish` task's XCom).

    A file registered before with a final status is a `duplicate` (its rows are not
    this run's); a file still `received` is one whose `process` task failed.
    """
    outcomes = sorted(batch_outcomes(conn, registrations), key=lambda o: o.file_name)
    by_status: dict[str, int] = {}
    loaded: dict[str, int] = {}
    quarantined: dict[str, int] = {}
    rejected: dict[str, list[str]] = {}
    unprocessed: list[str] = []
    for o in outcomes:
        by_status[o.status] = by_status.get(o.status, 0) + 1
        if o.status in ("loaded", "superseded") and o.source:
            loaded[o.source] = loaded.get(o.source, 0) + o.rows_loaded
            quarantined[o.source] = quarantined.get(o.source, 0) + o.rows_quarantined
        elif o.status == "rejected":
            rejected.setdefault(o.reject_code or "?", []).append(f"{o.file_name}: {o.reason_en}")
        elif o.status == "received":
            unprocessed.append(o.file_name)
    return {
        "files": len(outcomes),
        "files_by_status": by_status,
        "rows_loaded_by_source": loaded,
        "rows_quarantined_by_source": quarantined,
        "rejected_by_reason": rejected,
        "unprocessed": unprocessed,
    }


def format_run_summary(summary: dict) -> str:
    """The summary as log lines (Vietnamese / English headings)."""
    lines = [
        f"Tóm tắt lượt chạy / run summary: {summary['files']} file(s): "
        + (", ".join(f"{k} {v}" for k, v in sorted(summary["files_by_status"].items())) or "none")
    ]
    for source in sorted(summary["rows_loaded_by_source"]):
        lines.append(
            f"  {source}: rows loaded {summary['rows_loaded_by_source'][source]},"
            f" quarantined {summary['rows_quarantined_by_source'].get(source, 0)}"
        )
    for code, files in sorted(summary["rejected_by_reason"].items()):
        lines.append(f"  bị từ chối / rejected, {code}: {len(files)}")
        lines += [f"    {f}" for f in files]
    if summary["unprocessed"]:
        lines.append(f"  chưa xử lý / not processed (task failed): {', '.join(summary['unprocessed'])}")
    return "\n".join(lines)


def status_changes(summary: dict) -> int:
    """How many files of a run got a new status (a rejection too): what the registry Asset stands for."""
    return sum(n for status, n in summary["files_by_status"].items() if status not in ("duplicate", "received"))
