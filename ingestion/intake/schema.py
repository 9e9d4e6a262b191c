"""DDL of the schemas the intake owns: `registry`, `raw` and `audit`.

The `raw` tables are generated from the contract so a column added there appears
in the loader, the suites and the table at once. dbt owns every other schema.
All statements are idempotent (`if not exists`) so every entry point may call
`ensure_schema` first.
"""

from __future__ import annotations

import psycopg

from ingestion.contract.sources import LINEAGE_COLUMNS, SOURCES, Source

STATIC_DDL = """
create schema if not exists registry;
create schema if not exists raw;
create schema if not exists audit;

create table if not exists registry.file_contents (
    sha256      text primary key,
    size_bytes  bigint not null,
    content     bytea not null,
    stored_at   timestamptz not null default now()
);
comment on table registry.file_contents is
    'Originals of every return keyed by the SHA-256 of their bytes, sealed with AES-256-GCM (names inside): '
    'the shared archive that every worker reads; ingestion.intake.sealing.unseal gives back the exact bytes.';

create table if not exists registry.files (
    file_id          bigserial primary key,
    sha256           text not null references registry.file_contents (sha256),
    file_name        text not null,
    source           text,
    unit_code        text,
    period_code      text,
    version          integer,
    received_at      timestamptz not null default now(),
    processed_at     timestamptz,
    status           text not null default 'received'
        check (status in ('received', 'loaded', 'rejected', 'superseded')),
    superseded_by    bigint references registry.files (file_id),
    rows_read        integer,
    rows_loaded      integer,
    rows_quarantined integer,
    rows_flagged     integer,
    rows_skipped     integer,
    process_count    integer not null default 0,
    reject_code      text,
    reject_reason_vi text,
    reject_reason_en text,
    archive_path     text,
    unique (sha256, file_name)
);
create index if not exists files_return_idx on registry.files (source, unit_code, period_code);
comment on table registry.files is
    'One row per distinct file received: the same bytes under the same name are one row. '
    'status: received, loaded, rejected, superseded. process_count: times it was read, validated and '
    'loaded (1, unless reprocessed on purpose).';

create table if not exists registry.receipts (
    receipt_id  bigserial primary key,
    sha256      text references registry.file_contents (sha256),
    file_name   text not null,
    received_at timestamptz not null default now(),
    outcome     text not null constraint receipts_outcome_check check (outcome in ('new', 'duplicate', 'not_read')),
    entry_path  text,
    mtime_ns    bigint,
    size_bytes  bigint,
    reason_code text,
    reason_vi   text,
    reason_en   text
);

create table if not exists audit.quarantine (
    file_id      bigint not null references registry.files (file_id),
    row_number   integer not null,
    column_name  text,
    value        text,
    rule         text not null,
    severity     text not null check (severity in ('row', 'warn')),
    reason_vi    text not null,
    reason_en    text not null,
    row_data     jsonb
);
create index if not exists quarantine_file_idx on audit.quarantine (file_id);
comment on table audit.quarantine is
    'Problems found in rows: severity row = quarantined (not loaded), warn = loaded and flagged. No names in clear.';

create table if not exists audit.validation_results (
    run_id             text not null,
    file_id            bigint not null references registry.files (file_id),
    suite              text not null,
    expectation_type   text not null,
    rule               text not null,
    column_name        text,
    severity           text not null,
    success            boolean not null,
    element_count      integer,
    unexpected_count   integer,
    unexpected_sample  jsonb,
    run_at             timestamptz not null
);
create index if not exists validation_results_file_idx on audit.validation_results (file_id);

create table if not exists audit.validation_runs (
    run_id      text primary key,
    file_id     bigint not null references registry.files (file_id),
    suite       text not null,
    success     boolean not null,
    run_at      timestamptz not null,
    result      jsonb not null
);
create index if not exists validation_runs_file_idx on audit.validation_runs (file_id);
comment on table audit.validation_runs is
    'The GX validation result of each run (unexpected lists trimmed), from which Data Docs are rebuilt.';

create table if not exists audit.feedback_files (
    file_id     bigint primary key references registry.files (file_id),
    file_name   text not null,
    kind        text not null check (kind in ('receipt', 'problems', 'rejection')),
    content     bytea not null,
    sha256      text not null,
    created_at  timestamptz not null default now()
);
comment on table audit.feedback_files is 'Feedback workbook for the sending unit, one per return.';

create table if not exists audit.skipped_rows (
    file_id     bigint not null references registry.files (file_id),
    row_number  integer not null,
    kind        text not null check (kind in ('totals', 'footer', 'note', 'column_numbers', 'header')),
    text        text not null,
    primary key (file_id, row_number)
);
comment on table audit.skipped_rows is
    'Non-blank rows below the header that are not records (totals, footer, note, column numbers, repeated '
    'header), with their text as written: rows read = loaded + quarantined + skipped.';

-- upgrade of a warehouse made before rows_skipped and inbox receipts existed (idempotent, runs once)
do $upgrade$
begin
    if not exists (
        select 1 from information_schema.columns
        where table_schema = 'registry' and table_name = 'receipts' and column_name = 'entry_path'
    ) then
        alter table registry.files add column if not exists rows_skipped integer;
        alter table registry.receipts add column entry_path text;
        alter table registry.receipts add column mtime_ns bigint;
        alter table registry.receipts add column size_bytes bigint;
        alter table registry.receipts add column reason_code text;
        alter table registry.receipts add column reason_vi text;
        alter table registry.receipts add column reason_en text;
        alter table registry.receipts alter column sha256 drop not null;
        alter table registry.receipts drop constraint if exists receipts_outcome_check;
        alter table registry.receipts add constraint receipts_outcome_check
            check (outcome in ('new', 'duplicate', 'not_read'));
    end if;
    if not exists (
        select 1 from information_schema.columns
        where table_schema = 'registry' and table_name = 'files' and column_name = 'process_count'
    ) then
        alter table registry.files add column process_count integer not null default 0;
    end if;
end
$upgrade$;
create unique index if not exists receipts_offer_idx
    on registry.receipts (entry_path, sha256, mtime_ns, size_bytes) nulls not distinct
    where entry_path is not null;
comment on table registry.receipts is
    'Every inbox entry offered to the intake, once per state of the entry (path, size, modification time): '
    'new files, byte-identical resends (duplicate) and entries not read (not_read: links, special files, '
    'dot-files, files over the size limit) with the reason. A rerun over an unchanged inbox adds nothing.';
"""


def raw_table_ddl(source: Source) -> str:
    """`create table` for one source's raw rows, derived from the contract."""
    cols = [f"    {name} {sql}" for name, sql in LINEAGE_COLUMNS]
    cols += [f"    {c.load_name} {c.sql_type}" for c in source.columns]
    cols.append("    extra_columns jsonb")
    cols.append("    primary key (file_id, row_number)")
    body = ",\n".join(cols)
    return (
        f"create table if not exists raw.{source.raw_table} (\n{body}\n);\n"
        f"comment on table raw.{source.raw_table} is "
        f"'Rows of {source.code} returns ({source.name_vi}) that passed validation, one per record per file.';\n"
    )


def ddl() -> str:
    return STATIC_DDL + "\n".join(raw_table_ddl(s) for s in SOURCES.values())


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create the intake's schemas and tables if they do not exist yet.

    An advisory lock serialises concurrent first runs (several Celery workers).
    """
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(4242001)")
        conn.execute(ddl())
