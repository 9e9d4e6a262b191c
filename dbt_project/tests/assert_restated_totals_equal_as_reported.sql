-- Restatement moves values between units, never changes totals: for additive
-- (summed) indicators the units' as-reported total, the units' restated total
-- and the province value agree in every province, and the national value is the
-- sum of the province values; agency, province and national rows are identical
-- as reported and restated for every indicator.
with

indicator_values as (
    select * from {{ ref('fct_indicator_values') }}
),

indicators as (
    select * from {{ ref('indicators') }}
),

unit_totals as (
    select
        indicator_code,
        period_code,
        scope,
        province_code,
        coalesce(sum(value) filter (where restatement = 'as_reported'), 0) as as_reported_total,
        coalesce(sum(value) filter (where restatement = 'restated'), 0) as restated_total
    from indicator_values
    where unit_level = 'unit'
    group by indicator_code, period_code, scope, province_code
),

province as (
    select
        indicator_code,
        period_code,
        scope,
        province_code,
        value
    from indicator_values
    where unit_level = 'province' and restatement = 'restated'
),

province_sums as (
    select
        indicator_code,
        period_code,
        scope,
        sum(value) as value
    from province
    group by indicator_code, period_code, scope
),

national as (
    select
        indicator_code,
        period_code,
        scope,
        value
    from indicator_values
    where unit_level = 'national' and restatement = 'restated'
),

unbalanced_national as (
    select
        national.indicator_code,
        national.period_code,
        national.scope,
        'the national value is not the sum of the provinces' as problem
    from national
    inner join indicators
        on national.indicator_code = indicators.indicator_code
    left join province_sums
        on
            national.indicator_code = province_sums.indicator_code
            and national.period_code = province_sums.period_code
            and national.scope = province_sums.scope
    where
        indicators.calc = 'sum'
        and national.value <> coalesce(province_sums.value, 0)
),

unbalanced_totals as (
    select
        unit_totals.indicator_code,
        unit_totals.period_code,
        unit_totals.scope,
        'unit totals differ from each other or from the province' as problem
    from unit_totals
    inner join indicators
        on unit_totals.indicator_code = indicators.indicator_code
    left join province
        on
            unit_totals.indicator_code = province.indicator_code
            and unit_totals.period_code = province.period_code
            and unit_totals.scope = province.scope
            and unit_totals.province_code = province.province_code
    where
        indicators.calc = 'sum'
        and (
            unit_totals.as_reported_total <> unit_totals.restated_total
            or unit_totals.restated_total <> coalesce(province.value, 0)
        )
),

rollups as (
    select
        indicator_code,
        period_code,
        scope,
        province_code,
        unit_code,
        unit_level,
        max(value) filter (where restatement = 'as_reported') as as_reported_value,
        max(value) filter (where restatement = 'restated') as restated_value,
        count(*) as restatements
    from indicator_values
    where unit_level in ('agency', 'province', 'national')
    group by indicator_code, period_code, scope, province_code, unit_code, unit_level
),

unequal_rollups as (
    select
        indicator_code,
        period_code,
        scope,
        unit_level || ' row differs between as reported and restated' as problem
    from rollups
    where
        restatements <> 2
        or as_reported_value is distinct from restated_value
)

select * from unbalanced_totals
union all
select * from unbalanced_national
union all
select * from unequal_rollups
