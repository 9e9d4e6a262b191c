{{
    config(
        indexes=[
            {'columns': ['period_code']},
            {'columns': ['unit_code']},
        ]
    )
}}
{#- Problems in the current version of each return: rows per rule and severity
    (`row` = quarantined, not loaded; `warn` = loaded and flagged). -#}
with

quarantine as (
    select * from {{ ref('stg_audit__quarantine') }}
),

final as (
    select
        source,
        unit_code,
        period_code,
        rule,
        severity,
        cast(count(distinct file_id || ':' || row_number) as integer) as rows
    from quarantine
    where file_status = 'loaded'
    group by
        source,
        unit_code,
        period_code,
        rule,
        severity
)

select * from final
