{#- The indicators of the yearly evaluation: names, unit, formula in words and
    direction. Seed: indicators (which also holds how each is computed). -#}
with

indicators as (
    select * from {{ ref('indicators') }}
),

final as (
    select
        indicator_code,
        indicator_group,
        name_vi,
        name_en,
        unit,
        formula_vi,
        formula_en,
        direction,
        default_scope,
        is_additive,
        sort_order
    from indicators
)

select * from final
