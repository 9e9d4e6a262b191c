{{
    config(
        indexes=[
            {'columns': ['period_code']},
            {'columns': ['unit_code']},
        ]
    )
}}
{#- Problems in the current version of each return: rows per rule and severity
    (`row` = quarantined, not loaded; `warn` = loaded and flagged), with the
    unit's agency, name and province (a unit the reference does not know counts
    for the deployment's province). severity_order lists quarantined rows first. -#}
with

quarantine as (
    select * from {{ ref('stg_audit__quarantine') }}
),

units as (
    select * from {{ ref('dim_reporting_units') }}
),

problems as (
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
),

final as (
    select
        problems.source,
        problems.unit_code,
        problems.period_code,
        problems.rule,
        problems.severity,
        problems.rows,
        units.agency_code,
        units.unit_name_vi,
        coalesce(units.province_code, '{{ var("province_code") }}') as province_code,
        cast(
            case problems.severity
                when 'row' then 1
                when 'warn' then 2
            end as integer
        ) as severity_order
    from problems
    left join units
        on problems.unit_code = units.unit_code
)

select * from final
