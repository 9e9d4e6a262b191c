"""The intake of one file, and of an inbox: register → read → validate → load.

`register_file` and `process_file` are the two steps the Airflow DAG maps over
files; `run_intake` chains them for `make run`. They exchange only a `file_id`:
the bytes travel through `registry.file_contents`, so the two steps may run on
different Celery workers. Bad data is an *outcome* (rejected, quarantined rows),
never an exception; exceptions mean something transient (the database went away)
and are worth a retry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
from collections.abc import Callable, Container, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

from ingestion.contract.sources import SOURCES, Source
from ingestion.intake.feedback import (
    FeedbackSummary,
    build_feedback,
    feedback_file_name,
    feedback_kind,
    feedback_path,
    rejection_report,
    rejection_report_path,
)
from ingestion.intake.filenames import PERIOD_PATTERN, ReturnName, parse_file_name
from ingestion.intake.inbox import (
    InboxEntry,
    InboxSurvey,
    NotRead,
    UnsafeEntry,
    read_regular_file,
    record_not_read,
    survey_inbox,
)
from ingestion.intake.load import (
    clear_file,
    copy_raw,
    insertable,
    write_problems,
    write_skipped,
    write_validation,
)
from ingestion.intake.parse import ParsedReturn
from ingestion.intake.problems import Code, Rejection, RowProblem
from ingestion.intake.pseudonym import pseudonym_key
from ingestion.intake.readers.isolated import IsolatedReader, ReadResult, shared_reader
from ingestion.intake.readers.limits import ReaderLimits
from ingestion.intake.readers.table import FileData
from ingestion.intake.registry import (
    REGISTER_BATCH_BYTES,
    REGISTER_BATCH_FILES,
    Offer,
    Registration,
    apply_supersession,
    is_processed,
    read_offer,
    register_file,
    register_offers,
    return_lock,
    sha256_of,
)
from ingestion.intake.schema import ensure_schema
from ingestion.intake.sealing import unseal
from ingestion.intake.validate import BatchItem, ValidationReport, validate_batch
from ingestion.reference import ReportingPeriod, periods, units
from ingestion.settings import settings

log = logging.getLogger(__name__)

__all__ = [
    "FileOutcome",
    "Registration",
    "duplicate_outcome",
    "final_outcomes",
    "is_duplicate",
    "open_inbox",
    "plan_batches",
    "process_batch",
    "process_file",
    "register_entries",
    "register_file",
    "run_intake",
    "scan_inbox",
    "unprocessed",
]


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
    rows_skipped: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def scan_inbox(inbox: Path) -> list[Path]:
    """The regular files of the inbox (recursively, no link followed), in a stable order.

    `survey_inbox` also says which entries are not read and why; the intake records those.
    """
    return [e.path for e in survey_inbox(inbox).files]


def _identify(name: str) -> tuple[ReturnName, Source, ReportingPeriod]:
    """Check the file name against the contract and the reference data."""
    rn = parse_file_name(name)
    source = SOURCES.get(rn.source)
    if source is None:
        raise Rejection(
            Code.UNKNOWN_SOURCE,
            f"Nguồn '{rn.source}' không có trong quy định; nguồn hợp lệ: {', '.join(SOURCES)}",
            f"Unknown source '{rn.source}'; valid sources: {', '.join(SOURCES)}",
        )
    period = periods().get(rn.period_code)
    if period is None or not PERIOD_PATTERN.match(rn.period_code):
        raise Rejection(
            Code.BAD_PERIOD,
            f"Kỳ báo cáo '{rn.period_code}' không hợp lệ; dùng YYYY-Q1..Q4, YYYY-6M, YYYY-9M hoặc YYYY-Y",
            f"Reporting period '{rn.period_code}' is not valid; use YYYY-Q1..Q4, YYYY-6M, YYYY-9M or YYYY-Y",
        )
    unit = units().get(rn.unit_code)
    if unit is None:
        raise Rejection(
            Code.UNKNOWN_UNIT,
            f"Mã đơn vị '{rn.unit_code}' không có trong danh mục đơn vị báo cáo",
            f"Unit code '{rn.unit_code}' is not in the list of reporting units",
        )
    if unit.agency_code not in source.agencies:
        raise Rejection(
            Code.UNKNOWN_UNIT,
            f"Đơn vị '{rn.unit_code}' ({unit.agency_code}) không gửi biểu '{source.code}'",
            f"Unit '{rn.unit_code}' ({unit.agency_code}) does not send '{source.code}' returns",
        )
    if not unit.valid_on(period.end_date):
        until = unit.valid_to.strftime("%d/%m/%Y") if unit.valid_to else "-"
        since = unit.valid_from.strftime("%d/%m/%Y")
        raise Rejection(
            Code.UNIT_NOT_VALID,
            f"Đơn vị '{rn.unit_code}' chỉ hoạt động từ {since} đến {until}, không hợp lệ cho kỳ {rn.period_code}"
            f" (kết thúc {period.end_date:%d/%m/%Y})",
            f"Unit '{rn.unit_code}' exists from {since} to {until}, not on the end of period {rn.period_code}"
            f" ({period.end_date:%d/%m/%Y})",
        )
    return rn, source, period


def _check_title(read: ReadResult, rn: ReturnName) -> None:
    if read.title_unit and read.title_unit != rn.unit_code:
        raise Rejection(
            Code.TITLE_MISMATCH,
            f"Tên tệp ghi đơn vị '{rn.unit_code}' nhưng dòng tiêu đề ghi '{read.title_unit}'",
            f"The file name says unit '{rn.unit_code}' but the title lines say '{read.title_unit}'",
        )
    if read.title_period and read.title_period != rn.period_code:
        raise Rejection(
            Code.TITLE_MISMATCH,
            f"Tên tệp ghi kỳ '{rn.period_code}' nhưng dòng tiêu đề ghi '{read.title_period}'",
            f"The file name says period '{rn.period_code}' but the title lines say '{read.title_period}'",
        )


_OUTCOME_COLUMNS = (
    "file_id, file_name, status, source, unit_code, period_code, version, coalesce(rows_read, 0),"
    " coalesce(rows_loaded, 0), coalesce(rows_quarantined, 0), coalesce(rows_flagged, 0), reject_code,"
    " reject_reason_vi, reject_reason_en, coalesce(rows_skipped, 0)"
)


def _existing_outcome(conn: psycopg.Connection, file_id: int) -> FileOutcome:
    row = conn.execute(f"select {_OUTCOME_COLUMNS} from registry.files where file_id = %s", (file_id,)).fetchone()
    if row is None:
        raise LookupError(f"file_id {file_id} is not registered")
    return FileOutcome(*row)


def final_outcomes(conn: psycopg.Connection, file_ids: list[int]) -> list[FileOutcome]:
    """The files' outcomes as `registry.files` holds them now, in one query, in order (a file still
    `received` was not processed): what a batch, a run and the DAG's summary return."""
    rows = conn.execute(
        f"select {_OUTCOME_COLUMNS} from registry.files where file_id = any(%s)", (list(file_ids),)
    ).fetchall()
    found = {row[0]: FileOutcome(*row) for row in rows}
    missing = [f for f in file_ids if f not in found]
    if missing:
        raise LookupError(f"file_id {missing[0]} is not registered")
    return [found[f] for f in file_ids]


class FileBusy(RuntimeError):
    """Another intake (CLI, Airflow task, worker) holds this file's claim right now."""


CLAIM_NAMESPACE = 4242002  # advisory-lock namespace of the per-file claims


@dataclass
class _Attempt:
    """Everything one reading of a file produced, good or bad."""

    rn: ReturnName | None = None
    source: Source | None = None
    parsed: ParsedReturn | None = None
    report: ValidationReport | None = None
    problems: list[RowProblem] = field(default_factory=list)
    rejection: Rejection | None = None


@dataclass
class _Reading:
    """A claimed file handed to the reader child (`submitted`) or refused by its name; its answer not yet taken."""

    file_id: int
    name: str
    at: _Attempt
    period_end: dt.date | None
    reader: IsolatedReader | None  # None: nothing to read (the name was refused)

    def ready(self) -> bool:
        return self.reader is None or self.reader.ready()


def _start_read(file_id: int, name: str, data: FileData, key: bytes) -> _Reading:
    """Identify the file and hand it to the isolated child without waiting: the caller stores the
    files read before while the child reads this one. A bad name ends as a rejection, unread."""
    at = _Attempt()
    try:
        at.rn, at.source, period = _identify(name)
    except Rejection as exc:
        at.rejection = exc
        return _Reading(file_id, name, at, None, None)
    reader = shared_reader()
    reader.submit(data, at.rn.extension, at.source.code, key)
    return _Reading(file_id, name, at, period.end_date, reader)


def _finish_read(r: _Reading) -> _Pending:
    """Take the child's answer (waiting if need be) and check the title; a bad file ends as a rejection."""
    at = r.at
    if r.reader is None:
        return _Pending(r.file_id, r.name, at, None)
    assert at.rn is not None
    try:
        read = r.reader.collect()
        _check_title(read, at.rn)
    except Rejection as exc:
        at.rejection = exc
        at.problems = []
        return _Pending(r.file_id, r.name, at, None)
    at.parsed = read.parsed
    return _Pending(r.file_id, r.name, at, r.period_end)


def _conclude(at: _Attempt, report: ValidationReport) -> None:
    """Fold the suite's verdict into the attempt: a file-level failure rejects, row problems join the parser's."""
    at.report = report
    if report.rejection is not None:
        at.rejection = report.rejection
        at.problems = []
        return
    assert at.parsed is not None
    # a value that was written but cannot be read is reported as such, not also as "missing"
    unreadable = {(p.row_number, p.column) for p in at.parsed.problems}
    at.problems = at.parsed.problems + [
        p for p in report.problems if not (p.rule == "required" and (p.row_number, p.column) in unreadable)
    ]


def batch_files() -> int:
    """`PCTN_INTAKE_BATCH_FILES`: files read, then validated together (one GX run per source), default 1000.

    GX's cost per run is mostly fixed; on small files (tens of rows) a batch of 200 still paid
    about 2x the GX time per file of a batch of 1000, and the intake's own CPU was 30% higher
    (issue 11, R2's measurements). Memory stays bounded by `batch_rows`, not by this.
    """
    return settings().intake_batch_files


def batch_rows() -> int:
    """`PCTN_INTAKE_BATCH_ROWS`: a batch is validated as soon as its files hold this many rows (memory bound)."""
    return settings().intake_batch_rows


def _claim_key(file_id: int) -> tuple[int, int]:
    return (CLAIM_NAMESPACE, file_id % 2_147_483_647)


def _unclaim(conn: psycopg.Connection, file_id: int) -> None:
    with contextlib.suppress(psycopg.Error):  # a lost connection has released the claim already
        conn.execute("select pg_advisory_unlock(%s, %s)", _claim_key(file_id))


def _claim_and_fetch(
    conn: psycopg.Connection, file_id: int, *, wait: bool, force: bool
) -> tuple[bool, FileOutcome, bytes | None]:
    """Claim the file, then read its outcome and (if it is still to process) its sealed bytes: one round trip.

    The reads are statements after the claim's in one pipeline, each with its own snapshot,
    so they see what an intake that held the claim before committed. Returns (claimed, outcome
    as stored, sealed bytes or None when the file is not claimed or needs no processing).
    """
    with conn.pipeline() as pipe:
        if wait:
            conn.execute("select pg_advisory_lock(%s, %s)", _claim_key(file_id))
            claim = None
        else:
            claim = conn.execute("select pg_try_advisory_lock(%s, %s)", _claim_key(file_id))
        known = conn.execute(f"select {_OUTCOME_COLUMNS} from registry.files where file_id = %s", (file_id,))
        content = conn.execute(
            "select c.content from registry.files f join registry.file_contents c using (sha256)"
            " where f.file_id = %s and (f.status = 'received' or %s)",
            (file_id, force),
            binary=True,  # a bytea in text form comes as hex, twice the file, before it becomes bytes
        )
        pipe.sync()
        claimed = claim is None or bool(claim.fetchone()[0])  # type: ignore[index]
        row = known.fetchone()
        blob = content.fetchone()
    if not claimed:
        return False, FileOutcome(file_id, "", "received"), None
    if row is None:
        _unclaim(conn, file_id)
        raise LookupError(f"file_id {file_id} is not registered")
    return True, FileOutcome(*row), bytes(blob[0]) if blob is not None else None


@dataclass
class _Pending:
    """A claimed file that was read and waits for its batch's validation."""

    file_id: int
    name: str
    at: _Attempt
    period_end: dt.date | None


def process_file(
    conn: psycopg.Connection, file_id: int, out_dir: Path | None = None, *, force: bool = False, wait: bool = True
) -> FileOutcome:
    """Read, validate and load one registered file, exactly once; idempotent unless `force`.

    The file is claimed first (a session advisory lock on `file_id`): a second
    intake that reaches the same file waits (or, with `wait=False`, gets
    `FileBusy`) and then finds it done instead of reading it again. A claim dies
    with its connection, so a killed intake leaves the file `received` for the next run.
    A batch of one: `process_batch` does the same for many files.
    """
    outcomes, busy = _run_batch(conn, [file_id], out_dir, force=force, wait=wait)
    if busy:
        raise FileBusy(file_id)
    return outcomes[0]


def process_batch(
    conn: psycopg.Connection, file_ids: list[int], out_dir: Path | None = None, *, force: bool = False
) -> list[FileOutcome]:
    """`process_file` for many files at once: one GX run per source instead of one per file.

    Each file is claimed, read in the isolated child, then the batch's readable files are
    validated together (`validate_batch`) and each is stored in its own transaction, in
    the order given (so `_v2` supersedes a first version stored just before it, as in
    a serial intake): one bad file never holds back another. Files already processed
    come back with their outcome, untouched. Waits for files another intake holds.
    The outcomes are the final ones (a first version replaced later in the batch is `superseded`).
    """
    outcomes, _ = _run_batch(conn, file_ids, out_dir, force=force, wait=True)
    return final_outcomes(conn, [o.file_id for o in outcomes])


def _run_batch(
    conn: psycopg.Connection,
    file_ids: list[int],
    out_dir: Path | None,
    *,
    force: bool,
    wait: bool,
    done: Callable[[int], None] = lambda file_id: None,
) -> tuple[list[FileOutcome], list[int]]:
    """Claim, read, validate by batch, store one by one; return the outcomes and the files another intake held.

    Reading stops to validate and store what it holds every `PCTN_INTAKE_BATCH_FILES`
    files or `PCTN_INTAKE_BATCH_ROWS` rows, so memory stays bounded whatever the batch.
    The reader child reads the next files while a batch is stored (`_BatchRun`).
    """
    run = _BatchRun(conn, file_ids, out_dir, force=force, wait=wait, done=done)
    run.run()
    return [run.outcomes[f] for f in dict.fromkeys(file_ids) if f in run.outcomes], run.busy


class _BatchRun:
    """One `_run_batch`: the files in order, the one the reader child holds, those read and waiting.

    The child is kept busy: as soon as it answers for one file it is given the next (claimed
    first), and while a batch is stored one file at a time, each answer that is ready is taken
    (`ahead`, at most one batch of files and rows) and the next file handed over. So the reading
    of batch k+1 overlaps the storing of batch k; files are still validated and stored in the
    order given. Every file claimed is stored or unclaimed, whatever stops the run.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        file_ids: list[int],
        out_dir: Path | None,
        *,
        force: bool,
        wait: bool,
        done: Callable[[int], None],
    ) -> None:
        self.conn, self.out_dir, self.force, self.wait, self.done = conn, out_dir, force, wait, done
        self.files = iter(dict.fromkeys(file_ids))
        self.outcomes: dict[int, FileOutcome] = {}
        self.busy: list[int] = []
        self.pending: list[_Pending] = []  # read, waiting for their batch's validation and store
        self.ahead: list[_Pending] = []  # read while a batch was being stored: the next batch's first files
        self.reading: _Reading | None = None  # the file the reader child holds now
        self.key: bytes | None = None
        self.files_per_batch, self.rows_per_batch = batch_files(), batch_rows()  # read once, not per file

    def run(self) -> None:
        try:
            self.start_next()
            held_rows = 0
            while self.ahead or self.reading is not None:
                self.pending.append(self.ahead.pop(0) if self.ahead else self.take())
                held_rows += _rows_of(self.pending[-1:])
                if len(self.pending) >= self.files_per_batch or held_rows >= self.rows_per_batch:
                    self.flush()
                    held_rows = 0
            self.flush()
        finally:  # an error stopped the batch: the files not stored stay `received` for a retry
            for p in self.pending + self.ahead:
                _unclaim(self.conn, p.file_id)
            if self.reading is not None:
                if self.reading.reader is not None:
                    self.reading.reader.abandon()
                _unclaim(self.conn, self.reading.file_id)

    def start_next(self) -> None:
        """Claim the next file that needs processing and hand it to the reader (not waiting for it)."""
        while self.reading is None:
            file_id = next(self.files, None)
            if file_id is None:
                return
            claimed, current, sealed = _claim_and_fetch(self.conn, file_id, wait=self.wait, force=self.force)
            if not claimed:
                self.busy.append(file_id)
                continue
            try:
                if current.status != "received" and not self.force:
                    self.outcomes[file_id] = current
                    self.done(file_id)
                    _unclaim(self.conn, file_id)
                    continue
                self.key = self.key or pseudonym_key()  # no key, no processing: stop before touching anything
                assert sealed is not None
                # the bytes are owned by the FileData alone: sent to the child, then dropped (not held
                # while the answer comes back, nor through validation and storing: 0.2 GB for a 1M-row CSV)
                owned = FileData(unseal(sealed, self.key))
                del sealed
                self.reading = _start_read(file_id, current.file_name, owned, self.key)
                del owned
            except BaseException:
                _unclaim(self.conn, file_id)
                raise

    def take(self) -> _Pending:
        """The reader's answer for the file it holds; the next file goes to the reader at once."""
        assert self.reading is not None
        r, self.reading = self.reading, None
        try:
            p = _finish_read(r)
        except BaseException:
            _unclaim(self.conn, r.file_id)
            raise
        self.start_next()
        return p

    def flush(self) -> None:
        """Validate the pending files together, then store them one by one, reading ahead meanwhile."""
        readable = [p for p in self.pending if p.at.rejection is None and p.at.parsed is not None]
        items = [BatchItem(p.at.parsed.frame, p.at.source, p.period_end, p.at.parsed.written) for p in readable]  # type: ignore[arg-type, union-attr]
        for p, report in zip(readable, validate_batch(items), strict=True):
            _conclude(p.at, report)
        # rows this process holds: the batch not yet stored and the files read ahead. Reading ahead
        # stops at one batch's worth, so two large files are never both held here (h-mem: a 1M-row
        # answer is ~0.55 GB); the child may still hold the next one
        held_rows = _rows_of(self.pending) + _rows_of(self.ahead)
        while self.pending:
            p = self.pending[0]
            try:
                outcome, summary, feedback = _store(self.conn, p.file_id, p.name, p.at, release=True)
            except BaseException:
                _unclaim(self.conn, p.file_id)
                raise
            finally:
                self.pending.pop(0)
            held_rows -= _rows_of([p])
            _log_outcome(p.name, outcome)
            if self.out_dir is not None:
                export_file(self.out_dir, p.name, summary, feedback)
            self.outcomes[p.file_id] = outcome
            self.done(p.file_id)
            del p
            # the child read the next file while this one was stored: take it, hand it the one after
            if (
                self.reading is not None
                and self.reading.ready()
                and len(self.ahead) < self.files_per_batch
                and held_rows < self.rows_per_batch
            ):
                self.ahead.append(self.take())
                held_rows += _rows_of(self.ahead[-1:])


def _rows_of(held: list[_Pending]) -> int:
    return sum(len(p.at.parsed.frame) for p in held if p.at.parsed is not None)


def _log_outcome(name: str, outcome: FileOutcome) -> None:
    log.info(
        "%s: %s%s (read %d, loaded %d, quarantined %d, skipped %d)",
        name,
        outcome.status,
        f" {outcome.reject_code}: {outcome.reason_en}" if outcome.reject_code else "",
        outcome.rows_read,
        outcome.rows_loaded,
        outcome.rows_quarantined,
        outcome.rows_skipped,
    )


def _store(
    conn: psycopg.Connection, file_id: int, name: str, at: _Attempt, *, release: bool = False
) -> tuple[FileOutcome, FeedbackSummary, bytes]:
    """Write one attempt's outcome in one transaction: rows, problems, skipped rows, status, feedback.

    With `release`, the file's claim is released with the commit (same round trip); on an error
    the caller releases it.
    """
    rn, source, parsed, report, problems, rejection = at.rn, at.source, at.parsed, at.report, at.problems, at.rejection
    # a rejected file is not read as a return: none of its rows count as read
    accepted = rejection is None and parsed is not None
    skipped = list(parsed.skipped) if accepted and parsed is not None else []
    rows_read = parsed.rows_read if accepted and parsed is not None else 0
    quarantined = {p.row_number for p in problems if p.severity == "row"}
    flagged = {p.row_number for p in problems if p.severity == "warn"} - quarantined
    # Statements whose answers are not needed are sent in pipelines (one round trip per group,
    # in order, an error still aborting the transaction): on a busy machine each round trip
    # to the server costs more than the statement. COPY cannot run in a pipeline, so the groups
    # sit around the COPY of the rows. The transaction is opened and ended by statements inside
    # those groups (BEGIN with the locks, COMMIT with the feedback and the claim's release), not
    # by a round trip of its own each; any error rolls it back (`_rollback`).
    small = insertable(problems, skipped, report.outcomes if report is not None else ())
    try:
        with conn.pipeline():
            conn.execute("begin")
            if accepted and rn is not None:  # the return's lock first, then the row: apply_supersession's order
                return_lock(conn, rn.source, rn.unit_code, rn.period_code)
            conn.execute("select 1 from registry.files where file_id = %s for update", (file_id,))
            clear_file(conn, file_id, source)
        if accepted:
            assert parsed is not None and source is not None and rn is not None and report is not None
            row_numbers = parsed.frame["row_number"].tolist()
            keep = [i for i, n in enumerate(row_numbers) if n not in quarantined]
            loaded = copy_raw(conn, file_id, parsed, source, keep)
            status = "loaded"
        else:
            loaded = 0
            status = "rejected"

        def write_audit() -> None:
            if accepted:
                assert parsed is not None and report is not None
                write_problems(conn, file_id, problems, parsed)
                write_skipped(conn, file_id, skipped)
            if report is not None:
                write_validation(conn, file_id, report)

        if not small:  # some of them COPY: before the pipeline
            write_audit()
        with conn.pipeline():  # audit rows, status, supersession and the final read: one round trip
            if small:
                write_audit()
            conn.execute(
                """
                update registry.files set source = %s, unit_code = %s, period_code = %s, version = %s,
                    status = %s, processed_at = now(), rows_read = %s, rows_loaded = %s,
                    rows_quarantined = %s, rows_flagged = %s, rows_skipped = %s, reject_code = %s,
                    reject_reason_vi = %s, reject_reason_en = %s, superseded_by = null,
                    process_count = process_count + 1
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
                    len(skipped),
                    rejection.code if rejection else None,
                    rejection.reason_vi if rejection else None,
                    rejection.reason_en if rejection else None,
                    file_id,
                ),
            )
            if accepted and rn is not None:
                apply_supersession(conn, rn.source, rn.unit_code, rn.period_code)
            # the outcome and the receipt time in one read (after supersession, which may change the status)
            row = conn.execute(
                f"select {_OUTCOME_COLUMNS}, received_at from registry.files where file_id = %s", (file_id,)
            ).fetchone()
        assert row is not None
        outcome, received_at = FileOutcome(*row[:-1]), row[-1]
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
            received_at=received_at,
            rows_skipped=outcome.rows_skipped,
        )
        feedback = build_feedback(summary, problems, skipped)
        with conn.pipeline():  # the feedback, the commit and the claim's release: one round trip
            conn.execute(
                "insert into audit.feedback_files (file_id, file_name, kind, content, sha256)"
                " values (%s, %s, %s, %s, %s)",
                (file_id, feedback_file_name(name), feedback_kind(summary, problems), feedback, sha256_of(feedback)),
            )
            conn.execute("commit")
            if release:
                conn.execute("select pg_advisory_unlock(%s, %s)", _claim_key(file_id))
    except BaseException:
        _rollback(conn)
        raise
    return outcome, summary, feedback


def _rollback(conn: psycopg.Connection) -> None:
    """End a failed `_store`'s transaction (nothing of it stays); a lost connection has ended it already."""
    with contextlib.suppress(psycopg.Error):
        conn.rollback()


def export_file(out_dir: Path, name: str, summary: FeedbackSummary, feedback: bytes) -> None:
    """Human-facing files: the feedback workbook, and a report beside each rejection.

    Originals are never copied out in clear (returns hold names of accused
    persons): they stay sealed in `registry.file_contents`, and `python -m
    ingestion unseal FILE_ID --to DIR` writes one back on an operator's request.
    """
    if summary.status == "rejected":
        target = rejection_report_path(out_dir, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rejection_report(summary), encoding="utf-8")
    fb = feedback_path(out_dir, name)
    fb.parent.mkdir(parents=True, exist_ok=True)
    fb.write_bytes(feedback)


def _worker_process(url: str, file_ids: list[int], out_dir: Path | None) -> list[tuple[int, bool]]:
    """Process one batch (whole returns, versions in order) in a worker process with its own connection.

    Returns (file_id, processed); False when another intake holds the file.
    """
    conn = _WORKER_CONN.get(url)
    if conn is None or conn.closed:
        conn = _WORKER_CONN[url] = psycopg.connect(url, autocommit=True)
    _, busy = _run_batch(conn, file_ids, out_dir, force=False, wait=False)
    held = set(busy)
    return [(file_id, file_id not in held) for file_id in dict.fromkeys(file_ids)]


def batches(groups: list[list[int]], size: int) -> list[list[int]]:
    """Pack whole returns (each a list of file_ids in version order) into batches of about `size` files.

    A return is never split across batches, so its versions are stored in order by one process.
    """
    out: list[list[int]] = []
    for group in groups:
        if not out or (len(out[-1]) + len(group) > size and out[-1]):
            out.append([])
        out[-1].extend(group)
    return out


def plan_batches(files: Iterable[tuple[int, str]], size: int) -> list[list[int]]:
    """The batches an intake processes `files` (file_id, file name) in: the one plan of the CLI and the DAG.

    Files are grouped by the return their names claim (`<source>_<unit>_<period>[_vN]`),
    each group in version order, so `_v2` always supersedes a first version that is
    already stored, as in a serial intake (and the first version's feedback says the same
    either way). A batch holds one source (GX runs once per source and batch) and whole
    returns, about `size` files; sources in name order, returns in the order offered. A name
    that does not parse is a return of its own (it will be rejected, alone or beside others).
    """
    groups: dict[object, list[tuple[int, int, int]]] = {}
    for n, (file_id, name) in enumerate(files):
        try:
            rn = parse_file_name(Path(name).name)
            key: object = (rn.source, rn.unit_code, rn.period_code)
            version = rn.version or 1
        except Rejection:
            key, version = ("", file_id), 1
        groups.setdefault(key, []).append((version, n, file_id))
    by_source: dict[str, list[list[int]]] = {}
    for key, members in groups.items():
        source = str(key[0]) if isinstance(key, tuple) else ""
        by_source.setdefault(source, []).append([file_id for _, _, file_id in sorted(members)])
    return [batch for source in sorted(by_source) for batch in batches(by_source[source], size)]


_WORKER_CONN: dict[str, psycopg.Connection] = {}
PARALLEL_MIN_FILES = 8


def default_workers() -> int:
    """`PCTN_INTAKE_WORKERS`, else one per core (at most 4): validation is CPU-bound."""
    return settings().intake_workers


def _process_all(
    conn: psycopg.Connection,
    url: str,
    file_ids: list[int],
    out_dir: Path | None,
    workers: int,
    done: Callable[[int], None] = lambda file_id: None,
) -> list[int]:
    """Process the files, calling `done` as each ends; return those another intake held (to wait for)."""
    busy: list[int] = []
    if workers <= 1 or len(file_ids) < PARALLEL_MIN_FILES:
        _, busy = _run_batch(conn, file_ids, out_dir, force=False, wait=False, done=done)
        return busy
    # spawn, not fork: the parent may hold connections and threads a fork would copy
    context = multiprocessing.get_context("spawn")
    # batches small enough that every worker gets some, large enough to pay GX's fixed cost rarely
    size = min(batch_files(), max(1, -(-len(file_ids) // workers)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        names = conn.execute(
            "select file_id, file_name from registry.files where file_id = any(%s)", (file_ids,)
        ).fetchall()
        order = {file_id: i for i, file_id in enumerate(file_ids)}
        plan = plan_batches(sorted(names, key=lambda row: order[row[0]]), size)
        futures = [pool.submit(_worker_process, url, b, out_dir) for b in plan]
        for future in as_completed(futures):
            for file_id, processed in future.result():
                if processed:
                    done(file_id)
                else:
                    busy.append(file_id)
    return busy


def run_intake(
    url: str,
    inbox: Path,
    out_dir: Path | None = None,
    paths: Iterable[Path] | None = None,
    workers: int | None = None,
    *,
    on_start: Callable[[int], None] | None = None,
    on_outcome: Callable[[FileOutcome], None] | None = None,
) -> list[FileOutcome]:
    """Register every file in the inbox, process the new ones, return one outcome per file offered.

    Registration is sequential (it decides what is new); processing runs in
    `workers` processes, since each file is independent and its own transaction.
    Entries that are not regular files (links, sockets, dot-files, oversized
    files) are not read: each gets a `not_read` receipt (see `not_read_entries`).
    `on_start(n)` is called once with the number of files offered, `on_outcome` once
    per file when its processing ends (duplicates included): the CLI's progress.
    """
    slots: list[FileOutcome | int] = []
    pending: list[int] = []
    seen: set[int] = set()
    with psycopg.connect(url, autocommit=True) as conn:
        if paths is None:
            entries = [(e.path, e.relative) for e in open_inbox(conn, inbox).files]
        else:
            ensure_schema(conn)
            entries = [(p, entry_name(inbox, p)) for p in paths]
        if on_start is not None:
            on_start(len(entries))
        registered, _ = register_entries(conn, entries)
        for relative, registration in registered:
            if is_duplicate(registration, seen):
                slots.append(duplicate_outcome(_existing_outcome(conn, registration.file_id), relative))
                if on_outcome is not None:
                    on_outcome(slots[-1])  # type: ignore[arg-type]
                continue
            pending.append(registration.file_id)
            seen.add(registration.file_id)
            slots.append(registration.file_id)

        def done(file_id: int) -> None:
            if on_outcome is not None:
                on_outcome(_existing_outcome(conn, file_id))

        busy = _process_all(conn, url, pending, out_dir, default_workers() if workers is None else workers, done)
        for file_id in busy:  # another intake claimed them first: wait for it, never read them twice
            process_file(conn, file_id, out_dir, wait=True)
            done(file_id)
        # final states: a later file of this run may have superseded an earlier one
        final = iter(final_outcomes(conn, [s for s in slots if isinstance(s, int)]))
        return [next(final) if isinstance(s, int) else s for s in slots]


def open_inbox(conn: psycopg.Connection, inbox: Path) -> InboxSurvey:
    """The inbox's entries to read, after a `not_read` receipt for each entry that is not (links, dot-files...)."""
    ensure_schema(conn)
    survey = survey_inbox(inbox)
    record_not_read(conn, survey.not_read)
    return survey


def unprocessed(conn: psycopg.Connection, entries: Iterable[InboxEntry]) -> list[InboxEntry]:
    """The entries whose file (these bytes under this name) is not processed yet.

    A file that stays in the inbox after it was processed is thus not offered again (the
    DAG's scan every 15 minutes would only add `duplicate` receipts).
    """
    limit = ReaderLimits.from_env().max_file_bytes
    return [e for e in entries if not is_processed(conn, sha256_of(read_regular_file(e.path, limit)), e.path.name)]


def entry_name(inbox: Path, path: Path) -> str:
    """How a file is named in receipts: its path in the inbox, or its name when it lies elsewhere."""
    return str(path.relative_to(inbox)) if path.is_relative_to(inbox) else path.name


def register_entries(
    conn: psycopg.Connection, entries: Iterable[tuple[Path, str]]
) -> tuple[list[tuple[str, Registration]], list[NotRead]]:
    """Register each (path, name in the inbox) in order; one swapped for a link or removed since the listing
    gets a `not_read` receipt instead (and is returned as such), never failing the others."""
    registered: list[tuple[str, Registration]] = []
    vanished: list[NotRead] = []
    held: list[tuple[str, Offer]] = []
    held_bytes = 0

    def flush() -> None:
        nonlocal held_bytes
        for (relative, _), registration in zip(held, register_offers(conn, [o for _, o in held]), strict=True):
            registered.append((relative, registration))
        held.clear()
        held_bytes = 0

    # read in order and registered a few hundred at a time (`register_offers`: one round trip
    # for all, where one file at a time cost ~1.4 ms of waiting each: 3 minutes for the decade)
    for path, relative in entries:
        try:
            held.append((relative, read_offer(path, relative)))
        except (UnsafeEntry, OSError) as exc:
            vanished.append(vanished_entry(relative, exc))
            record_not_read(conn, vanished[-1:])
            continue
        held_bytes += len(held[-1][1].data)
        if len(held) >= REGISTER_BATCH_FILES or held_bytes >= REGISTER_BATCH_BYTES:
            flush()
    flush()
    return registered, vanished


def is_duplicate(registration: Registration, earlier: Container[int] = ()) -> bool:
    """A file offered again: registered before with a final status, or among `earlier` (file_ids of this run).

    Its outcome is `duplicate`: it is not read again, and its rows are not this run's.
    """
    return registration.file_id in earlier or (not registration.is_new and registration.status != "received")


def duplicate_outcome(known: FileOutcome, file_name: str) -> FileOutcome:
    """The outcome of a duplicate offer of `known`'s file under `file_name`: what it is, no rows of its own."""
    return FileOutcome(
        file_id=known.file_id,
        file_name=file_name,
        status="duplicate",
        source=known.source,
        unit_code=known.unit_code,
        period_code=known.period_code,
        version=known.version,
    )


def vanished_entry(relative: str, exc: Exception) -> NotRead:
    return NotRead(
        relative,
        Code.CHANGED,
        "Mục này đã đổi (thành liên kết, bị xoá hoặc thay) trong lúc đọc: không đọc",
        f"The entry changed (into a link, removed or replaced) while being read: not read ({type(exc).__name__})",
    )


def not_read_entries(inbox: Path) -> list[tuple[str, str, str]]:
    """The entries of the inbox as it is now that the intake does not read: (path, code, reason in English)."""
    survey = survey_inbox(inbox)
    return [(e.relative, e.code, e.reason_en) for e in survey.not_read]
