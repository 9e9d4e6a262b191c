{#- Incremental contribution models (int_indicator_events_*), keyed on the record
    (`record_ref`): each has an inputs model (one row per record: `record_key`,
    `input_hash` over everything the record's rows are computed from, global state
    included) rebuilt every build, and keeps a copy of it as of its own last build
    (`<inputs>__built`). A build recomputes the records whose hash is new, changed or
    gone: a pre-hook deletes their rows, the model's query produces theirs (filter
    `changed_event_records`) and appends them, a post-hook stores the inputs it was built from. A change
    to the models' SQL needs `--full-refresh`. -#}

{% macro event_inputs_built(inputs_model) %}
    {%- set inputs = ref(inputs_model) %}
    {{ return(api.Relation.create(
        database=inputs.database, schema=inputs.schema, identifier=inputs.identifier ~ '__built'
    )) }}
{% endmacro %}


{#- A query of the record keys whose rows must be recomputed: every record of the
    inputs when no copy is stored yet. -#}
{% macro changed_event_records(inputs_model) %}
    {%- set inputs = ref(inputs_model) %}
    {%- if not execute %}
        {{ return("select record_key from " ~ inputs) }}
    {%- endif %}
    {%- set built = event_inputs_built(inputs_model) %}
    {%- if adapter.get_relation(
        database=built.database, schema=built.schema, identifier=built.identifier
    ) is not none %}
        {{ return(
            "select record_key from (select record_key, input_hash from " ~ inputs
            ~ " except select record_key, input_hash from " ~ built ~ ") as changed"
            ~ " union select record_key from (select record_key from " ~ built
            ~ " except select record_key from " ~ inputs ~ ") as gone"
        ) }}
    {%- endif %}
    {{ return("select record_key from " ~ inputs) }}
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


{#- After every build: store the inputs the table now reflects, as a difference (the
    records whose hash changed or went; the others' rows stay as they are). -#}
{% macro store_event_inputs(inputs_model) %}
    {%- set inputs = ref(inputs_model) %}
    {%- set built = event_inputs_built(inputs_model) %}
create table if not exists {{ built }} as select record_key, input_hash from {{ inputs }} with no data;
create unique index if not exists {{ built.identifier }}_key on {{ built }} (record_key);
delete from {{ built }} as stored
where not exists (
    select 1 from {{ inputs }} as inputs
    where inputs.record_key = stored.record_key and inputs.input_hash = stored.input_hash
);
insert into {{ built }} (record_key, input_hash)
select inputs.record_key, inputs.input_hash from {{ inputs }} as inputs
where not exists (select 1 from {{ built }} as stored where stored.record_key = inputs.record_key)
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
