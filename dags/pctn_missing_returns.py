"""
### Missing returns: who has not reported, after each deadline (*đơn vị chưa gửi báo cáo*)

On the reporting calendar (the morning after each deadline, like the extract),
for every period due on the last deadline before the run: read the
data-quality mart `marts.fct_return_submissions` (kept current by
`pctn_models`) and list each expected return with status `missing`
(source, unit, period, due date), for the Inspectorate to chase.

The list is the task's result (XCom) and its log; it is e-mailed when the
connection `pctn_smtp` (`AIRFLOW_CONN_PCTN_SMTP`) and the Variable
`pctn_notify_to` are set. The DAG only reads the warehouse, so reruns and
backfills are free of side effects except a repeated e-mail.

Param `period_code` pins one period.
"""

from __future__ import annotations

import _common as c
from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

MISSING_SQL = """
select source, unit_code, period_code, due_date::text as due_date
from marts.fct_return_submissions
where period_code = any(%(periods)s) and expected and status = 'missing'
order by period_code, source, unit_code
"""


@dag(
    dag_id="pctn_missing_returns",
    schedule=CronTriggerTimetable(c.REPORTING_CALENDAR_CRON, timezone=c.TIMEZONE),
    start_date=c.START_DATE,
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
        """Expected returns not received for the periods due (unit by unit)."""
        from ingestion.warehouse import connect

        ctx = get_current_context()
        periods = c.periods_due(c.run_date(ctx), ctx["params"].get("period_code"))
        if not periods:
            return {"periods": [], "missing": []}
        with connect(c.warehouse_url()) as conn:
            cur = conn.execute(MISSING_SQL, {"periods": periods})
            cols = [d.name for d in cur.description]
            missing = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
        print(f"periods {periods}: {len(missing)} missing return(s)")
        for m in missing:
            print(f"  {m['period_code']} {m['source']:9} {m['unit_code']} (due {m['due_date']})")
        return {"periods": periods, "missing": missing}

    @task
    def notify(result: dict) -> bool:
        """E-mail the list (only when the SMTP connection and recipients are configured)."""
        if not result["missing"]:
            return False
        rows = "".join(
            f"<tr><td>{m['period_code']}</td><td>{m['source']}</td><td>{m['unit_code']}</td><td>{m['due_date']}</td></tr>"
            for m in result["missing"]
        )
        html = (
            f"<p>Đơn vị chưa gửi báo cáo / returns not received: {len(result['missing'])}</p>"
            f"<table><tr><th>Kỳ</th><th>Nguồn</th><th>Đơn vị</th><th>Hạn</th></tr>{rows}</table>"
        )
        return c.send_notice(f"[PCTN] Missing returns {', '.join(result['periods'])}", html)

    notify(list_missing())


pctn_missing_returns()
