{#- History of states: one row per inspection or internal check per current return
    (file status `loaded`), with the state reported at that period's end. -#}
with

source_rows as (
    select * from {{ ref('stg_thanhtra__inspections') }}
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
        files.unit_code || '|' || source_rows.inspection_id as record_key,
        source_rows.inspection_id,
        source_rows.title,
        source_rows.kind,
        source_rows.sector,
        source_rows.inspected_entity,
        source_rows.start_date,
        source_rows.status,
        source_rows.conclusion_no,
        source_rows.conclusion_date,
        source_rows.violation_vnd,
        source_rows.violation_land_m2,
        source_rows.recommended_recovery_vnd,
        source_rows.recovered_vnd,
        source_rows.orgs_proposed,
        source_rows.persons_proposed,
        source_rows.heads_disciplined,
        source_rows.corruption_cases,
        source_rows.corruption_persons,
        source_rows.transferred_cases,
        source_rows.transferred_persons,
        source_rows.transfer_ref
    from source_rows
    inner join files
        on source_rows.file_id = files.file_id
),

{{ state_history(
    'current_rows',
    source_code='thanhtra',
    columns=[
        'inspection_id',
        'title',
        'kind',
        'sector',
        'inspected_entity',
        'start_date',
        'status',
        'conclusion_no',
        'conclusion_date',
        'violation_vnd',
        'violation_land_m2',
        'recommended_recovery_vnd',
        'recovered_vnd',
        'orgs_proposed',
        'persons_proposed',
        'heads_disciplined',
        'corruption_cases',
        'corruption_persons',
        'transferred_cases',
        'transferred_persons',
        'transfer_ref',
    ]
) }}
