with

quarantine as (
    select * from {{ source('audit', 'quarantine') }}
),

files as (
    select * from {{ ref('stg_registry__files') }}
),

final as (
    select
        quarantine.file_id,
        quarantine.row_number,
        quarantine.column_name,
        quarantine.rule,
        quarantine.severity,
        quarantine.reason_vi,
        quarantine.reason_en,
        files.source,
        files.unit_code,
        files.period_code,
        files.status as file_status
    from quarantine
    left join files
        on quarantine.file_id = files.file_id
)

select * from final
