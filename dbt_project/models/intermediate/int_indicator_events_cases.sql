{#- Contributions of criminal cases to the indicators, from the case spine.
    Flows: the primary record of each case at a stage, placed in every period
    whose dates contain its event date (initiation, indictment, first-instance
    trial), attributed to the unit of the first return that reported the event.
    Backlog is a stock: the returns for each period's end date, each case once
    at the furthest stage reported there, counted when its status there is open.
    `article` is the stage's own article: the scope a reporting agency gives. -#}
with

case_records as (
    select * from {{ ref('int_case_records_linked') }}
),

investigation_states as (
    select * from {{ ref('int_dieutra_case_states') }}
),

prosecution_states as (
    select * from {{ ref('int_truyto_case_states') }}
),

trial_states as (
    select * from {{ ref('int_xetxu_case_states') }}
),

channels as (
    select * from {{ ref('detection_channels') }}
),

active_periods as (
    select * from {{ ref('int_active_periods') }}
),

primary_records as (
    select * from case_records
    where is_primary
),

initiations as (
    select
        case_key,
        event_date as initiation_date
    from primary_records
    where stage = 'investigation'
),

new_cases as (
    select
        active_periods.period_code,
        primary_records.unit_code,
        primary_records.article,
        primary_records.case_key,
        coalesce(primary_records.persons_count, 0) as accused_count,
        primary_records.detection_channel,
        coalesce(channels.is_self_detection, false) as is_self_detection,
        primary_records.damage_vnd,
        coalesce(primary_records.secured_vnd, 0) as secured_vnd
    from primary_records
    inner join active_periods
        on primary_records.event_date between active_periods.start_date and active_periods.end_date
    left join channels
        on primary_records.detection_channel = channels.channel_code
    where primary_records.stage = 'investigation'
),

investigation_caseload as (
    -- carried over or new during the period: initiated by its end, not closed before its start
    select
        active_periods.period_code,
        primary_records.unit_code,
        primary_records.article,
        primary_records.case_key,
        primary_records.status in ('suspended', 'terminated')
        and primary_records.closed_on between active_periods.start_date and active_periods.end_date
            as is_dropped
    from primary_records
    inner join active_periods
        on
            primary_records.event_date <= active_periods.end_date
            and (primary_records.closed_on is null or primary_records.closed_on >= active_periods.start_date)
    where primary_records.stage = 'investigation'
),

indictments as (
    select
        active_periods.period_code,
        primary_records.unit_code,
        primary_records.article,
        primary_records.case_key,
        coalesce(primary_records.persons_count, 0) as indicted_count,
        primary_records.event_date - initiations.initiation_date as days_from_initiation
    from primary_records
    inner join active_periods
        on primary_records.event_date between active_periods.start_date and active_periods.end_date
    left join initiations
        on primary_records.case_key = initiations.case_key
    where primary_records.stage = 'prosecution'
),

first_instance_trials as (
    select
        active_periods.period_code,
        primary_records.unit_code,
        primary_records.article,
        primary_records.case_key,
        coalesce(primary_records.persons_count, 0) as defendants_count,
        least(coalesce(primary_records.convicted_count, 0), coalesce(primary_records.persons_count, 0))
            as convicted_count,
        primary_records.event_date - initiations.initiation_date as days_from_initiation
    from primary_records
    inner join active_periods
        on primary_records.event_date between active_periods.start_date and active_periods.end_date
    left join initiations
        on primary_records.case_key = initiations.case_key
    where primary_records.stage = 'first_instance' and primary_records.status = 'tried'
),

stage_states as (
    select
        'investigation' as stage,
        {{ case_stage_order("'investigation'") }} as stage_order,
        record_key,
        unit_code,
        period_end_date,
        is_cumulative,
        file_version,
        file_id,
        article,
        status
    from investigation_states
    union all
    select
        'prosecution' as stage,
        {{ case_stage_order("'prosecution'") }} as stage_order,
        record_key,
        unit_code,
        period_end_date,
        is_cumulative,
        file_version,
        file_id,
        article,
        status
    from prosecution_states
    union all
    select
        trial_level as stage,
        {{ case_stage_order('trial_level') }} as stage_order,
        record_key,
        unit_code,
        period_end_date,
        is_cumulative,
        file_version,
        file_id,
        article,
        status
    from trial_states
),

states_at_period_end as (
    select
        active_periods.period_code,
        case_records.case_key,
        stage_states.unit_code,
        stage_states.article,
        stage_states.status,
        row_number() over (
            partition by active_periods.period_code, case_records.case_key
            order by
                stage_states.stage_order desc,
                stage_states.is_cumulative desc,
                stage_states.file_version desc,
                stage_states.file_id desc
        ) as stage_rank
    from stage_states
    inner join active_periods
        on stage_states.period_end_date = active_periods.end_date
    inner join case_records
        on
            stage_states.stage = case_records.stage
            and stage_states.record_key = case_records.record_key
),

backlog as (
    select * from states_at_period_end
    where
        stage_rank = 1
        and status in ('investigating', 'pending', 'returned_for_investigation', 'not_tried', 'returned')
),

events as (
    select
        'DET_CASES_NEW' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        1 as numerator,
        cast(null as numeric) as denominator,
        cast(null as numeric) as measure
    from new_cases
    union all
    select
        'DET_PERSONS_NEW' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        accused_count as numerator,
        cast(null as numeric) as denominator,
        cast(null as numeric) as measure
    from new_cases
    union all
    select
        'DET_CASES_NEW_' || upper(detection_channel) as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        1 as numerator,
        cast(null as numeric) as denominator,
        cast(null as numeric) as measure
    from new_cases
    where detection_channel is not null
    union all
    select
        'DET_SELF_SHARE' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        case when is_self_detection then 1 else 0 end as numerator,
        1 as denominator,
        cast(null as numeric) as measure
    from new_cases
    union all
    select
        'REC_SECURED_RATE' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        least(secured_vnd, damage_vnd) as numerator,
        damage_vnd as denominator,
        cast(null as numeric) as measure
    from new_cases
    where damage_vnd > 0
    union all
    select
        'HDL_ATTRITION_RATE' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        case when is_dropped then 1 else 0 end as numerator,
        1 as denominator,
        cast(null as numeric) as measure
    from investigation_caseload
    union all
    select
        'HDL_INDICTED_CASES' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        1 as numerator,
        cast(null as numeric) as denominator,
        cast(null as numeric) as measure
    from indictments
    union all
    select
        'HDL_INDICTED_PERSONS' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        indicted_count as numerator,
        cast(null as numeric) as denominator,
        cast(null as numeric) as measure
    from indictments
    union all
    select
        'HDL_DAYS_TO_INDICTMENT_MEDIAN' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        cast(null as numeric) as numerator,
        cast(null as numeric) as denominator,
        days_from_initiation as measure
    from indictments
    where days_from_initiation >= 0
    union all
    select
        'HDL_TRIED_CASES' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        1 as numerator,
        cast(null as numeric) as denominator,
        cast(null as numeric) as measure
    from first_instance_trials
    union all
    select
        'HDL_TRIED_PERSONS' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        defendants_count as numerator,
        cast(null as numeric) as denominator,
        cast(null as numeric) as measure
    from first_instance_trials
    union all
    select
        'HDL_CONVICTION_RATE' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        convicted_count as numerator,
        defendants_count as denominator,
        cast(null as numeric) as measure
    from first_instance_trials
    where defendants_count > 0
    union all
    select
        'HDL_DAYS_TO_TRIAL_MEDIAN' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        cast(null as numeric) as numerator,
        cast(null as numeric) as denominator,
        days_from_initiation as measure
    from first_instance_trials
    where days_from_initiation >= 0
    union all
    select
        'HDL_BACKLOG_CASES' as indicator_code,
        period_code,
        unit_code,
        article,
        case_key as record_ref,
        1 as numerator,
        cast(null as numeric) as denominator,
        cast(null as numeric) as measure
    from backlog
),

final as (
    select
        indicator_code,
        period_code,
        unit_code,
        cast(article as smallint) as article,
        record_ref,
        cast(numerator as numeric) as numerator,
        cast(denominator as numeric) as denominator,
        cast(measure as numeric) as measure
    from events
)

select * from final
