"""What every PCTN DAG shares: paths, the warehouse connection, retries, notices.

DAG files import this at parse time, so it stays light: the standard library,
`airflow.sdk` and the contract (plain dataclasses). The project's heavy modules
(pipeline, GX, dbt) are imported inside task functions only, and nothing here
touches a database until a task calls it.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

from airflow.sdk import Asset, AssetAlias, AssetAny, BaseHook, CronTriggerTimetable, Variable
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule
from airflow.sdk.exceptions import AirflowNotFoundException

from ingestion.calendar import TIME_ZONE, local_date
from ingestion.calendar import periods_due as periods_due  # the calendar DAGs' periods (c.periods_due)
from ingestion.contract.sources import SOURCES
from ingestion.paths import REPO_ROOT
from ingestion.settings import settings

log = logging.getLogger(__name__)

OWNER = "pctn-data"
WAREHOUSE_CONN_ID = "warehouse"  # AIRFLOW_CONN_WAREHOUSE
SMTP_CONN_ID = "pctn_smtp"  # AIRFLOW_CONN_PCTN_SMTP (optional)
NOTIFY_VARIABLE = "pctn_notify_to"  # AIRFLOW_VAR_PCTN_NOTIFY_TO: comma-separated addresses
TIMEZONE = TIME_ZONE  # Asia/Ho_Chi_Minh (ingestion.calendar, dbt var local_time_zone)
START_DATE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_MANIFEST = settings().dbt_manifest  # read at parse time: the models DAG is rendered from it
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
DBT_PROFILE = "pctn"  # dbt_project/dbt_project.yml `profile:`
DBT_TARGET = "default"  # dbt_project/profiles.yml

# Every return is due on the 20th of Mar/Jun/Sep/Dec (seed `reporting_periods.due_date`):
# the extract and the missing-returns list run the next morning, local time.
REPORTING_CALENDAR_CRON = "0 7 21 3,6,9,12 *"


def reporting_calendar() -> CronTriggerTimetable:
    """The calendar DAGs' schedule: the morning after each deadline, never "at once".

    With a start_date in the past and catchup off, Airflow's CronTriggerTimetable runs the
    latest past cron point as soon as a DAG is unpaused (`make up`'s first start built and
    delivered 2026-9M and 2026-Q3 extracts of empty tables that way). Those DAGs therefore
    have no start_date, and `run_immediately=False` makes the first run the next deadline to
    come. A missed deadline is caught up by `airflow backfill create` or a manual run.
    """
    return CronTriggerTimetable(REPORTING_CALENDAR_CRON, timezone=TIMEZONE, run_immediately=False)


INTAKE_CRON = "*/15 * * * *"


def inbox_dir() -> Path:
    """Where agencies drop returns (`RETURNS_INBOX`, as for `make run`); only scan/register read it."""
    return settings().returns_inbox


def output_dir() -> Path:
    """Human-facing copies (archive/, rejected/, feedback/) as `make run` writes them; never read back."""
    return settings().output_dir


# ---------------------------------------------------------------- assets
def _table_asset(schema: str, table: str) -> Asset:
    return Asset(name=f"pctn.{schema}.{table}", uri=f"postgres://warehouse:5432/pctn/{schema}/{table}", group="pctn")


RAW_ASSETS: dict[str, Asset] = {code: _table_asset("raw", s.raw_table) for code, s in SOURCES.items()}
REGISTRY_ASSET = _table_asset("registry", "files")  # statuses: loaded, rejected, superseded
# The intake's outlet: at run time it resolves to the raw Assets of the sources that loaded rows.
RAW_LOADED_ALIAS = AssetAlias(name="pctn.raw.loaded", group="pctn")
MARTS_ASSET = _table_asset("marts", "fct_indicator_values")
EXTRACT_ASSET = _table_asset("delivery", "extract_files")


def any_asset(assets) -> AssetAny:
    """A schedule that fires when any of `assets` gets an event."""
    return AssetAny(*assets)


# ---------------------------------------------------------------- warehouse
_LIBPQ_EXTRAS = {
    "sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name",
    "options", "target_session_attrs", "keepalives", "keepalives_idle", "keepalives_interval",
    "keepalives_count", "gssencmode",
}  # fmt: skip


def connection_url(conn) -> str:
    """A libpq URL from an Airflow connection (host may be a unix-socket directory)."""
    from ingestion.platform.warehouse import url_from_params

    extra = conn.extra_dejson or {}
    return url_from_params(
        host=conn.host or str(extra.get("host") or ""),
        port=conn.port,
        user=conn.login,
        password=conn.password,
        dbname=conn.schema or "postgres",
        options={k: str(v) for k, v in extra.items() if k in _LIBPQ_EXTRAS},
    )


def warehouse_url() -> str:
    """The warehouse as a libpq URL: Airflow connection `warehouse`, else `WAREHOUSE_URL`/embedded.

    Call it inside a task, never at parse time; never log the result (it may hold a password).
    """
    try:
        conn = BaseHook.get_connection(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        from ingestion.platform.warehouse import warehouse_url as default_url

        return default_url()
    return connection_url(conn)


# ---------------------------------------------------------------- models and extract (marts lock)
# How often a watcher sensor (or its trigger) looks at the producer's XComs for its node.
WATCHER_POKE_INTERVAL_S = settings().watcher_poke_interval_s


def hold_marts_lock(context, operator) -> None:
    """Cosmos interceptor: this operator's dbt runs under the marts lock, recorded as a build.

    Cosmos invokes dbt itself after its interceptors return, so the lock is taken around
    the operator's own `run_dbt_runner`/`run_subprocess`, on this task instance only:
    the watcher's producer (the one `dbt build`) and a sensor's retry of its node alone
    then exclude every other build and every extract, exactly as `run_dbt` does for
    `make run` (`ingestion.platform.marts_lock`). A non-writing command (`dbt ls`) runs as is.
    """
    if getattr(operator, "_pctn_marts_locked", False):  # interceptors run once per dbt call
        return
    from ingestion.platform.marts_lock import locked_dbt_call

    ti = context["ti"]
    origin = f"airflow {ti.dag_id}.{ti.task_id} {context['run_id']} try {ti.try_number}"
    operator.run_dbt_runner = locked_dbt_call(
        operator.run_dbt_runner, lambda r: bool(getattr(r, "success", False)), warehouse_url, origin
    )
    operator.run_subprocess = locked_dbt_call(
        operator.run_subprocess, lambda r: getattr(r, "exit_code", 1) == 0, warehouse_url, origin
    )
    operator._pctn_marts_locked = True


# ---------------------------------------------------------------- notices
def _recipients() -> list[str]:
    value = Variable.get(NOTIFY_VARIABLE, default=None)
    if not value:
        try:
            value = BaseHook.get_connection(SMTP_CONN_ID).extra_dejson.get("notify_to")
        except AirflowNotFoundException:
            value = None
    return [a.strip() for a in str(value or "").split(",") if a.strip()]


def send_notice(subject: str, html: str) -> bool:
    """E-mail through connection `pctn_smtp` when it and recipients are configured; else log only."""
    try:
        BaseHook.get_connection(SMTP_CONN_ID)
    except AirflowNotFoundException:
        log.info("No connection %r: notice not e-mailed: %s", SMTP_CONN_ID, subject)
        return False
    to = _recipients()
    if not to:
        log.warning(
            "Connection %r is set but no recipients (Variable %r): notice not sent", SMTP_CONN_ID, NOTIFY_VARIABLE
        )
        return False
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=SMTP_CONN_ID) as hook:
        hook.send_email_smtp(to=to, subject=subject, html_content=html)
    log.info("Notice e-mailed to %d recipient(s): %s", len(to), subject)
    return True


def notify_failure(context) -> None:
    """Task failure callback: one e-mail per failed task (after its last retry)."""
    from ingestion.platform.notices import failure_notice

    ti = context["ti"]
    try:
        send_notice(*failure_notice(ti.dag_id, ti.task_id, ti.run_id, ti.try_number, context.get("exception")))
    except Exception:  # a broken mail server must not hide the task's own error
        log.exception("Failure notice could not be sent")


# ---------------------------------------------------------------- retries
class TransientError(RuntimeError):
    """Raised by a task for a failure worth retrying that the libraries report otherwise."""


# Transient: the warehouse or the network went away, a lock or serialisation conflict.
# Anything else is a bug or bad data: retrying would only repeat it, so the task fails at once.
# (Bad data in a return is not an exception at all: the pipeline records it as an outcome.)
TRANSIENT_ERRORS: list = [
    "psycopg.OperationalError",  # connection lost, server shutting down, deadlock, serialization failure
    "psycopg.InterfaceError",
    "builtins.ConnectionError",
    "builtins.TimeoutError",
    TransientError,
]
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[RetryRule(exception=TRANSIENT_ERRORS, action=RetryAction.RETRY, reason="transient error")],
    default=RetryAction.FAIL,
)


def default_args(**overrides) -> dict:
    """Owner, retries with exponential back-off on transient errors only, failure notices."""
    args = {
        "owner": OWNER,
        "retries": 3,
        "retry_delay": dt.timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(minutes=10),
        "retry_policy": RETRY_POLICY,
        "on_failure_callback": notify_failure,
    }
    args.update(overrides)
    return args


# ---------------------------------------------------------------- periods
def run_date(context) -> dt.datetime:
    """The date a run stands for: its logical date (scheduled, backfill, `dags test`), else when it ran."""
    run = context["dag_run"]
    return run.logical_date or run.run_after


def as_of_date(context) -> dt.date:
    """The day returns are judged on (due, late, missing): the run's date in Thanh Hóa."""
    return local_date(run_date(context))
