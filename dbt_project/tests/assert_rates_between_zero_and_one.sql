-- Rates that are shares of a whole (seed indicators.is_bounded) lie between 0
-- and 1, and their numerator never exceeds their denominator. Counts, sums and
-- days are never negative.
with

indicator_values as (
    select * from {{ ref('fct_indicator_values') }}
),

indicators as (
    select * from {{ ref('indicators') }}
)

select
    indicator_values.indicator_code,
    indicator_values.period_code,
    indicator_values.unit_code,
    indicator_values.scope,
    indicator_values.value,
    indicator_values.numerator,
    indicator_values.denominator
from indicator_values
inner join indicators
    on indicator_values.indicator_code = indicators.indicator_code
where
    (
        indicators.is_bounded
        and (
            indicator_values.value not between 0 and 1
            or indicator_values.numerator > indicator_values.denominator
        )
    )
    or (indicators.calc <> 'ratio' and indicator_values.value < 0)
