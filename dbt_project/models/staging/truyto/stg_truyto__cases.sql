{#- Latest state of each criminal case at prosecution: from the return with the latest period end;
    among returns ending the same day (Q4 and Y) the cumulative one, then the
    highest version. Event dates do not change, so indicators take events from
    here and place them in every period whose dates contain them. -#}
with

states as (
    select * from {{ ref('stg_truyto__case_states') }}
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

indictment_returns as (
    -- the first return that reported the event
    select distinct on (states.record_key)
        states.record_key,
        states.unit_code as indictment_unit_code
    from states
    where states.indictment_date is not null
    order by states.record_key asc, states.period_end_date asc, states.file_id asc
),

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
        latest.case_id,
        latest.received_date,
        latest.article,
        latest.accused_count,
        latest.indictment_no,
        latest.indictment_date,
        latest.indicted_count,
        latest.status,
        latest.unit_code as last_reported_unit_code,
        latest.period_code as last_reported_period_code,
        latest.period_end_date as last_reported_on,
        latest.file_id as last_file_id,
        history.first_reported_on,
        first_returns.first_reported_unit_code,
        history.returns_reported,
        indictment_returns.indictment_unit_code,
        status_since.status_since_date
    from latest
    inner join history
        on latest.record_key = history.record_key
    inner join first_returns
        on latest.record_key = first_returns.record_key
    inner join status_since
        on latest.record_key = status_since.record_key
    left join indictment_returns
        on latest.record_key = indictment_returns.record_key
)

select * from final
