{#- History of states: one row per enforcement matter per current return
    (file status `loaded`), with the state reported at that period's end. -#}
with

source_rows as (
    select * from {{ ref('stg_thads__matters') }}
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
        files.unit_code || '|' || source_rows.decision_no as record_key,
        source_rows.decision_no,
        source_rows.judgment_no,
        source_rows.case_id,
        source_rows.decision_date,
        source_rows.due_vnd,
        source_rows.enforceable,
        source_rows.collected_vnd,
        source_rows.status
    from source_rows
    inner join files
        on source_rows.file_id = files.file_id
),

{{ state_history(
    'current_rows',
    source_code='thads',
    columns=[
        'decision_no',
        'judgment_no',
        'case_id',
        'decision_date',
        'due_vnd',
        'enforceable',
        'collected_vnd',
        'status',
    ]
) }}
