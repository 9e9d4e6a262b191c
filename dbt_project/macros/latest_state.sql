{#- The latest state of each record from its history of states (the `*_states`
    staging models): the return with the latest period end; among returns ending
    the same day (Q4 and Y) the cumulative one, then the highest version. Also
    when and by which unit the record was first reported, the unit that first
    reported its event (when `event_date` is given), and since when its current
    status holds. One macro for the five sources, so the rule is written once. -#}
{% macro latest_state(states_relation, columns, event_date=none, event_unit_column=none) %}
with

states as (
    select * from {{ states_relation }}
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
        count(*) as returns_reported
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
        status_since.status_since_date
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
