{#- Models land exactly in the schema their folder names (staging, intermediate,
    marts; seeds in reference), without the target's prefix: other parts of the
    project read these names (docs/interfaces.md). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
