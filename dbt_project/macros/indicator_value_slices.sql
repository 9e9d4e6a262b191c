{#- The periods whose rows fct_indicator_values (`this`) must rebuild: those whose
    fingerprint in int_indicator_value_slices differs from the one stored when the
    table was last built (a period new, changed, or gone), as a list of quoted
    constants for the model's `in (...)` filters. None when nothing is stored yet
    (a table built before this bookkeeping): then every period is rebuilt. Asked
    before the model's query runs, so the filters are constants the planner sees. -#}
{% macro indicator_value_slices_to_rebuild() %}
    {%- if not execute %}
        {{ return(none) }}
    {%- endif %}
    {%- set slices = ref('int_indicator_value_slices') %}
    {%- set built = built_slices_relation() %}
    {%- if adapter.get_relation(database=built.database, schema=built.schema, identifier=built.identifier) is none %}
        {{ return(none) }}
    {%- endif %}
    {%- set query %}
        select coalesce(current_slices.period_code, built_slices.period_code) as period_code
        from {{ slices }} as current_slices
        full outer join {{ built }} as built_slices
            on current_slices.period_code = built_slices.period_code
        where current_slices.fingerprint is distinct from built_slices.fingerprint
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


{#- Where fct_indicator_values keeps the fingerprints it was built from: beside
    int_indicator_value_slices, named after it. -#}
{% macro built_slices_relation() %}
    {%- set slices = ref('int_indicator_value_slices') %}
    {{ return(api.Relation.create(
        database=slices.database, schema=slices.schema, identifier=slices.identifier ~ '__built'
    )) }}
{% endmacro %}


{#- Post-hooks of fct_indicator_values, in its build's transaction: remove the rows
    of periods that no longer have any contribution (delete+insert only replaces the
    periods it produced rows for), then store the fingerprints the table now holds. -#}
{% macro record_built_slices() %}
    {%- set slices = ref('int_indicator_value_slices') %}
    {%- set built = built_slices_relation() %}
delete from {{ this }} as stored
where not exists (
    select 1 from {{ slices }} as slices where slices.period_code = stored.period_code
);
create table if not exists {{ built }} as select period_code, fingerprint from {{ slices }} with no data;
delete from {{ built }};
insert into {{ built }} (period_code, fingerprint) select period_code, fingerprint from {{ slices }}
{% endmacro %}
