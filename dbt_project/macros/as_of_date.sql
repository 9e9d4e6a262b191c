{#- The date on which returns are judged due, late or missing (the chase list's
    clock): var('as_of_date') as the run passes it (a DAG its logical date,
    `make run` today), else today in var('local_time_zone'). Never the data's
    own latest date: the morning after a deadline nobody may have sent yet. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {%- set tz = modules.pytz.timezone(var('local_time_zone')) -%}
        {%- set value = modules.datetime.datetime.now(tz).date().isoformat() -%}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error("var as_of_date must be a date yyyy-mm-dd, got '" ~ text ~ "'") }}
    {%- endif -%}
    cast('{{ text }}' as date)
{%- endmacro %}
