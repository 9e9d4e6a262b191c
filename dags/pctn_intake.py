"""
### Intake: returns from the inbox into `raw` (*tiếp nhận báo cáo*)

Every 15 minutes: list the inbox (files not yet processed), then **one mapped
task per batch** of files (`PCTN_INTAKE_BATCH_FILES`, default 1000), never one per
file: a national inbox holds 15,000–20,000 files a year, far beyond Airflow's
`max_map_length` (1,024), and each task pays GX's fixed cost once per source, not
once per file.

1. `register` stores each file's bytes in `registry.file_contents` and gives it a
   `file_id` (same bytes under the same name = one file, processed once even if
   offered twice). Only `scan_inbox` and this task need to see the inbox.
2. `distinct_files` drops a file offered twice and packs the rest into batches of
   one source, whole returns together (a correction `_v2` after its first version).
   Batches are lists of `file_id`s (keys, through XCom): no path travels further.
3. `process` reads the batch's bytes back **from the warehouse** by `file_id`, reads
   each file (isolated), validates the batch with one GX run per source, and stores
   each file in its own transaction, or rejects it. It may run on any worker.

A bad file is an *outcome* (`rejected`, with its reason in `registry.files`),
not a task failure, so it never blocks the other files: the batch's log gives the
reason of each rejection in Vietnamese and English and the feedback file's path,
and a batch whose files were all rejected ends **skipped** (pink in the grid; a
batch of one file is named after it). A transient error (warehouse unreachable)
fails that batch's task, which is retried with back-off and redoes only its files
not yet stored. `publish` logs the run's summary (files by status, rows
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
def pctn_intake():  # noqa: C901  -- the DAG body: mccabe adds up its nested tasks, each small
    @task
    def scan_inbox() -> list[list[str]]:
        """Regular files in the inbox not yet fully processed, in batches (paths as text: XCom carries keys).

        Links, special files and dot-files are never read: each gets a `not_read` receipt.
        A file that sits in the inbox after it was processed is not offered again on the
        next run (that would only add `duplicate` receipts every 15 minutes).
        """
        from ingestion.intake.inbox import read_regular_file, record_not_read, survey_inbox
        from ingestion.intake.readers.limits import ReaderLimits
        from ingestion.intake.registry import sha256_of
        from ingestion.intake.schema import ensure_schema
        from ingestion.platform.warehouse import connect

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
        size = c.intake_batch_files()
        return [pending[i : i + size] for i in range(0, len(pending), size)]

    @task(map_index_template="{{ batch_label }}")
    def register(paths: list[str]) -> list[dict]:
        """Store the bytes in the warehouse; from here on each file is known by `file_id`.

        A file swapped for a link or removed since `scan_inbox` listed it gets a `not_read`
        receipt, as in `make run`, instead of failing its whole batch.
        """
        from ingestion.intake.inbox import UnsafeEntry, record_not_read
        from ingestion.intake.pipeline import register_file, vanished_entry
        from ingestion.platform.warehouse import connect

        get_current_context()["batch_label"] = c.batch_label([Path(p).name for p in paths])
        inbox = c.inbox_dir()
        out = []
        with connect(c.warehouse_url(), autocommit=True) as conn:
            for path in map(Path, paths):
                relative = str(path.relative_to(inbox)) if path.is_relative_to(inbox) else path.name
                try:
                    reg = register_file(conn, path, relative)
                except (UnsafeEntry, OSError) as exc:
                    record_not_read(conn, [vanished_entry(relative, exc)])
                    print(f"not read: {relative}: changed since the listing ({type(exc).__name__})")
                    continue
                out.append({"file_id": reg.file_id, "sha256": reg.sha256, "file_name": reg.file_name,
                            "is_new": reg.is_new, "registered_status": reg.status})  # fmt: skip
        return out

    @task
    def distinct_files(registrations: list[list[dict]]) -> list[list[dict]]:
        """One entry per `file_id` (a resend in the same run is processed once), packed into batches.

        Two tasks on one file would race on its rows; the later offer only leaves its
        receipt, as in `make run`. Batches hold one source each and whole returns, in
        version order, so a correction is stored after the version it replaces.
        """
        first: dict[int, dict] = {}
        for reg in (r for batch in registrations for r in batch):
            if reg["file_id"] in first:
                print(f"{reg['file_name']}: duplicate of file_id {reg['file_id']} in this run")
                continue
            first[reg["file_id"]] = reg
        batches = c.intake_batches(list(first.values()), c.intake_batch_files())
        print(f"{len(first)} file(s) to process in {len(batches)} batch(es)")
        return batches

    @task(map_index_template="{{ batch_label }}")
    def process(batch: list[dict]) -> list[dict]:
        """Read (isolated) → validate (one GX run per source) → load each file of the batch, or reject it.

        Files come back from the warehouse by `file_id`. Each rejection is logged with its
        reason in Vietnamese and English and where the feedback file is; a batch whose files
        were all rejected ends as *skipped* (pink in the grid, not green).
        """
        from ingestion.intake.feedback import feedback_file_name
        from ingestion.intake.pipeline import process_batch
        from ingestion.platform.warehouse import connect

        get_current_context()["batch_label"] = c.batch_label([r["file_name"] for r in batch])
        with connect(c.warehouse_url(), autocommit=True) as conn:
            outcomes = process_batch(conn, [r["file_id"] for r in batch], c.output_dir())
        by_id = {r["file_id"]: r for r in batch}
        results = []
        out = c.output_dir()
        for outcome in outcomes:
            registration = by_id[outcome.file_id]
            result = {**c.outcome_dict(outcome), "sha256": registration["sha256"]}
            if not registration["is_new"] and registration["registered_status"] != "received":
                result["status"] = "duplicate"  # same bytes as a file processed before (as `make run` says)
            results.append(result)
            if result["status"] == "rejected":
                feedback = out / "feedback" / feedback_file_name(result["file_name"])
                report = out / "rejected" / f"{result['file_name']}.report.txt"
                print(
                    f"TỪ CHỐI / REJECTED {result['file_name']} (file_id {result['file_id']}): {result['reject_code']}"
                )
                print(f"  Lý do: {result['reason_vi']}")
                print(f"  Reason: {result['reason_en']}")
                print(f"  Phản hồi / feedback: {feedback} (also audit.feedback_files); report: {report}")
            else:
                print(
                    f"{result['file_name']}: {result['status']} (rows read {result['rows_read']}, loaded"
                    f" {result['rows_loaded']}, quarantined {result['rows_quarantined']},"
                    f" flagged {result['rows_flagged']})"
                )
        rejected = [r for r in results if r["status"] == "rejected"]
        if results and len(rejected) == len(results):
            first = rejected[0]
            raise AirflowSkipException(
                f"{len(rejected)} file(s) rejected / từ chối, e.g. {first['file_name']}: {first['reject_code']}:"
                f" {first['reason_en']} / {first['reason_vi']}"
                f" — feedback: {out / 'feedback' / feedback_file_name(first['file_name'])}"
            )
        return results

    @task(outlets=[c.RAW_LOADED_ALIAS], trigger_rule="all_done")
    def publish(batches: list[list[dict]], *, outlet_events=None) -> dict:
        """The run's summary (this task's log and XCom); an Asset event for each source that loaded rows.

        Outcomes are read back from `registry.files`, not from the `process` XComs, so
        rejected (skipped) and failed files count too. Only the sources whose files
        loaded rows get an event (through the alias `pctn.raw.loaded`): the models
        DAG, scheduled on each raw Asset, wakes up for what changed only.
        """
        from ingestion.platform.warehouse import connect

        registrations = [r for batch in batches or [] for r in batch]  # None: nothing was registered
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
    def publish_registry(batches: list[list[dict]]) -> int:
        """Emit the registry Asset when any file got a new status (a rejection changes the data-quality mart)."""
        from ingestion.platform.warehouse import connect

        registrations = [r for batch in batches or [] for r in batch]  # None: nothing was registered
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
        raise AirflowFailException("at least one batch's task failed: see its log; other batches were processed")

    files = distinct_files(register.expand(paths=scan_inbox()))
    outcomes = process.expand(batch=files)
    outcomes >> [publish(files), publish_registry(files)]
    outcomes >> fail_run()


pctn_intake()
