{#- Reporting units with the unit each maps to today: successor_unit_code is
    followed up to four steps (the longest chain in the seed is two: an old
    district merged into a city, then the district level abolished on 1/7/2025).
    Self-joins rather than a recursive CTE keep the model unit-testable. -#}
with

units as (
    select * from {{ ref('reporting_units') }}
),

agencies as (
    select * from {{ ref('agencies') }}
),

provinces as (
    select * from {{ ref('provinces') }}
),

chain as (
    select
        units.unit_code,
        coalesce(step4.unit_code, step3.unit_code, step2.unit_code, step1.unit_code, units.unit_code)
            as current_unit_code
    from units
    left join units as step1
        on units.successor_unit_code = step1.unit_code
    left join units as step2
        on step1.successor_unit_code = step2.unit_code
    left join units as step3
        on step2.successor_unit_code = step3.unit_code
    left join units as step4
        on step3.successor_unit_code = step4.unit_code
),

final as (
    select
        units.unit_code,
        units.agency_code,
        agencies.agency_name_vi,
        agencies.source,
        units.unit_level,
        units.area_code,
        units.unit_name_vi,
        units.valid_from,
        units.valid_to,
        units.successor_unit_code,
        chain.current_unit_code,
        units.valid_to is null as is_current,
        units.province_code,
        provinces.province_name_vi
    from units
    inner join chain
        on units.unit_code = chain.unit_code
    left join agencies
        on units.agency_code = agencies.agency_code
    left join provinces
        on units.province_code = provinces.province_code
)

select * from final
