{#- The stages of a case in the order a case moves through them, written once: an
    inspection's transfer, investigation, prosecution, first-instance trial, appeal,
    enforcement. Stage codes are the `stage` values of int_case_records_linked; the
    order is what "furthest stage" and "linked to an earlier stage" compare. -#}
{% macro case_stages() %}
    {{ return(['inspection_transfer', 'investigation', 'prosecution', 'first_instance', 'appeal', 'enforcement']) }}
{% endmacro %}


{#- The order (0 = inspection_transfer ... 5 = enforcement) of the stage code in `stage`, an SQL expression. -#}
{% macro case_stage_order(stage) -%}
    case {{ stage }}{% for code in case_stages() %} when '{{ code }}' then {{ loop.index0 }}{% endfor %} end
{%- endmacro %}


{#- The stage code of the order in `stage_order`, an SQL expression (the inverse of `case_stage_order`). -#}
{% macro case_stage_code(stage_order) -%}
    case {{ stage_order }}{% for code in case_stages() %} when {{ loop.index0 }} then '{{ code }}'{% endfor %} end
{%- endmacro %}
