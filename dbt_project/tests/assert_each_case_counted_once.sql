-- No case is counted twice across stages, units or provinces: the national count
-- of cases initiated, indicted and tried in a period equals the number of distinct
-- cases of the spine (fct_cases) whose event date falls in that period.
with

indicator_values as (
    select * from {{ ref('fct_indicator_values') }}
    where
        unit_level = 'national'
        and restatement = 'restated'
        and scope = 'all'
        and indicator_code in ('DET_CASES_NEW', 'HDL_INDICTED_CASES', 'HDL_TRIED_CASES')
),

periods as (
    select * from {{ ref('dim_reporting_periods') }}
),

cases as (
    select * from {{ ref('fct_cases') }}
),

case_events as (
    select
        'DET_CASES_NEW' as indicator_code,
        case_key,
        initiation_date as event_date
    from cases
    union all
    select
        'HDL_INDICTED_CASES' as indicator_code,
        case_key,
        indictment_date as event_date
    from cases
    union all
    select
        'HDL_TRIED_CASES' as indicator_code,
        case_key,
        first_instance_trial_date as event_date
    from cases
    where first_instance_status = 'tried'
),

distinct_cases as (
    select
        case_events.indicator_code,
        periods.period_code,
        count(distinct case_events.case_key) as cases
    from case_events
    inner join periods
        on case_events.event_date between periods.start_date and periods.end_date
    group by
        case_events.indicator_code,
        periods.period_code
)

select
    indicator_values.indicator_code,
    indicator_values.period_code,
    indicator_values.value,
    coalesce(distinct_cases.cases, 0) as distinct_cases
from indicator_values
left join distinct_cases
    on
        indicator_values.indicator_code = distinct_cases.indicator_code
        and indicator_values.period_code = distinct_cases.period_code
where indicator_values.value <> coalesce(distinct_cases.cases, 0)
