{#- The reporting periods with at least one loaded return, with their dates: the
    periods the indicator models place events in (an event counts in every active
    period whose dates contain it) and read stocks at (returns for the period's end).
    One model, so every contribution model uses the same periods. -#}
with

periods as (
    select * from {{ ref('reporting_periods') }}
),

submissions as (
    select * from {{ ref('int_return_submissions') }}
),

loaded_periods as (
    select distinct submissions.period_code from submissions
    where submissions.is_loaded
),

final as (
    select
        periods.period_code,
        periods.start_date,
        periods.end_date
    from periods
    inner join loaded_periods
        on periods.period_code = loaded_periods.period_code
)

select * from final
