"""
### Missing returns: who has not reported, after each deadline (*đơn vị chưa gửi báo cáo*)

On the reporting calendar (the morning after each deadline, like the extract),
for every period due on the last deadline before the run: list each expected
return with status `missing` (source, unit, period, due date) from the
data-quality mart `marts.fct_return_submissions`, for the Inspectorate to chase.

The list is judged on the run's date (its logical date, 07:00 local the morning
after the deadline), not on the last day a file arrived: if the marts were built
on another day, the models that depend on that date (`int_return_submissions`
and downstream) are rebuilt first with dbt var `as_of_date` (under a lock shared
with `pctn_extract`, which does the same). The morning after a deadline with
nothing received, every expected unit is listed. The first run is the next
deadline to come: unpausing the DAG never runs it for a past one.

The list is the task's result (XCom) and its log; it is e-mailed when the
connection `pctn_smtp` (`AIRFLOW_CONN_PCTN_SMTP`) and the Variable
`pctn_notify_to` are set. The DAG only reads the warehouse, so reruns and
backfills are free of side effects except a repeated e-mail and the rebuild
of the as-of models on the run's date (the next `pctn_models` or `make run`
judges them on its own date again).

Param `period_code` pins one period.
"""

from __future__ import annotations

import _common as c
from airflow.sdk import Param, dag, get_current_context, task


@dag(
    dag_id="pctn_missing_returns",
    schedule=c.reporting_calendar(),  # no start_date: the first run is the next deadline
    catchup=False,
    max_active_runs=1,
    default_args=c.default_args(),
    tags=["pctn", "data-quality", "inspectorate"],
    doc_md=__doc__,
    params={"period_code": Param(None, type=["null", "string"], description="One period; empty = periods due")},
)
def pctn_missing_returns():
    @task
    def list_missing() -> dict:
        """Expected returns not received for the periods due (unit by unit), as of the run's date."""
        from ingestion.intake.submissions import ensure_judged_as_of, missing_returns

        ctx = get_current_context()
        periods = c.periods_due(c.run_date(ctx), ctx["params"].get("period_code"))
        if not periods:
            return {"periods": [], "missing": [], "as_of": None}
        as_of = c.as_of_date(ctx)
        url = c.warehouse_url()
        rebuilt = ensure_judged_as_of(url, as_of)
        missing = missing_returns(url, periods)
        print(f"as of {as_of} ({'rebuilt' if rebuilt else 'marts already on that date'}): periods {periods}")
        print(f"periods {periods}: {len(missing)} missing return(s)")
        for m in missing:
            print(f"  {m['period_code']} {m['source']:9} {m['unit_code']} (due {m['due_date']})")
        return {"periods": periods, "missing": missing, "as_of": as_of.isoformat()}

    @task
    def notify(result: dict) -> bool:
        """E-mail the list (only when the SMTP connection and recipients are configured)."""
        from ingestion.platform.notices import missing_returns_notice

        if not result["missing"]:
            return False
        return c.send_notice(*missing_returns_notice(result["periods"], result["missing"]))

    notify(list_missing())


pctn_missing_returns()
