"""One writer or many readers on the marts, whoever starts them (Airflow, `make run`, the CLI).

dbt rebuilds the marts one relation at a time: while a build runs, or after one
failed half-way, `marts` mixes old and new tables. So:

- a build (`dbt build`/`run`/`seed`/`snapshot`, from `ingestion.platform.transform.run_dbt` or
  the `pctn_models` DAG) holds the PostgreSQL advisory lock `pctn.marts` **exclusively**
  for its whole run, and records itself in `audit.marts_builds` (running, then complete
  or failed);
- a reader of the marts (the extract) holds the same lock **shared** while it reads,
  and refuses marts whose last build did not complete.

Session-level advisory locks are released by the server when the holder's connection
ends, so a killed build never leaves the lock behind; its row stays `running`, and
readers treat that like a failure. Marts are readable again after the next complete
*full* build: a partial build (`--select`) that succeeds does not vouch for models it
did not touch. Waiting is bounded by `PCTN_MARTS_LOCK_TIMEOUT` (seconds, default 3600;
0 waits forever); then `MartsBusy` says who holds the lock, in Vietnamese and English.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from ingestion.settings import env_name, settings

LOCK_NAME = "pctn.marts"
TIMEOUT_ENV = env_name("marts_lock_timeout_s")

# dbt subcommands that write relations the extract reads
WRITING_COMMANDS = frozenset({"build", "run", "seed", "snapshot"})
_SELECTING_FLAGS = frozenset({"--select", "-s", "--models", "-m", "--model", "--selector", "--resource-type"})
# Exclusions that leave every relation built (unit tests create nothing)
_HARMLESS_EXCLUDES = frozenset({"resource_type:unit_test", "test_type:unit"})

DDL = """
create schema if not exists audit;
create table if not exists audit.marts_builds (
    build_id      bigserial primary key,
    started_at    timestamptz not null default clock_timestamp(),
    finished_at   timestamptz,
    status        text not null default 'running' check (status in ('running', 'complete', 'failed')),
    is_full       boolean not null,
    command       text not null,
    origin        text not null,
    invocation_id text,
    detail        text
);
comment on table audit.marts_builds is
    'One row per dbt run that writes relations (ingestion.platform.marts_lock): running, complete or failed. '
    'The extract reads the marts only when no build since the last complete full build failed or died.';
"""

# the last complete full build, and whether anything after it did not complete
_STATE_SQL = """
with last_full as (
    select coalesce(max(build_id), 0) as build_id
    from audit.marts_builds
    where status = 'complete' and is_full
)
select b.build_id, b.status, b.command, b.origin, b.started_at
from audit.marts_builds as b, last_full as f
where b.build_id > f.build_id and b.status <> 'complete'
order by b.build_id desc
limit 1
"""


class MartsBusy(TimeoutError):
    """The lock was not granted within the timeout: another build (or reader) holds it.

    A `TimeoutError`, so the DAGs' retry policy retries it with back-off (transient).
    """


class MartsIncomplete(RuntimeError):
    """The last build of the marts failed or died: they mix old and new tables."""


@dataclass
class BuildRecord:
    """The row of one build; the caller sets `succeeded` (and `invocation_id`) before leaving."""

    build_id: int
    succeeded: bool = False
    invocation_id: str | None = None
    detail: str | None = None


def lock_timeout_s() -> float:
    """Seconds to wait for the lock (`PCTN_MARTS_LOCK_TIMEOUT`; 0: forever)."""
    return settings().marts_lock_timeout_s


def is_writing(args: Sequence[str]) -> bool:
    """Whether `dbt <args>` writes relations (and so must hold the lock exclusively)."""
    positional = [a for a in args if not a.startswith("-")]
    return bool(positional) and positional[0] in WRITING_COMMANDS


def is_full(args: Sequence[str]) -> bool:
    """A run of the whole project: no selection, no exclusion beyond unit tests."""
    items = list(args)
    for i, arg in enumerate(items):
        name = arg.split("=", 1)[0]
        if name in _SELECTING_FLAGS:
            return False
        if name == "--exclude":
            values = [arg.split("=", 1)[1]] if "=" in arg else []
            for more in items[i + 1 :]:
                if more.startswith("-"):
                    break
                values += more.split()
            if not set(values) <= _HARMLESS_EXCLUDES:
                return False
    return True


def _holders(conn: psycopg.Connection) -> str:
    """Who holds the marts lock now: application, client and since when (for the message)."""
    rows = conn.execute(
        """
        select l.mode, a.application_name, coalesce(a.client_addr::text, 'local'), a.pid,
               to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS')
        from pg_locks as l inner join pg_stat_activity as a on l.pid = a.pid
        where l.locktype = 'advisory' and l.granted and l.objid = (hashtext(%s)::bigint & 4294967295)::oid
        """,
        (LOCK_NAME,),
    ).fetchall()
    return "; ".join(f"{m} pid {pid} {app or '?'}@{addr} since {t}" for m, app, addr, pid, t in rows) or "?"


def _acquire(conn: psycopg.Connection, shared: bool, timeout_s: float | None, what: str) -> None:
    seconds = lock_timeout_s() if timeout_s is None else timeout_s
    conn.execute(f"set lock_timeout = {int(seconds * 1000)}")
    fn = "pg_advisory_lock_shared" if shared else "pg_advisory_lock"
    try:
        conn.execute(f"select {fn}(hashtext(%s))", (LOCK_NAME,))
    except psycopg.errors.LockNotAvailable as exc:
        holders = _holders(conn)
        raise MartsBusy(
            f"Kho dữ liệu đang được dựng lại hoặc đang được đọc, đã chờ {seconds:g} giây ({what}): {holders}. "
            f"/ The marts are being rebuilt or read; waited {seconds:g} s ({what}): {holders}. "
            f"Try again later, or raise {TIMEOUT_ENV}."
        ) from exc
    finally:
        conn.execute("set lock_timeout = 0")


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create `audit.marts_builds` (idempotent; serialised for concurrent first runs)."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('pctn.marts.ddl'))")
        conn.execute(DDL)


@contextmanager
def marts_build(url: str, args: Sequence[str], *, origin: str, timeout_s: float | None = None) -> Iterator[BuildRecord]:
    """Hold the marts exclusively for one dbt run and record how it ended.

    Set `record.succeeded = True` when dbt reports success; an exception, or leaving
    without it, records the build `failed`, so the extract refuses the marts until a
    complete full build.
    """
    conn = psycopg.connect(url, autocommit=True, application_name=f"pctn-build {origin}"[:63])
    try:
        _acquire(conn, shared=False, timeout_s=timeout_s, what="dbt " + " ".join(args[:1]))
        ensure_schema(conn)
        inserted = conn.execute(
            "insert into audit.marts_builds (is_full, command, origin) values (%s, %s, %s) returning build_id",
            (is_full(args), " ".join(args)[:2000], f"{origin} on {socket.gethostname()} pid {os.getpid()}"),
        ).fetchone()
        assert inserted is not None  # insert … returning: one row
        (build_id,) = inserted
        record = BuildRecord(build_id)
        try:
            yield record
        except BaseException as exc:
            record.succeeded = False
            record.detail = record.detail or f"{type(exc).__name__}: {exc}"[:2000]
            raise
        finally:
            conn.execute(
                "update audit.marts_builds set status = %s, finished_at = clock_timestamp(),"
                " invocation_id = %s, detail = %s where build_id = %s",
                ("complete" if record.succeeded else "failed", record.invocation_id, record.detail, build_id),
            )
    finally:
        conn.close()  # ends the session: the server releases the lock even if unlock was never reached


def check_complete(conn: psycopg.Connection) -> None:
    """Raise `MartsIncomplete` if a build since the last complete full build failed or died."""
    try:
        row = conn.execute(_STATE_SQL).fetchone()
    except psycopg.errors.UndefinedTable:  # no build recorded yet (marts from before this record, or none)
        conn.rollback()
        return
    if row is None:
        return
    build_id, status, command, origin, started = row
    state = "đã thất bại / failed" if status == "failed" else "chưa kết thúc (bị dừng?) / never finished (killed?)"
    raise MartsIncomplete(
        f"Lần dựng kho dữ liệu #{build_id} (dbt {command}, {origin}, {started:%Y-%m-%d %H:%M:%S %Z}) {state}: "
        "các bảng marts không nhất quán, không trích xuất. Hãy chạy lại `dbt build` (pctn_models hoặc make run). "
        f"/ Marts build #{build_id} {'failed' if status == 'failed' else 'never finished'}: the marts mix old and "
        "new tables, so no extract is built from them. Run a full `dbt build` again (pctn_models or make run)."
    )


@contextmanager
def marts_read(url: str, *, timeout_s: float | None = None) -> Iterator[None]:
    """Read the marts with no build running, and only if the last build completed."""
    conn = psycopg.connect(url, autocommit=True, application_name="pctn-extract")
    try:
        _acquire(conn, shared=True, timeout_s=timeout_s, what="extract")
        check_complete(conn)
        yield
    finally:
        conn.close()


DbtCall = Callable[..., Any]  # (command, env, cwd, **kwargs) -> result: how a cosmos operator runs dbt


def locked_dbt_call(run: DbtCall, succeeded: Callable[[Any], bool], url: Callable[[], str], origin: str) -> DbtCall:
    """`run` (one of a cosmos operator's dbt calls) under the marts lock, recorded as a build, when it writes.

    `command[0]` is the dbt executable; a non-writing command (`dbt ls`) runs as is. The
    build's invocation id is read from the `target/` of the directory dbt ran in (cosmos
    runs dbt in a copy of the project). `url` is called only when the lock is taken.
    """
    from ingestion.platform.transform import invocation_id

    def call(command: Sequence[str], env: dict[str, str], cwd: str, **kwargs: Any) -> Any:
        args = list(command[1:])
        if not is_writing(args):
            return run(command, env, cwd, **kwargs)
        with marts_build(url(), args, origin=origin) as build:
            result = run(command, env, cwd, **kwargs)
            build.succeeded = succeeded(result)
            build.invocation_id = invocation_id(Path(cwd) / "target")
        return result

    return call
