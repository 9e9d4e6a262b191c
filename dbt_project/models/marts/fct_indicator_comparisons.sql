{{
    config(
        indexes=[
            {'columns': ['period_code', 'unit_level']},
            {'columns': ['province_code', 'period_code']},
            {'columns': ['indicator_code']},
        ]
    )
}}
{#- Each indicator value beside the same period one year earlier (2025-9M
    against 2024-9M, 2025-Y against 2024-Y, in the same regime), for every
    unit, agency, province and the national total, as reported and restated,
    every scope: the
    change as a difference, as a relative change and, for ratios, in
    percentage points. Carries the names and the agency a report needs, so
    the extract and the yearly draft only select. -#}
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

units as (
    select * from {{ ref('dim_reporting_units') }}
),

agencies as (
    select * from {{ ref('agencies') }}
),

provinces as (
    select * from {{ ref('dim_provinces') }}
),

periods_with_previous as (
    select
        periods.period_code,
        previous.period_code as previous_period_code
    from periods
    left join periods as previous
        on
            periods.regime = previous.regime
            and periods.period_kind = previous.period_kind
            and periods.report_year - 1 = previous.report_year
),

named as (
    select
        indicator_values.*,
        case indicator_values.unit_level
            when 'unit' then units.agency_code
            when 'agency' then indicator_values.unit_code
        end as agency_code,
        case indicator_values.unit_level
            when 'unit' then units.unit_name_vi
            when 'agency' then agencies.agency_name_vi
            when 'province' then coalesce(provinces.province_name_vi, indicator_values.unit_code)
            else '{{ var("national_name_vi") }}'
        end as unit_name_vi
    from indicator_values
    left join units
        on
            indicator_values.unit_level = 'unit'
            and indicator_values.unit_code = units.unit_code
    left join agencies
        on
            indicator_values.unit_level = 'agency'
            and indicator_values.unit_code = agencies.agency_code
    left join provinces
        on
            indicator_values.unit_level = 'province'
            and indicator_values.unit_code = provinces.province_code
),

final as (
    select
        named.indicator_code,
        named.period_code,
        named.report_year,
        named.province_code,
        named.unit_code,
        named.unit_level,
        {{ unit_level_order('named.unit_level') }} as unit_level_order,
        named.agency_code,
        named.unit_name_vi,
        named.restatement,
        named.scope,
        named.value,
        named.numerator,
        named.denominator,
        periods_with_previous.previous_period_code,
        previous.value as previous_value,
        named.value - previous.value as change_abs,
        case
            when previous.value <> 0 then round((named.value - previous.value) / abs(previous.value), 6)
        end as change_pct,
        case
            when indicators.unit = 'ratio' then round((named.value - previous.value) * 100, 4)
        end as change_points
    from named
    inner join indicators
        on named.indicator_code = indicators.indicator_code
    inner join periods_with_previous
        on named.period_code = periods_with_previous.period_code
    left join indicator_values as previous
        on
            periods_with_previous.previous_period_code = previous.period_code
            and named.indicator_code = previous.indicator_code
            and named.province_code = previous.province_code
            and named.unit_code = previous.unit_code
            and named.unit_level = previous.unit_level
            and named.restatement = previous.restatement
            and named.scope = previous.scope
)

select * from final
