-- Cumulative counts never fall from Q1 to 6M to 9M to Y (domain.md): for every
-- additive flow indicator, province, unit, level, restatement and scope, a later period
-- of the cumulative chain of a year never shows less than an earlier one.
with

indicator_values as (
    select * from {{ ref('fct_indicator_values') }}
),

indicators as (
    select * from {{ ref('indicators') }}
),

periods as (
    select * from {{ ref('dim_reporting_periods') }}
),

cumulative_chain as (
    select
        indicator_values.indicator_code,
        periods.report_year,
        indicator_values.province_code,
        indicator_values.unit_code,
        indicator_values.unit_level,
        indicator_values.restatement,
        indicator_values.scope,
        periods.quarter_index,
        indicator_values.period_code,
        indicator_values.value
    from indicator_values
    inner join indicators
        on indicator_values.indicator_code = indicators.indicator_code
    inner join periods
        on indicator_values.period_code = periods.period_code
    where
        indicators.calc = 'sum'
        and indicators.measure_kind = 'flow'
        and periods.period_kind in ('Q1', '6M', '9M', 'Y')
),

compared as (
    select
        cumulative_chain.*,
        lag(cumulative_chain.value) over (
            partition by
                cumulative_chain.indicator_code,
                cumulative_chain.report_year,
                cumulative_chain.province_code,
                cumulative_chain.unit_code,
                cumulative_chain.unit_level,
                cumulative_chain.restatement,
                cumulative_chain.scope
            order by cumulative_chain.quarter_index
        ) as earlier_value
    from cumulative_chain
)

select * from compared
where value < earlier_value
