{#- History of states: one row per criminal case at prosecution per current return
    (file status `loaded`), with the state reported at that period's end. -#}
with

source_rows as (
    select * from {{ source('truyto', 'truyto_cases') }}
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
        trim(source_rows.case_id) as record_key,
        trim(source_rows.case_id) as case_id,
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
        current_rows.case_id,
        current_rows.received_date,
        current_rows.article,
        current_rows.accused_count,
        current_rows.indictment_no,
        current_rows.indictment_date,
        current_rows.indicted_count,
        current_rows.status,
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
        one_per_return.case_id,
        one_per_return.received_date,
        one_per_return.article,
        one_per_return.accused_count,
        one_per_return.indictment_no,
        one_per_return.indictment_date,
        one_per_return.indicted_count,
        one_per_return.status,
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
