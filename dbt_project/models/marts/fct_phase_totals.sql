{#- Totals of the additive indicators over each phase of the provincial plan
    (seed strategy_phases: 2023-2026 and 2026-2030, sharing 2026), summed from
    the yearly (Y) values restated on today's units, for every unit, agency and
    the province. years_covered tells how many of the phase's years have data. -#}
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

phases as (
    select * from {{ ref('strategy_phases') }}
),

final as (
    select
        indicator_values.indicator_code,
        phases.phase_code,
        indicator_values.unit_code,
        indicator_values.scope,
        sum(indicator_values.value) as value,
        cast(count(distinct indicator_values.report_year) as integer) as years_covered
    from indicator_values
    inner join indicators
        on indicator_values.indicator_code = indicators.indicator_code
    inner join periods
        on indicator_values.period_code = periods.period_code
    inner join phases
        on indicator_values.report_year between phases.start_year and phases.end_year
    where
        indicators.is_additive
        and periods.period_kind = 'Y'
        and indicator_values.restatement = 'restated'
    group by
        indicator_values.indicator_code,
        phases.phase_code,
        indicator_values.unit_code,
        indicator_values.scope
)

select * from final
