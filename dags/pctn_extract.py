"""
### Extract: the Inspectorate's indicator extract for each period (*trích xuất số liệu*)

On the reporting calendar: the morning after each deadline (21 March, June,
September, December, 07:00 Asia/Ho_Chi_Minh), for every period due on the last
deadline before the run (e.g. on 21/06 both `YYYY-Q2` and `YYYY-6M`):

1. `reportable_periods` makes sure the marts judge returns (due, late, missing)
   on the run's date (dbt var `as_of_date`; it rebuilds `int_return_submissions`
   and downstream when they were built on another day), as `pctn_missing_returns`
   does, so the extract's data-quality sheets and the chase list agree; and keeps
   only the periods with at least one loaded return (the others are logged with
   the reason and never built);
2. `build` builds the extract from the marts and stores its files in
   `delivery.extract_files`, returning its `extract_id`;
3. `deliver` sends it on each channel of `PCTN_DELIVERY_CHANNELS` (outbox,
   sftp, email; default outbox) and logs it in `delivery.deliveries`. A period
   already delivered on a channel is skipped there, so a rerun or a backfill
   never duplicates a delivery; a failed send is retried with back-off.

The marts are whatever `pctn_models` last built (judged on the run's date),
read under the marts lock shared (`ingestion.platform.marts_lock`): `build` waits while any
build runs (Airflow's or `make run`'s), up to `PCTN_MARTS_LOCK_TIMEOUT`, then is
retried with back-off; marts whose last build failed are refused (the task fails with
the reason, in Vietnamese and English) until a complete `dbt build`;
an extract built again from unchanged marts is the same extract (same
`extract_id`). **No empty delivery:** a period without any loaded return is
not built and not delivered: it is dropped with its reason (Vietnamese and
English) before `build`; with no period left, `build` and `deliver` end
*skipped*; `build_extract` and `deliver` refuse such a period themselves too.
Nothing is stored, sent or logged. The
first run is the next deadline to come (no start_date, `run_immediately=False`):
`make up` never builds or sends anything on its own when it first starts.

Params: `period_code` pins one period (manual run), `channels` overrides the
channel list, `resend` sends the first delivery's files again.

Backfill a year: `airflow backfill create --dag-id pctn_extract --from-date 2025-01-01 --to-date 2025-12-31`
(one run per deadline), or trigger with `{"period_code": "2025-Y"}`.
"""

from __future__ import annotations

import _common as c
from airflow.sdk import Param, dag, get_current_context, task


@dag(
    dag_id="pctn_extract",
    schedule=c.reporting_calendar(),  # no start_date: the first run is the next deadline
    catchup=False,
    max_active_runs=1,
    default_args=c.default_args(),
    tags=["pctn", "extract", "inspectorate"],
    doc_md=__doc__,
    params={
        "period_code": Param(
            None, type=["null", "string"], description="One period (e.g. 2025-Q2); empty: periods due"
        ),
        "channels": Param(None, type=["null", "array"], description="Channels; empty: PCTN_DELIVERY_CHANNELS"),
        "resend": Param(False, type="boolean", description="Send the first delivery's files again"),
    },
)
def pctn_extract():
    @task
    def due_periods() -> list[str]:
        """The periods this run is for (from the run's date, so a backfill is the same run again)."""
        ctx = get_current_context()
        codes = c.periods_due(c.run_date(ctx), ctx["params"].get("period_code"))
        print(f"periods: {codes}")
        return codes

    @task
    def reportable_periods(codes: list[str]) -> list[str]:
        """Judge the marts on the run's date (as the chase list does); keep periods with loaded returns.

        A period without any loaded return is dropped here with its reason, so it is never
        built or delivered and does not hold up the others (a skipped mapped `build` would
        skip every `deliver`). With none left, `build` and `deliver` end skipped.
        """
        from ingestion.extract import reportable_periods
        from ingestion.intake.submissions import ensure_judged_as_of

        if not codes:
            return []
        url = c.warehouse_url()
        as_of = c.as_of_date(get_current_context())
        rebuilt = ensure_judged_as_of(url, as_of)
        print(f"as of {as_of}: {'rebuilt' if rebuilt else 'marts already judged on that date'}")
        kept, dropped = reportable_periods(url, codes)
        for code in codes:
            print(f"{code}: {kept[code]} loaded return(s)" if code in kept else f"{code}: skipped: {dropped[code]}")
        return list(kept)

    @task(map_index_template="{{ period_code }}", outlets=[c.EXTRACT_ASSET])
    def build(period_code: str) -> dict:
        """Build from the marts and store in `delivery.extract_files`; same marts, same extract_id."""
        from airflow.sdk.exceptions import AirflowSkipException

        from ingestion.extract import NoLoadedReturns, build_extract

        get_current_context()["period_code"] = period_code
        try:
            extract_id = build_extract(c.warehouse_url(), period_code)
        except NoLoadedReturns as exc:  # nothing to report: skip, do not send an empty extract
            raise AirflowSkipException(str(exc)) from exc
        print(f"{period_code}: extract {extract_id}")
        return {"period_code": period_code, "extract_id": extract_id}

    @task(map_index_template="{{ period_code }}")
    def deliver(extract: dict) -> list[dict]:
        """Send the stored files on each channel; a channel already served is skipped (no duplicate)."""
        from airflow.sdk.exceptions import AirflowSkipException

        from ingestion.extract import DeliveryError, NoLoadedReturns, configured_channels
        from ingestion.extract import deliver as deliver_extract

        ctx = get_current_context()
        ctx["period_code"] = extract["period_code"]
        channels = ctx["params"].get("channels") or configured_channels()
        results = []
        for channel in channels:
            try:
                r = deliver_extract(c.warehouse_url(), extract["extract_id"], channel, resend=ctx["params"]["resend"])
            except NoLoadedReturns as exc:  # an empty extract stored before the guard: never sent
                raise AirflowSkipException(str(exc)) from exc
            except DeliveryError as exc:  # logged in delivery.deliveries; the channel may be back later
                raise c.TransientError(f"{extract['period_code']} on {channel}: {exc}") from exc
            print(f"{r.period_code} on {r.channel}: {r.outcome} (extract {r.extract_id}, to {r.recipient})")
            results.append({"channel": r.channel, "outcome": r.outcome, "delivery_id": r.delivery_id})
        return results

    deliver.expand(extract=build.expand(period_code=reportable_periods(due_periods())))


pctn_extract()
