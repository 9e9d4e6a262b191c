{#- Incremental contribution models (int_indicator_events_*), keyed on the record
    (`record_ref`): each has an inputs model (one row per record: `record_key`,
    `input_hash` over everything the record's rows are computed from, and
    `built_input_hash`, the hash this model was last built from). A build recomputes
    the records whose two hashes differ (new, changed, or gone: a null `input_hash`):
    a pre-hook deletes their rows, the model's query produces theirs (filter
    `changed_event_records`) and appends them, a post-hook records the hashes built.
    A change to the models' SQL needs `--full-refresh`. -#}

{#- A query of the record keys whose rows must be recomputed. -#}
{% macro changed_event_records(inputs_model) %}
    {{ return(
        "select record_key from " ~ ref(inputs_model)
        ~ " where input_hash is distinct from built_input_hash"
    ) }}
{% endmacro %}


{#- Before an incremental build: the rows of changed records go (also those whose
    new state contributes nothing, which delete+insert alone would leave). -#}
{% macro delete_changed_event_records(inputs_model) %}
    {%- if is_incremental() %}
delete from {{ this }} where record_ref in ({{ changed_event_records(inputs_model) }})
    {%- else %}
select 1
    {%- endif %}
{% endmacro %}


{#- After every build, in its transaction: the hashes the table now reflects (the
    records gone are gone from the inputs too, as a rebuild of them would leave them). -#}
{% macro store_event_inputs(inputs_model) %}
delete from {{ ref(inputs_model) }} where input_hash is null;
update {{ ref(inputs_model) }} set built_input_hash = input_hash
where built_input_hash is distinct from input_hash
{% endmacro %}


{% macro event_inputs_config(inputs_model) %}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'fail',
        'indexes': [{'columns': ['record_ref']}, {'columns': ['period_code']}],
        'pre_hook': ["{{ delete_changed_event_records('" ~ inputs_model ~ "') }}"],
        'post_hook': ["{{ store_event_inputs('" ~ inputs_model ~ "') }}"],
    }) }}
{% endmacro %}


{#- The name of this model's table as the previous build left it, or '' before its
    first build: the bookkeeping models carry their `built_*` column over from it.
    Output, not a returned object, so the linter's templater renders it too. -#}
{% macro previous_version() -%}
    {%- if execute %}{{ load_relation(this) or '' }}{% endif -%}
{%- endmacro %}
