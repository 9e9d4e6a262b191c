{#- Totals of the additive indicators over each phase of the provincial plan
    (seed strategy_phases: 2023-2026 and 2026-2030, sharing 2026), summed from
    the yearly (Y) values restated on today's units, for every unit, agency,
    province and the national total, with the level and name a report shows. years_covered tells
    how many of the phase's years have data, first/last_year_covered which. -#}
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

units as (
    select * from {{ ref('dim_reporting_units') }}
),

agencies as (
    select * from {{ ref('agencies') }}
),

provinces as (
    select * from {{ ref('dim_provinces') }}
),

totals as (
    select
        indicator_values.indicator_code,
        phases.phase_code,
        indicator_values.province_code,
        indicator_values.unit_code,
        indicator_values.unit_level,
        indicator_values.scope,
        sum(indicator_values.value) as value,
        cast(count(distinct indicator_values.report_year) as integer) as years_covered,
        cast(min(indicator_values.report_year) as integer) as first_year_covered,
        cast(max(indicator_values.report_year) as integer) as last_year_covered
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
        indicator_values.province_code,
        indicator_values.unit_code,
        indicator_values.unit_level,
        indicator_values.scope
),

final as (
    select
        totals.indicator_code,
        totals.phase_code,
        totals.province_code,
        totals.unit_code,
        totals.unit_level,
        {{ unit_level_order('totals.unit_level') }} as unit_level_order,
        case totals.unit_level
            when 'unit' then units.agency_code
            when 'agency' then totals.unit_code
        end as agency_code,
        case totals.unit_level
            when 'unit' then units.unit_name_vi
            when 'agency' then agencies.agency_name_vi
            when 'province' then coalesce(provinces.province_name_vi, totals.unit_code)
            else '{{ var("national_name_vi") }}'
        end as unit_name_vi,
        totals.scope,
        totals.value,
        totals.years_covered,
        totals.first_year_covered,
        totals.last_year_covered
    from totals
    left join units
        on
            totals.unit_level = 'unit'
            and totals.unit_code = units.unit_code
    left join agencies
        on
            totals.unit_level = 'agency'
            and totals.unit_code = agencies.agency_code
    left join provinces
        on
            totals.unit_level = 'province'
            and totals.unit_code = provinces.province_code
)

select * from final
