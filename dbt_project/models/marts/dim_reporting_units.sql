{{
    config(
        indexes=[
            {'columns': ['unit_code'], 'unique': True},
        ]
    )
}}
{#- Reporting units with validity dates, agency, level, area and the unit each
    maps to today (after the 1/7/2025 reorganisation), and the province it
    belongs to. Seeds: reporting_units, provinces. -#}
with

units as (
    select * from {{ ref('int_reporting_units_resolved') }}
),

final as (
    select
        unit_code,
        agency_code,
        agency_name_vi,
        unit_level,
        area_code,
        unit_name_vi,
        valid_from,
        valid_to,
        successor_unit_code,
        current_unit_code,
        is_current,
        province_code,
        province_name_vi
    from units
)

select * from final
