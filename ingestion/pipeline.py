"""The intake of one file, and of an inbox: register → read → validate → load.

`register_file` and `process_file` are the two steps the Airflow DAG maps over
files; `run_intake` chains them for `make run`. They exchange only a `file_id`:
the bytes travel through `registry.file_contents`, so the two steps may run on
different Celery workers. Bad data is an *outcome* (rejected, quarantined rows),
never an exception; exceptions mean something transient (the database went away)
and are worth a retry.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg

from ingestion.contract.sources import SOURCES, Source
from ingestion.feedback import FeedbackSummary, build_feedback, feedback_file_name, feedback_kind, rejection_report
from ingestion.filenames import PERIOD_PATTERN, ReturnName, parse_file_name
from ingestion.load import clear_file, copy_raw, write_problems, write_validation
from ingestion.parse import parse_table
from ingestion.problems import Rejection, RowProblem
from ingestion.pseudonym import pseudonym_key
from ingestion.readers.table import SheetTable, read_table
from ingestion.reference import ReportingPeriod, periods, units
from ingestion.registry import Registration, apply_supersession, file_bytes, register_file, sha256_of
from ingestion.schema import ensure_schema
from ingestion.validate import validate

log = logging.getLogger(__name__)

__all__ = ["FileOutcome", "Registration", "process_file", "register_file", "run_intake", "scan_inbox"]


@dataclass
class FileOutcome:
    """What happened to one file; also what `make run` and the DAG print."""

    file_id: int
    file_name: str
    status: str  # loaded | rejected | superseded | duplicate
    source: str | None = None
    unit_code: str | None = None
    period_code: str | None = None
    version: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_flagged: int = 0
    reject_code: str | None = None
    reason_vi: str | None = None
    reason_en: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def scan_inbox(inbox: Path) -> list[Path]:
    """Every file under the inbox (recursively), in a stable order; hidden files skipped."""
    return sorted(
        p
        for p in inbox.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(inbox).parts)
    )


def _identify(name: str) -> tuple[ReturnName, Source, ReportingPeriod]:
    """Check the file name against the contract and the reference data."""
    rn = parse_file_name(name)
    source = SOURCES.get(rn.source)
    if source is None:
        raise Rejection(
            "unknown_source",
            f"Nguồn '{rn.source}' không có trong quy định; nguồn hợp lệ: {', '.join(SOURCES)}",
            f"Unknown source '{rn.source}'; valid sources: {', '.join(SOURCES)}",
        )
    period = periods().get(rn.period_code)
    if period is None or not PERIOD_PATTERN.match(rn.period_code):
        raise Rejection(
            "bad_period",
            f"Kỳ báo cáo '{rn.period_code}' không hợp lệ; dùng YYYY-Q1..Q4, YYYY-6M, YYYY-9M hoặc YYYY-Y",
            f"Reporting period '{rn.period_code}' is not valid; use YYYY-Q1..Q4, YYYY-6M, YYYY-9M or YYYY-Y",
        )
    unit = units().get(rn.unit_code)
    if unit is None:
        raise Rejection(
            "unknown_unit",
            f"Mã đơn vị '{rn.unit_code}' không có trong danh mục đơn vị báo cáo",
            f"Unit code '{rn.unit_code}' is not in the list of reporting units",
        )
    if unit.agency_code not in source.agencies:
        raise Rejection(
            "unknown_unit",
            f"Đơn vị '{rn.unit_code}' ({unit.agency_code}) không gửi biểu '{source.code}'",
            f"Unit '{rn.unit_code}' ({unit.agency_code}) does not send '{source.code}' returns",
        )
    if not unit.valid_on(period.end_date):
        until = unit.valid_to.strftime("%d/%m/%Y") if unit.valid_to else "-"
        since = unit.valid_from.strftime("%d/%m/%Y")
        raise Rejection(
            "unit_not_valid",
            f"Đơn vị '{rn.unit_code}' chỉ hoạt động từ {since} đến {until}, không hợp lệ cho kỳ {rn.period_code}"
            f" (kết thúc {period.end_date:%d/%m/%Y})",
            f"Unit '{rn.unit_code}' exists from {since} to {until}, not on the end of period {rn.period_code}"
            f" ({period.end_date:%d/%m/%Y})",
        )
    return rn, source, period


def _check_title(table: SheetTable, rn: ReturnName) -> None:
    if table.title_unit and table.title_unit != rn.unit_code:
        raise Rejection(
            "title_mismatch",
            f"Tên tệp ghi đơn vị '{rn.unit_code}' nhưng dòng tiêu đề ghi '{table.title_unit}'",
            f"The file name says unit '{rn.unit_code}' but the title lines say '{table.title_unit}'",
        )
    if table.title_period and table.title_period != rn.period_code:
        raise Rejection(
            "title_mismatch",
            f"Tên tệp ghi kỳ '{rn.period_code}' nhưng dòng tiêu đề ghi '{table.title_period}'",
            f"The file name says period '{rn.period_code}' but the title lines say '{table.title_period}'",
        )


def _existing_outcome(conn: psycopg.Connection, file_id: int) -> FileOutcome:
    row = conn.execute(
        "select file_id, file_name, status, source, unit_code, period_code, version, coalesce(rows_read, 0),"
        " coalesce(rows_loaded, 0), coalesce(rows_quarantined, 0), coalesce(rows_flagged, 0), reject_code,"
        " reject_reason_vi, reject_reason_en from registry.files where file_id = %s",
        (file_id,),
    ).fetchone()
    if row is None:
        raise LookupError(f"file_id {file_id} is not registered")
    return FileOutcome(*row)


def process_file(
    conn: psycopg.Connection, file_id: int, out_dir: Path | None = None, *, force: bool = False
) -> FileOutcome:
    """Read, validate and load one registered file; idempotent unless `force`."""
    current = _existing_outcome(conn, file_id)
    if current.status != "received" and not force:
        return current
    key = pseudonym_key()  # no key, no processing: stop before touching anything
    name, data = file_bytes(conn, file_id)
    rn: ReturnName | None = None
    source: Source | None = None
    parsed = None
    problems: list[RowProblem] = []
    report = None
    try:
        rn, source, period = _identify(name)
        try:
            table = read_table(data, rn.extension, source)
        except Rejection:
            raise
        except Exception as exc:  # a file no reader understands is a rejection, not a crash
            log.exception("reader failed on %s", name)
            raise Rejection(
                "unreadable",
                f"Không đọc được tệp: {type(exc).__name__}: {exc}",
                f"The file cannot be read: {type(exc).__name__}: {exc}",
            ) from exc
        _check_title(table, rn)
        parsed = parse_table(table, source, key)
        report = validate(parsed.frame, source, period.end_date)
        if report.rejection is not None:
            raise report.rejection
        # a value that was written but cannot be read is reported as such, not also as "missing"
        unreadable = {(p.row_number, p.column) for p in parsed.problems}
        problems = parsed.problems + [
            p for p in report.problems if not (p.rule == "required" and (p.row_number, p.column) in unreadable)
        ]
        rejection = None
    except Rejection as exc:
        rejection = exc

    # a rejected file is not read as a return: none of its rows count as read
    rows_read = parsed.rows_read if parsed is not None and rejection is None else 0
    quarantined = {p.row_number for p in problems if p.severity == "row"}
    flagged = {p.row_number for p in problems if p.severity == "warn"} - quarantined
    with conn.transaction():
        conn.execute("select 1 from registry.files where file_id = %s for update", (file_id,))
        clear_file(conn, file_id, source)
        if rejection is None:
            assert parsed is not None and source is not None and rn is not None and report is not None
            row_numbers = parsed.frame["row_number"].tolist()
            keep = [i for i, n in enumerate(row_numbers) if n not in quarantined]
            loaded = copy_raw(conn, file_id, parsed, source, keep)
            write_problems(conn, file_id, problems, parsed)
            write_validation(conn, file_id, report)
            status = "loaded"
        else:
            loaded = 0
            status = "rejected"
            if report is not None:
                write_validation(conn, file_id, report)
        conn.execute(
            """
            update registry.files set source = %s, unit_code = %s, period_code = %s, version = %s,
                status = %s, processed_at = now(), rows_read = %s, rows_loaded = %s,
                rows_quarantined = %s, rows_flagged = %s, reject_code = %s,
                reject_reason_vi = %s, reject_reason_en = %s, superseded_by = null
            where file_id = %s
            """,
            (
                rn.source if rn else None,
                rn.unit_code if rn else None,
                rn.period_code if rn else None,
                rn.version if rn else None,
                status,
                rows_read,
                loaded,
                len(quarantined),
                len(flagged),
                rejection.code if rejection else None,
                rejection.reason_vi if rejection else None,
                rejection.reason_en if rejection else None,
                file_id,
            ),
        )
        if rejection is None and rn is not None:
            apply_supersession(conn, rn.source, rn.unit_code, rn.period_code)
        outcome = _existing_outcome(conn, file_id)
        summary = FeedbackSummary(
            file_name=name,
            source=outcome.source,
            unit_code=outcome.unit_code,
            period_code=outcome.period_code,
            status=outcome.status,
            rows_read=outcome.rows_read,
            rows_loaded=outcome.rows_loaded,
            rows_quarantined=outcome.rows_quarantined,
            rows_flagged=outcome.rows_flagged,
            reject_code=outcome.reject_code,
            reason_vi=outcome.reason_vi,
            reason_en=outcome.reason_en,
            received_at=conn.execute(
                "select received_at from registry.files where file_id = %s", (file_id,)
            ).fetchone()[0],
        )
        feedback = build_feedback(summary, problems)
        conn.execute(
            "insert into audit.feedback_files (file_id, file_name, kind, content, sha256) values (%s, %s, %s, %s, %s)",
            (file_id, feedback_file_name(name), feedback_kind(summary, problems), feedback, sha256_of(feedback)),
        )
    if out_dir is not None:
        export_file(out_dir, name, data, summary, feedback)
    return outcome


def export_file(out_dir: Path, name: str, data: bytes, summary: FeedbackSummary, feedback: bytes) -> None:
    """Human-facing copies: archive (or rejected/ with a report) and the feedback workbook.

    The warehouse holds the originals and feedback already; these files are for
    people browsing `output/`, so writing them is idempotent and never required.
    """
    digest = sha256_of(data)
    if summary.status == "rejected":
        target = out_dir / "rejected" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.with_name(name + ".report.txt").write_text(rejection_report(summary), encoding="utf-8")
    else:
        target = out_dir / "archive" / (summary.source or "unknown") / f"{digest[:12]}_{name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    fb = out_dir / "feedback" / feedback_file_name(name)
    fb.parent.mkdir(parents=True, exist_ok=True)
    fb.write_bytes(feedback)


def _worker_process(url: str, file_id: int, out_dir: Path | None) -> int:
    """Process one file in a worker process, with the worker's own connection."""
    conn = _WORKER_CONN.get(url)
    if conn is None or conn.closed:
        conn = _WORKER_CONN[url] = psycopg.connect(url, autocommit=True)
    process_file(conn, file_id, out_dir)
    return file_id


_WORKER_CONN: dict[str, psycopg.Connection] = {}
PARALLEL_MIN_FILES = 8


def default_workers() -> int:
    """`PCTN_INTAKE_WORKERS`, else one per core (at most 4): validation is CPU-bound."""
    return int(os.environ.get("PCTN_INTAKE_WORKERS", min(os.cpu_count() or 1, 4)))


def _process_all(conn: psycopg.Connection, url: str, file_ids: list[int], out_dir: Path | None, workers: int) -> None:
    if workers <= 1 or len(file_ids) < PARALLEL_MIN_FILES:
        for file_id in file_ids:
            process_file(conn, file_id, out_dir)
        return
    # spawn, not fork: the parent may hold connections and threads a fork would copy
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for future in [pool.submit(_worker_process, url, file_id, out_dir) for file_id in file_ids]:
            future.result()


def run_intake(
    url: str,
    inbox: Path,
    out_dir: Path | None = None,
    paths: Iterable[Path] | None = None,
    workers: int | None = None,
) -> list[FileOutcome]:
    """Register every file in the inbox, process the new ones, return one outcome per file offered.

    Registration is sequential (it decides what is new); processing runs in
    `workers` processes, since each file is independent and its own transaction.
    """
    slots: list[FileOutcome | int] = []
    pending: list[int] = []
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_schema(conn)
        for path in paths if paths is not None else scan_inbox(inbox):
            registration = register_file(conn, path)
            if registration.file_id in pending or (not registration.is_new and registration.status != "received"):
                known = _existing_outcome(conn, registration.file_id)
                slots.append(
                    FileOutcome(
                        file_id=known.file_id,
                        file_name=str(path.relative_to(inbox)) if path.is_relative_to(inbox) else path.name,
                        status="duplicate",
                        source=known.source,
                        unit_code=known.unit_code,
                        period_code=known.period_code,
                        version=known.version,
                    )
                )
                continue
            pending.append(registration.file_id)
            slots.append(registration.file_id)
        _process_all(conn, url, pending, out_dir, default_workers() if workers is None else workers)
        # final states: a later file of this run may have superseded an earlier one
        return [_existing_outcome(conn, s) if isinstance(s, int) else s for s in slots]
