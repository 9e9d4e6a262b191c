"""
### Intake: returns from the inbox into `raw` (*tiếp nhận báo cáo*)

Every 15 minutes: list the inbox (files not yet processed), then **one mapped
task per file**:

1. `register` stores the file's bytes in `registry.file_contents` and gives it a
   `file_id` (same bytes under the same name = one file, processed once even if
   offered twice). Only `scan_inbox` and this task need to see the inbox.
2. `process` reads the bytes back **from the warehouse** by `file_id`, reads,
   validates (GX), loads `raw` in one transaction, and archives or rejects the
   file. It may run on any worker.

A bad file is an *outcome* (`rejected`, with its reason in `registry.files`),
not a task failure, so it never blocks the other files: its `process` task
ends **skipped** (pink in the grid) and its log gives the reason in Vietnamese
and English and the feedback file's path. A transient error (warehouse
unreachable) fails only that file's task, which is retried with back-off and
redoes only that file. `publish` logs the run's summary (files by status, rows
loaded/quarantined per source, rejections by reason; also its XCom) and emits
an Asset event **only for the sources that loaded rows**; `publish_registry`
emits the registry Asset when any file got a status (a rejection too): either
schedules `pctn_models`.

Rerunning a run is safe: a file already processed comes back as `duplicate`
or keeps its status, and nothing is loaded twice.
"""

from __future__ import annotations

from pathlib import Path

import _common as c
from airflow.sdk import dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

# The file (its bytes under its name: the registry's identity) is known and processed.
DONE_SQL = "select 1 from registry.files where sha256 = %s and file_name = %s and status <> 'received'"


@dag(
    dag_id="pctn_intake",
    schedule=c.INTAKE_CRON,
    start_date=c.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=c.default_args(),
    tags=["pctn", "intake"],
    doc_md=__doc__,
)
def pctn_intake():
    @task
    def scan_inbox() -> list[str]:
        """Regular files in the inbox not yet fully processed (paths as text: XCom carries keys, not objects).

        Links, special files and dot-files are never read: each gets a `not_read` receipt.
        A file that sits in the inbox after it was processed is not offered again on the
        next run (that would only add `duplicate` receipts every 15 minutes).
        """
        from ingestion.inbox import read_regular_file, record_not_read, survey_inbox
        from ingestion.readers.limits import ReaderLimits
        from ingestion.registry import sha256_of
        from ingestion.schema import ensure_schema
        from ingestion.warehouse import connect

        inbox = c.inbox_dir()
        survey = survey_inbox(inbox)
        limit = ReaderLimits.from_env().max_file_bytes
        with connect(c.warehouse_url(), autocommit=True) as conn:
            ensure_schema(conn)
            record_not_read(conn, survey.not_read)
            pending = [
                str(e.path)
                for e in survey.files
                if not conn.execute(DONE_SQL, (sha256_of(read_regular_file(e.path, limit)), e.path.name)).fetchone()
            ]
        for e in survey.not_read:
            print(f"not read: {e.relative}: {e.code}: {e.reason_en}")
        print(f"{len(survey.files)} file(s) in {inbox}, {len(pending)} to process, {len(survey.not_read)} not read")
        return pending

    @task(map_index_template="{{ file_name }}")
    def register(path: str) -> dict:
        """Store the bytes in the warehouse; from here on the file is known by `file_id`."""
        from ingestion.pipeline import register_file
        from ingestion.warehouse import connect

        get_current_context()["file_name"] = Path(path).name
        inbox = c.inbox_dir()
        relative = str(Path(path).relative_to(inbox)) if Path(path).is_relative_to(inbox) else Path(path).name
        with connect(c.warehouse_url(), autocommit=True) as conn:
            reg = register_file(conn, Path(path), relative)
        return {"file_id": reg.file_id, "sha256": reg.sha256, "file_name": reg.file_name,
                "is_new": reg.is_new, "registered_status": reg.status}  # fmt: skip

    @task
    def distinct_files(registrations: list[dict]) -> list[dict]:
        """One entry per `file_id`: the same file offered twice in a run (a resend) is processed once.

        Two `process` tasks on one file would race on its rows; the later offer only
        leaves its receipt, as in `make run`.
        """
        first: dict[int, dict] = {}
        for reg in registrations:
            if reg["file_id"] in first:
                print(f"{reg['file_name']}: duplicate of file_id {reg['file_id']} in this run")
                continue
            first[reg["file_id"]] = reg
        return list(first.values())

    @task(map_index_template="{{ file_name }}")
    def process(registration: dict) -> dict:
        """Read (isolated) → validate → load, or reject, one registered file (bytes from the warehouse).

        A rejected file ends the task as *skipped* (pink in the grid, not green): the log
        gives the reason in Vietnamese and English and where the feedback file is.
        """
        from ingestion.feedback import feedback_file_name
        from ingestion.pipeline import process_file
        from ingestion.warehouse import connect

        get_current_context()["file_name"] = registration["file_name"]
        with connect(c.warehouse_url(), autocommit=True) as conn:
            outcome = process_file(conn, registration["file_id"], c.output_dir())
        result = {**c.outcome_dict(outcome), "sha256": registration["sha256"]}
        if not registration["is_new"] and registration["registered_status"] != "received":
            result["status"] = "duplicate"  # same bytes as a file processed before (as `make run` says)
        if result["status"] == "rejected":
            out = c.output_dir()
            feedback = out / "feedback" / feedback_file_name(result["file_name"])
            report = out / "rejected" / f"{result['file_name']}.report.txt"
            print(f"TỪ CHỐI / REJECTED {result['file_name']} (file_id {result['file_id']}): {result['reject_code']}")
            print(f"  Lý do: {result['reason_vi']}")
            print(f"  Reason: {result['reason_en']}")
            print(f"  Phản hồi / feedback: {feedback} (also audit.feedback_files); report: {report}")
            raise AirflowSkipException(
                f"rejected / từ chối: {result['reject_code']}: {result['reason_en']} / {result['reason_vi']}"
                f" — feedback: {feedback}"
            )
        print(
            f"{result['file_name']}: {result['status']} (rows read {result['rows_read']}, loaded"
            f" {result['rows_loaded']}, quarantined {result['rows_quarantined']}, flagged {result['rows_flagged']})"
        )
        return result

    @task(outlets=[c.RAW_LOADED_ALIAS], trigger_rule="all_done")
    def publish(registrations: list[dict], *, outlet_events=None) -> dict:
        """The run's summary (this task's log and XCom); an Asset event for each source that loaded rows.

        Outcomes are read back from `registry.files`, not from the `process` XComs, so
        rejected (skipped) and failed files count too. Only the sources whose files
        loaded rows get an event (through the alias `pctn.raw.loaded`): the models
        DAG, scheduled on each raw Asset, wakes up for what changed only.
        """
        from ingestion.warehouse import connect

        if not registrations:
            raise AirflowSkipException("no file in this run / không có tệp mới")
        with connect(c.warehouse_url(), autocommit=True) as conn:
            summary = c.run_summary(conn, registrations)
        print(c.format_run_summary(summary))
        for source, rows in sorted(summary["rows_loaded_by_source"].items()):
            if rows > 0:
                outlet_events[c.RAW_LOADED_ALIAS].add(c.RAW_ASSETS[source], extra={"rows_loaded": rows})
        return summary

    @task(outlets=[c.REGISTRY_ASSET], trigger_rule="all_done")
    def publish_registry(registrations: list[dict]) -> int:
        """Emit the registry Asset when any file got a new status (a rejection changes the data-quality mart)."""
        from ingestion.warehouse import connect

        if not registrations:
            raise AirflowSkipException("no file changed status: downstream models not triggered")
        with connect(c.warehouse_url(), autocommit=True) as conn:
            summary = c.run_summary(conn, registrations)
        changed = sum(n for status, n in summary["files_by_status"].items() if status not in ("duplicate", "received"))
        if not changed:
            raise AirflowSkipException("no file changed status: downstream models not triggered")
        return changed

    @task(trigger_rule="one_failed")
    def fail_run() -> None:
        """Keeps the run red when a file's task failed, although `publish` ran for the others."""
        raise AirflowFailException("at least one file's task failed: see its log; other files were processed")

    files = distinct_files(register.expand(path=scan_inbox()))
    outcomes = process.expand(registration=files)
    outcomes >> [publish(files), publish_registry(files)]
    outcomes >> fail_run()


pctn_intake()
