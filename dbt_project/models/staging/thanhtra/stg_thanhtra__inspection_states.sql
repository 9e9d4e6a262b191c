{#- History of states: one row per inspection or internal check per current return
    (file status `loaded`), with the state reported at that period's end. -#}
with

source_rows as (
    select * from {{ source('thanhtra', 'thanhtra_inspections') }}
),

files as (
    select * from {{ ref('stg_registry__files') }}
    where status = 'loaded'
),

current_rows as (
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
        files.unit_code || '|' || trim(source_rows.inspection_id) as record_key,
        trim(source_rows.inspection_id) as inspection_id,
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
        nullif(upper(trim(source_rows.transfer_ref)), '') as transfer_ref
    from source_rows
    inner join files
        on source_rows.file_id = files.file_id
),

one_per_return as (
    -- should two loaded versions of one return coexist, the later version wins
    select
        current_rows.file_id,
        current_rows.row_number,
        current_rows.unit_code,
        current_rows.period_code,
        current_rows.report_year,
        current_rows.period_kind,
        current_rows.period_start_date,
        current_rows.period_end_date,
        current_rows.is_cumulative,
        current_rows.file_version,
        current_rows.record_key,
        current_rows.inspection_id,
        current_rows.title,
        current_rows.kind,
        current_rows.sector,
        current_rows.inspected_entity,
        current_rows.start_date,
        current_rows.status,
        current_rows.conclusion_no,
        current_rows.conclusion_date,
        current_rows.violation_vnd,
        current_rows.violation_land_m2,
        current_rows.recommended_recovery_vnd,
        current_rows.recovered_vnd,
        current_rows.orgs_proposed,
        current_rows.persons_proposed,
        current_rows.heads_disciplined,
        current_rows.corruption_cases,
        current_rows.corruption_persons,
        current_rows.transferred_cases,
        current_rows.transferred_persons,
        current_rows.transfer_ref,
        row_number() over (
            partition by current_rows.record_key, current_rows.unit_code, current_rows.period_code
            order by current_rows.file_version desc, current_rows.file_id desc
        ) as version_rank
    from current_rows
),

final as (
    select
        one_per_return.file_id,
        one_per_return.row_number,
        one_per_return.unit_code,
        one_per_return.period_code,
        one_per_return.report_year,
        one_per_return.period_kind,
        one_per_return.period_start_date,
        one_per_return.period_end_date,
        one_per_return.is_cumulative,
        one_per_return.file_version,
        one_per_return.record_key,
        one_per_return.inspection_id,
        one_per_return.title,
        one_per_return.kind,
        one_per_return.sector,
        one_per_return.inspected_entity,
        one_per_return.start_date,
        one_per_return.status,
        one_per_return.conclusion_no,
        one_per_return.conclusion_date,
        one_per_return.violation_vnd,
        one_per_return.violation_land_m2,
        one_per_return.recommended_recovery_vnd,
        one_per_return.recovered_vnd,
        one_per_return.orgs_proposed,
        one_per_return.persons_proposed,
        one_per_return.heads_disciplined,
        one_per_return.corruption_cases,
        one_per_return.corruption_persons,
        one_per_return.transferred_cases,
        one_per_return.transferred_persons,
        one_per_return.transfer_ref,
        lag(one_per_return.status) over (
            partition by one_per_return.record_key
            order by
                one_per_return.period_end_date,
                one_per_return.is_cumulative,
                one_per_return.file_id
        ) as previous_status
    from one_per_return
    where one_per_return.version_rank = 1
)

select * from final
