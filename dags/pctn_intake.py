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

import _common as c
from airflow.sdk import dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException


def _registrations(batches: list[list[dict]] | None) -> list:
    """The registrations of a run's batches, as the pipeline's `Registration` (None: nothing was registered)."""
    from ingestion.intake.pipeline import Registration

    return [Registration(**r) for batch in batches or [] for r in batch]


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
        from ingestion.intake.pipeline import batch_files, open_inbox, unprocessed
        from ingestion.platform.warehouse import connect

        inbox = c.inbox_dir()
        with connect(c.warehouse_url(), autocommit=True) as conn:
            survey = open_inbox(conn, inbox)
            pending = [str(e.path) for e in unprocessed(conn, survey.files)]
        for e in survey.not_read:
            print(f"not read: {e.relative}: {e.code}: {e.reason_en}")
        print(f"{len(survey.files)} file(s) in {inbox}, {len(pending)} to process, {len(survey.not_read)} not read")
        size = batch_files()
        return [pending[i : i + size] for i in range(0, len(pending), size)]

    @task(map_index_template="{{ batch_label }}")
    def register(paths: list[str]) -> list[dict]:
        """Store the bytes in the warehouse; from here on each file is known by `file_id`.

        A file swapped for a link or removed since `scan_inbox` listed it gets a `not_read`
        receipt, as in `make run`, instead of failing its whole batch.
        """
        import dataclasses
        from pathlib import Path

        from ingestion.intake.pipeline import entry_name, register_entries
        from ingestion.intake.runs import batch_label
        from ingestion.platform.warehouse import connect

        get_current_context()["batch_label"] = batch_label([Path(p).name for p in paths])
        inbox = c.inbox_dir()
        with connect(c.warehouse_url(), autocommit=True) as conn:
            registered, vanished = register_entries(conn, [(Path(p), entry_name(inbox, Path(p))) for p in paths])
        for entry in vanished:
            print(f"not read: {entry.relative}: changed since the listing ({entry.reason_en})")
        return [dataclasses.asdict(reg) for _, reg in registered]

    @task
    def distinct_files(registrations: list[list[dict]]) -> list[list[dict]]:
        """One entry per `file_id` (a resend in the same run is processed once), packed into batches.

        Two tasks on one file would race on its rows; the later offer only leaves its
        receipt, as in `make run`. Batches are the pipeline's (`plan_batches`): one source
        each and whole returns, in version order, so a correction is stored after the
        version it replaces.
        """
        from ingestion.intake.pipeline import batch_files, plan_batches

        first: dict[int, dict] = {}
        for reg in (r for batch in registrations for r in batch):
            if reg["file_id"] in first:
                print(f"{reg['file_name']}: duplicate of file_id {reg['file_id']} in this run")
                continue
            first[reg["file_id"]] = reg  # a file processed before stays: `process` finds it done, untouched
        plan = plan_batches([(f, r["file_name"]) for f, r in first.items()], batch_files())
        batches = [[first[file_id] for file_id in batch] for batch in plan]
        print(f"{len(first)} file(s) to process in {len(batches)} batch(es)")
        return batches

    @task(map_index_template="{{ batch_label }}")
    def process(batch: list[dict]) -> list[dict]:
        """Read (isolated) → validate (one GX run per source) → load each file of the batch, or reject it.

        Files come back from the warehouse by `file_id`. Each rejection is logged with its
        reason in Vietnamese and English and where the feedback file is; a batch whose files
        were all rejected ends as *skipped* (pink in the grid, not green).
        """
        from ingestion.intake.pipeline import process_batch
        from ingestion.intake.runs import all_rejected, batch_label, mark_duplicates, outcome_lines
        from ingestion.platform.warehouse import connect

        get_current_context()["batch_label"] = batch_label([r["file_name"] for r in batch])
        registrations = _registrations([batch])
        out = c.output_dir()
        with connect(c.warehouse_url(), autocommit=True) as conn:
            outcomes = mark_duplicates(registrations, process_batch(conn, [r.file_id for r in registrations], out))
        sha256 = {r.file_id: r.sha256 for r in registrations}
        for outcome in outcomes:
            print("\n".join(outcome_lines(outcome, out)))
        reason = all_rejected(outcomes, out)
        if reason:
            raise AirflowSkipException(reason)
        return [{**o.as_dict(), "sha256": sha256[o.file_id]} for o in outcomes]

    @task(outlets=[c.RAW_LOADED_ALIAS], trigger_rule="all_done")
    def publish(batches: list[list[dict]], *, outlet_events=None) -> dict:
        """The run's summary (this task's log and XCom); an Asset event for each source that loaded rows.

        Outcomes are read back from `registry.files`, not from the `process` XComs, so
        rejected (skipped) and failed files count too. Only the sources whose files
        loaded rows get an event (through the alias `pctn.raw.loaded`): the models
        DAG, scheduled on each raw Asset, wakes up for what changed only.
        """
        from ingestion.intake.runs import format_run_summary, run_summary
        from ingestion.platform.warehouse import connect

        registrations = _registrations(batches)
        if not registrations:
            raise AirflowSkipException("no file in this run / không có tệp mới")
        with connect(c.warehouse_url(), autocommit=True) as conn:
            summary = run_summary(conn, registrations)
        print(format_run_summary(summary))
        for source, rows in sorted(summary["rows_loaded_by_source"].items()):
            if rows > 0:
                outlet_events[c.RAW_LOADED_ALIAS].add(c.RAW_ASSETS[source], extra={"rows_loaded": rows})
        return summary

    @task(outlets=[c.REGISTRY_ASSET], trigger_rule="all_done")
    def publish_registry(batches: list[list[dict]]) -> int:
        """Emit the registry Asset when any file got a new status (a rejection changes the data-quality mart)."""
        from ingestion.intake.runs import run_summary, status_changes
        from ingestion.platform.warehouse import connect

        registrations = _registrations(batches)
        if not registrations:
            raise AirflowSkipException("no file changed status: downstream models not triggered")
        with connect(c.warehouse_url(), autocommit=True) as conn:
            changed = status_changes(run_summary(conn, registrations))
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
