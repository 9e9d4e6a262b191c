{#- The latest state of each record from its history of states (the
    `int_<source>_<record>_states` models): the return with the latest period end; among returns ending
    the same day (Q4 and Y) the cumulative one, then the highest version. Also
    when and by which unit the record was first reported, the unit that first
    reported its event (when `event_date` is given), and since when its current
    status holds. One macro for the five sources, so the rule is written once.

    Materialised as an incremental table with a unique index on `record_key`: a
    build recomputes only the records whose history the state-history model
    rewrote since this table's last build (`refreshed_at` later than the
    `states_refreshed_at` stored here), and deletes the records that history no
    longer holds. -#}
{% macro latest_state(states_model, columns, event_date=none, event_unit_column=none) %}
    {{ config(**latest_state_config(states_model)) }}
    {%- set states_relation = ref(states_model) %}
with

states as (
    select * from {{ states_relation }}
{%- if is_incremental() %}
        -- a constant, so the planner estimates the recomputed records from the index's statistics
        where refreshed_at > '{{ latest_state_watermark() }}'::timestamptz
{%- endif %}
),

ranked as (
    select
        states.*,
        row_number() over (
            partition by states.record_key
            order by
                states.period_end_date desc nulls last,
                states.is_cumulative desc,
                states.file_version desc,
                states.file_id desc
        ) as recency_rank
    from states
),

latest as (
    select * from ranked
    where recency_rank = 1
),

history as (
    select
        states.record_key,
        min(states.period_end_date) as first_reported_on,
        count(*) as returns_reported,
        max(states.refreshed_at) as states_refreshed_at
    from states
    group by states.record_key
),

first_returns as (
    select distinct on (states.record_key)
        states.record_key,
        states.unit_code as first_reported_unit_code
    from states
    order by states.record_key asc, states.period_end_date asc, states.file_id asc
),
{% if event_date %}
event_returns as (
    -- the first return that reported the event
    select distinct on (states.record_key)
        states.record_key,
        states.unit_code as {{ event_unit_column }}
    from states
    where states.{{ event_date }} is not null
    order by states.record_key asc, states.period_end_date asc, states.file_id asc
),
{% endif %}
status_since as (
    select
        states.record_key,
        min(states.period_end_date) as status_since_date
    from states
    inner join latest
        on
            states.record_key = latest.record_key
            and states.status = latest.status
    group by states.record_key
),

final as (
    select
        latest.record_key,
        {% for column in columns %}
            latest.{{ column }},
        {% endfor %}
        latest.unit_code as last_reported_unit_code,
        latest.period_code as last_reported_period_code,
        latest.period_end_date as last_reported_on,
        latest.file_id as last_file_id,
        history.first_reported_on,
        first_returns.first_reported_unit_code,
        history.returns_reported,
        {% if event_date %}
            event_returns.{{ event_unit_column }},
        {% endif %}
        status_since.status_since_date,
        history.states_refreshed_at
    from latest
    inner join history
        on latest.record_key = history.record_key
    inner join first_returns
        on latest.record_key = first_returns.record_key
    inner join status_since
        on latest.record_key = status_since.record_key
    {% if event_date %}
        left join event_returns
            on latest.record_key = event_returns.record_key
    {% endif %}
)

select * from final
{% endmacro %}


{#- Configuration of a latest-state model: an incremental table, one row per
    record (unique index), replaced by delete+insert on `record_key`; after each
    build the records without any state left are deleted and the table analysed
    (if the build wrote to it). -#}
{% macro latest_state_config(states_model) %}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': 'record_key',
        'on_schema_change': 'fail',
        'analyzes_itself': true,
        'indexes': [
            {'columns': ['record_key'], 'unique': true},
        ],
        'post_hook': [
            "delete from {{ this }} as stored where not exists ("
            ~ " select 1 from {{ ref('" ~ states_model ~ "') }} as states"
            ~ " where states.record_key = stored.record_key)",
            "{{ analyze_if_changed() }}",
        ],
    }) }}
{% endmacro %}


{#- The latest `refreshed_at` of the state-history rows this table was built from. -#}
{% macro latest_state_watermark() %}
    {%- if not execute %}
        {{ return('-infinity') }}
    {%- endif %}
    {%- set result = run_query(
        "select coalesce(max(states_refreshed_at), '-infinity'::timestamptz)::text from " ~ this
    ) %}
    {{ return(result.columns[0].values()[0]) }}
{% endmacro %}
