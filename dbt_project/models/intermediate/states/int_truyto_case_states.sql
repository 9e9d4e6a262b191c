{#- History of states: one row per criminal case at prosecution per current return
    (file status `loaded`), with the state reported at that period's end. -#}
with

source_rows as (
    select * from {{ ref('stg_truyto__cases') }}
),

files as (
    select * from {{ ref('stg_registry__files') }}
    where status = 'loaded'
),

current_rows as not materialized (
    select
        files.file_id,
        source_rows.row_number,
        files.unit_code,
        files.period_code,
        files.report_year,
        files.period_kind,
        files.period_start_date,
        files.period_end_date,
        files.is_cumulative,
        files.file_version,
        files.processed_at as file_processed_at,
        source_rows.case_id as record_key,
        source_rows.case_id,
        source_rows.received_date,
        source_rows.article,
        source_rows.accused_count,
        source_rows.indictment_no,
        source_rows.indictment_date,
        source_rows.indicted_count,
        source_rows.status
    from source_rows
    inner join files
        on source_rows.file_id = files.file_id
),

{{ state_history(
    'current_rows',
    source_code='truyto',
    columns=[
        'case_id',
        'received_date',
        'article',
        'accused_count',
        'indictment_no',
        'indictment_date',
        'indicted_count',
        'status',
    ]
) }}
