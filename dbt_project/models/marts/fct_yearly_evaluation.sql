{{
    config(
        indexes=[
            {'columns': ['report_year']},
            {'columns': ['indicator_code']},
        ]
    )
}}
{#- The yearly evaluation: each indicator's yearly (Y) value for each province
    (and the national total, unit_level national) on
    today's units beside the previous year's, the change (difference, relative
    change and, for ratios, percentage points), and the target the
    Inspectorate set (seed indicator_targets, for the indicator's default scope). -#}
with

indicator_values as (
    select * from {{ ref('fct_indicator_values') }}
),

indicators as (
    select * from {{ ref('dim_indicators') }}
),

periods as (
    select * from {{ ref('dim_reporting_periods') }}
),

targets as (
    select * from {{ ref('indicator_targets') }}
),

yearly as (
    select
        indicator_values.indicator_code,
        periods.report_year,
        indicator_values.province_code,
        indicator_values.unit_code,
        indicator_values.unit_level,
        indicator_values.scope,
        indicator_values.value
    from indicator_values
    inner join periods
        on indicator_values.period_code = periods.period_code
    where
        periods.period_kind = 'Y'
        and indicator_values.unit_level in ('province', 'national')
        and indicator_values.restatement = 'restated'
),

final as (
    select
        yearly.indicator_code,
        yearly.report_year,
        yearly.province_code,
        yearly.unit_code,
        yearly.unit_level,
        yearly.scope,
        yearly.value,
        previous.value as previous_value,
        yearly.value - previous.value as change_abs,
        case
            when previous.value <> 0 then round((yearly.value - previous.value) / abs(previous.value), 6)
        end as change_pct,
        case
            when indicators.unit = 'ratio' then round((yearly.value - previous.value) * 100, 4)
        end as change_points,
        targets.target_value,
        case
            when targets.target_value is null or yearly.value is null then null
            when indicators.direction = 'higher_is_better' then yearly.value >= targets.target_value
            when indicators.direction = 'lower_is_better' then yearly.value <= targets.target_value
        end as target_met
    from yearly
    inner join indicators
        on yearly.indicator_code = indicators.indicator_code
    left join yearly as previous
        on
            yearly.indicator_code = previous.indicator_code
            and yearly.unit_code = previous.unit_code
            and yearly.scope = previous.scope
            and yearly.report_year - 1 = previous.report_year
    left join targets
        on
            yearly.indicator_code = targets.indicator_code
            and yearly.report_year = targets.report_year
            and yearly.unit_code = targets.unit_code
            and yearly.scope = indicators.default_scope
)

select * from final
