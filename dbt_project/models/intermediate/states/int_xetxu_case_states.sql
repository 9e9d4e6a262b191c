{#- History of states: one row per criminal case at one trial level per current return
    (file status `loaded`), with the state reported at that period's end. -#}
with

source_rows as (
    select * from {{ ref('stg_xetxu__cases') }}
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
        source_rows.trial_level || '|' || coalesce(
            source_rows.case_id,
            'judgment:' || source_rows.judgment_no,
            'row:' || source_rows.file_id || ':' || source_rows.row_number
        ) as record_key,
        source_rows.case_id,
        source_rows.trial_level,
        source_rows.received_date,
        source_rows.article,
        source_rows.defendants_count,
        source_rows.judgment_no,
        source_rows.trial_date,
        source_rows.convicted_count,
        source_rows.ordered_vnd,
        source_rows.status,
        source_rows.defendant_names_count
    from source_rows
    inner join files
        on source_rows.file_id = files.file_id
),

{{ state_history(
    'current_rows',
    source_code='xetxu',
    columns=[
        'case_id',
        'trial_level',
        'received_date',
        'article',
        'defendants_count',
        'judgment_no',
        'trial_date',
        'convicted_count',
        'ordered_vnd',
        'status',
        'defendant_names_count',
    ]
) }}
