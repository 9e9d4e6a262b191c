{#- The periods whose rows fct_indicator_values (`this`) must rebuild: those whose
    fingerprint in int_indicator_value_slices differs from the one the table was
    last built from (`built_fingerprint`: a period new or changed), as a list of
    quoted constants for the model's `in (...)` filters (`null` when there is none).
    Periods with no input left are deleted by the post-hook. Asked before the
    model's query runs, so the filters are constants the planner sees. -#}
{% macro indicator_value_slices_to_rebuild() %}
    {%- if not execute %}
        {{ return(none) }}
    {%- endif %}
    {%- set query %}
        select slices.period_code
        from {{ ref('int_indicator_value_slices') }} as slices
        where slices.fingerprint is distinct from slices.built_fingerprint
        order by 1
    {%- endset %}
    {%- set periods = run_query(query).columns[0].values() %}
    {%- if not periods %}
        {{ return("null") }}
    {%- endif %}
    {%- set quoted = [] %}
    {%- for period in periods %}
        {%- do quoted.append("'" ~ (period | replace("'", "''")) ~ "'") %}
    {%- endfor %}
    {{ return(quoted | join(', ')) }}
{% endmacro %}


{#- Post-hook of fct_indicator_values, in its build's transaction: remove the rows
    of periods that no longer have any contribution (delete+insert only replaces the
    periods it produced rows for), then record the fingerprints the table now holds. -#}
{% macro record_built_slices() %}
{%- set slices = ref('int_indicator_value_slices') %}
delete from {{ this }} as stored
where not exists (
    select 1 from {{ slices }} as slices where slices.period_code = stored.period_code
);
update {{ slices }} set built_fingerprint = fingerprint
where built_fingerprint is distinct from fingerprint
{% endmacro %}
