{{
    config(
        indexes=[
            {'columns': ['province_code'], 'unique': True},
        ]
    )
}}
{#- The provincial-level units (34 since 12/06/2025) whose units send returns:
    the province dimension of the indicator marts. The national total row of
    those marts (var national_code) is not a province and has no row here. -#}
with

provinces as (
    select * from {{ ref('provinces') }}
),

units as (
    select * from {{ ref('int_reporting_units_resolved') }}
),

unit_counts as (
    select
        province_code,
        count(*) as reporting_units
    from units
    group by province_code
),

final as (
    select
        provinces.province_code,
        provinces.province_name_vi,
        provinces.province_name_en,
        provinces.province_kind,
        provinces.sort_order,
        cast(coalesce(unit_counts.reporting_units, 0) as integer) as reporting_units
    from provinces
    left join unit_counts
        on provinces.province_code = unit_counts.province_code
)

select * from final
