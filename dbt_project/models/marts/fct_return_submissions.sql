{{
    config(
        indexes=[
            {'columns': ['period_code']},
            {'columns': ['unit_code']},
        ]
    )
}}
{#- Returns expected and received per source, unit and period, with timeliness
    and row counts of the current version (see int_return_submissions), and the
    unit's agency, name and province that a report lists them under (a unit the
    reference does not know counts for the deployment's province, as in
    fct_indicator_values). status_order ranks what needs chasing first. -#}
with

submissions as (
    select * from {{ ref('int_return_submissions') }}
),

units as (
    select * from {{ ref('dim_reporting_units') }}
),

final as (
    select
        submissions.source,
        submissions.unit_code,
        submissions.period_code,
        submissions.due_date,
        submissions.expected,
        submissions.received_at,
        submissions.file_id,
        submissions.status,
        submissions.rows_read,
        submissions.rows_loaded,
        submissions.rows_quarantined,
        units.agency_code,
        units.unit_name_vi,
        coalesce(units.province_code, '{{ var("province_code") }}') as province_code,
        cast(
            case submissions.status
                when 'missing' then 1
                when 'rejected' then 2
                when 'late' then 3
                when 'on_time' then 4
            end as integer
        ) as status_order
    from submissions
    left join units
        on submissions.unit_code = units.unit_code
)

select * from final
