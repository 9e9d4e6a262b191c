{{
    config(
        indexes=[
            {'columns': ['period_code'], 'unique': True},
        ]
    )
}}
{#- Reporting periods with their regime; cumulative periods overlap (never add
    a 6M value to a Q1 value). Seed: reporting_periods. -#}
with

periods as (
    select * from {{ ref('reporting_periods') }}
),

final as (
    select
        period_code,
        regime,
        report_year,
        period_kind,
        start_date,
        end_date,
        is_cumulative,
        quarter_index,
        due_date
    from periods
)

select * from final
