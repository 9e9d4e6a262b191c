{#- The order every report lists unit levels in: the national total, the province, its agencies, their units.
    One owner for the marts that carry `unit_level_order` (comparisons, phase totals). -#}
{% macro unit_level_order(unit_level) -%}
    cast(
        case {{ unit_level }}
            when 'national' then 0
            when 'province' then 1
            when 'agency' then 2
            when 'unit' then 3
        end as integer
    )
{%- endmacro %}
