{#- Contributions of enforcement matters: stocks read from the returns for each
    period's end date (Q4 and Y end the same day; each matter is taken once per
    period, from the cumulative return and highest version). Collections are
    credited up to the amount due, so a rate never exceeds 1. -#}
with

matter_states as (
    select * from {{ ref('int_thads_matter_states') }}
),

active_periods as (
    select * from {{ ref('int_active_periods') }}
),

ranked as (
    select
        active_periods.period_code,
        matter_states.unit_code,
        matter_states.record_key,
        matter_states.status,
        matter_states.enforceable,
        coalesce(matter_states.due_vnd, 0) as due_vnd,
        coalesce(matter_states.collected_vnd, 0) as collected_vnd,
        row_number() over (
            partition by active_periods.period_code, matter_states.record_key
            order by
                matter_states.is_cumulative desc,
                matter_states.file_version desc,
                matter_states.file_id desc
        ) as state_rank
    from matter_states
    inner join active_periods
        on matter_states.period_end_date = active_periods.end_date
),

matters_at_period_end as (
    select * from ranked
    where state_rank = 1
),

events as (
    select
        'REC_ENFORCEMENT_RATE' as indicator_code,
        period_code,
        unit_code,
        record_key as record_ref,
        least(collected_vnd, due_vnd) as numerator,
        due_vnd as denominator
    from matters_at_period_end
    where due_vnd > 0
    union all
    select
        'REC_ENFORCEMENT_ENFORCEABLE_RATE' as indicator_code,
        period_code,
        unit_code,
        record_key as record_ref,
        least(collected_vnd, due_vnd) as numerator,
        due_vnd as denominator
    from matters_at_period_end
    where due_vnd > 0 and enforceable
    union all
    select
        'REC_OUTSTANDING_VND' as indicator_code,
        period_code,
        unit_code,
        record_key as record_ref,
        greatest(due_vnd - collected_vnd, 0) as numerator,
        cast(null as numeric) as denominator
    from matters_at_period_end
    where status <> 'completed'
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
