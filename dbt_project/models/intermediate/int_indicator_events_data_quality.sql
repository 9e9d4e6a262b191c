{#- Contributions to the data-quality indicators, per return (period = the
    return's own period, not an event date):
    - DQ_RETURNS_MISSING: each expected return, 1 when no file of it was loaded;
    - DQ_ROWS_QUARANTINED: rows quarantined in the current version of each return;
    - DQ_CASE_LINK_RATE: each prosecution, trial and enforcement record listed in
      the period's returns, 1 when the spine links it to an earlier stage. -#}
with

submissions as (
    select * from {{ ref('int_return_submissions') }}
),

case_records as (
    select * from {{ ref('int_case_records_linked') }}
),

prosecution_states as (
    select * from {{ ref('int_truyto_case_states') }}
),

trial_states as (
    select * from {{ ref('int_xetxu_case_states') }}
),

matter_states as (
    select * from {{ ref('int_thads_matter_states') }}
),

downstream_states as (
    select
        'prosecution' as stage,
        record_key,
        unit_code,
        period_code,
        file_version,
        file_id
    from prosecution_states
    union all
    select
        trial_level as stage,
        record_key,
        unit_code,
        period_code,
        file_version,
        file_id
    from trial_states
    union all
    select
        'enforcement' as stage,
        record_key,
        unit_code,
        period_code,
        file_version,
        file_id
    from matter_states
),

reported_records as (
    select
        downstream_states.period_code,
        downstream_states.unit_code,
        downstream_states.stage,
        downstream_states.record_key,
        coalesce(case_records.is_linked_upstream, false) as is_linked_upstream,
        row_number() over (
            partition by downstream_states.period_code, downstream_states.stage, downstream_states.record_key
            order by downstream_states.file_version desc, downstream_states.file_id desc
        ) as report_rank
    from downstream_states
    left join case_records
        on
            downstream_states.stage = case_records.stage
            and downstream_states.record_key = case_records.record_key
),

events as (
    select
        'DQ_RETURNS_MISSING' as indicator_code,
        period_code,
        unit_code,
        source || ':' || period_code as record_ref,
        case when is_loaded then 0 else 1 end as numerator,
        cast(null as numeric) as denominator
    from submissions
    where expected
    union all
    select
        'DQ_ROWS_QUARANTINED' as indicator_code,
        period_code,
        unit_code,
        source || ':' || period_code as record_ref,
        rows_quarantined as numerator,
        cast(null as numeric) as denominator
    from submissions
    where is_loaded
    union all
    select
        'DQ_CASE_LINK_RATE' as indicator_code,
        period_code,
        unit_code,
        stage || ':' || record_key as record_ref,
        case when is_linked_upstream then 1 else 0 end as numerator,
        1 as denominator
    from reported_records
    where report_rank = 1
),

final as (
    select
        indicator_code,
        period_code,
        unit_code,
        cast(null as smallint) as article,
        record_ref,
        cast(numerator as numeric) as numerator,
        cast(denominator as numeric) as denominator,
        cast(null as numeric) as measure
    from events
)

select * from final
