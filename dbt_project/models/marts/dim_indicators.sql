{#- The indicators of the yearly evaluation: names, unit, formula in words,
    direction, whether the indicator is a headline (the summary and the yearly
    draft show headlines only) and the order every report shows them in
    (group, then the seed's sort order). Seed: indicators. -#}
with

indicators as (
    select * from {{ ref('indicators') }}
),

group_orders as (
    select
        group_code,
        group_order
    from (
        values
        ('detection', 1),
        ('handling', 2),
        ('recovery', 3),
        ('data_quality', 4)
    ) as group_list (group_code, group_order)
),

final as (
    select
        indicators.indicator_code,
        indicators.indicator_group,
        indicators.name_vi,
        indicators.name_en,
        indicators.unit,
        indicators.formula_vi,
        indicators.formula_en,
        indicators.direction,
        indicators.default_scope,
        indicators.is_additive,
        indicators.sort_order,
        coalesce(indicators.is_headline, false) as is_headline,
        group_orders.group_order,
        cast(
            row_number() over (
                order by group_orders.group_order, indicators.sort_order, indicators.indicator_code
            ) as integer
        ) as display_order
    from indicators
    inner join group_orders
        on indicators.indicator_group = group_orders.group_code
)

select * from final
