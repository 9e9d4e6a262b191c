"""The `delivery` schema: built extracts, their bytes, and the delivery log.

The files of an extract live in the warehouse, not on a disk, because the task that
builds an extract and the task that delivers it may run on different Celery workers;
a resend also needs the exact bytes sent before, long after the marts have changed.
The DDL is idempotent and serialised with an advisory lock so any entry point (a task,
the CLI, a test) may call `ensure_schema` first, even concurrently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ingestion.extract.manifest import ExtractFile

DDL = """
create schema if not exists delivery;

create table if not exists delivery.extracts (
    extract_id        bigserial primary key,
    period_code       text not null,
    built_at          timestamptz not null,
    dbt_invocation_id text,
    content_sha256    text not null,
    format_version    text not null,
    manifest          jsonb not null,
    unique (period_code, content_sha256)
);
comment on table delivery.extracts is
    'One row per extract built: a period and the state of the marts it was built from (content_sha256). '
    'Building again from unchanged marts returns the existing row.';

create table if not exists delivery.extract_files (
    extract_id  bigint not null references delivery.extracts (extract_id),
    file_name   text not null,
    role        text not null,
    sha256      text not null,
    size_bytes  bigint not null,
    content     bytea not null,
    primary key (extract_id, file_name)
);
comment on table delivery.extract_files is
    'The bytes of every file of an extract (workbook, yearly draft, one CSV per sheet, manifest): what deliveries '
    'and resends send.';
alter table delivery.extract_files drop constraint if exists extract_files_role_check;
alter table delivery.extract_files add constraint extract_files_role_check
    check (role in ('workbook', 'report', 'csv', 'manifest'));

create table if not exists delivery.deliveries (
    delivery_id  bigserial primary key,
    extract_id   bigint not null references delivery.extracts (extract_id),
    period_code  text not null,
    channel      text not null,
    recipient    text not null,
    files        jsonb not null,
    delivered_at timestamptz not null default clock_timestamp(),
    outcome      text not null check (outcome in ('delivered', 'failed')),
    error        text,
    is_resend    boolean not null default false
);
create unique index if not exists deliveries_once_per_period_channel
    on delivery.deliveries (period_code, channel)
    where outcome = 'delivered' and not is_resend;
create index if not exists deliveries_period_idx on delivery.deliveries (period_code, channel, delivered_at);
comment on table delivery.deliveries is
    'Delivery log: every attempt to send an extract on a channel (outbox, sftp, email), with the files and '
    'their SHA-256 as sent. A period is delivered once per channel; later sends are resends (is_resend).';
"""


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create the `delivery` schema if needed (safe to call from concurrent tasks)."""
    present = conn.execute(
        "select to_regclass('delivery.extracts') is not null and to_regclass('delivery.extract_files') is not null "
        "and to_regclass('delivery.deliveries') is not null "
        "and exists (select 1 from pg_constraint where conname = 'extract_files_role_check' "
        "and pg_get_constraintdef(oid) like '%report%')"
    ).fetchone()
    if present and present[0]:
        return
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('pctn.delivery.ddl'))")
        conn.execute(DDL)


@dataclass(frozen=True)
class StoredExtract:
    """An extract row as stored."""

    extract_id: int
    period_code: str
    built_at: datetime
    dbt_invocation_id: str | None
    content_sha256: str
    manifest: dict[str, Any]


def find_extract(conn: psycopg.Connection, period_code: str, content_sha256: str) -> int | None:
    row = conn.execute(
        "select extract_id from delivery.extracts where period_code = %s and content_sha256 = %s",
        (period_code, content_sha256),
    ).fetchone()
    return int(row[0]) if row else None


def insert_extract(
    conn: psycopg.Connection,
    *,
    period_code: str,
    built_at: datetime,
    dbt_invocation_id: str | None,
    content_sha256: str,
    format_version: str,
    manifest: dict[str, Any],
    files: list[ExtractFile],
) -> int:
    """Store an extract and its files in one transaction; an identical one wins if it raced us."""
    with conn.transaction():
        row = conn.execute(
            """
            insert into delivery.extracts
                (period_code, built_at, dbt_invocation_id, content_sha256, format_version, manifest)
            values (%s, %s, %s, %s, %s, %s)
            on conflict (period_code, content_sha256) do nothing
            returning extract_id
            """,
            (period_code, built_at, dbt_invocation_id, content_sha256, format_version, Jsonb(manifest)),
        ).fetchone()
        if row is None:
            existing = find_extract(conn, period_code, content_sha256)
            assert existing is not None
            return existing
        extract_id = int(row[0])
        with conn.cursor() as cur:
            cur.executemany(
                """
                insert into delivery.extract_files (extract_id, file_name, role, sha256, size_bytes, content)
                values (%s, %s, %s, %s, %s, %s)
                """,
                [(extract_id, f.name, f.role, f.sha256, f.size, f.content) for f in files],
            )
        return extract_id


def load_extract(conn: psycopg.Connection, extract_id: int) -> StoredExtract:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            """
            select extract_id, period_code, built_at, dbt_invocation_id, content_sha256, manifest
            from delivery.extracts where extract_id = %s
            """,
            (extract_id,),
        ).fetchone()
    if row is None:
        raise LookupError(f"Không có bản trích xuất số {extract_id} / no extract with extract_id {extract_id}")
    return StoredExtract(**row)


def load_files(conn: psycopg.Connection, extract_id: int) -> list[ExtractFile]:
    """The files of an extract, workbook first, then CSVs in sheet order, manifest last."""
    rows = conn.execute(
        """
        select file_name, role, content, sha256 from delivery.extract_files
        where extract_id = %s
        order by array_position(array['workbook', 'report', 'csv', 'manifest'], role), file_name
        """,
        (extract_id,),
    ).fetchall()
    files = []
    for name, role, content, sha256 in rows:
        f = ExtractFile(name=name, role=role, content=bytes(content))
        if f.sha256 != sha256:
            raise RuntimeError(
                f"Tệp {name} của bản trích xuất {extract_id} không khớp SHA-256 đã lưu / "
                f"file {name} of extract {extract_id} does not match its stored SHA-256"
            )
        files.append(f)
    return files


def files_json(files: list[ExtractFile]) -> list[dict[str, Any]]:
    """What the delivery log keeps of the files sent: names, sizes and checksums."""
    return [{"name": f.name, "bytes": f.size, "sha256": f.sha256} for f in files]
