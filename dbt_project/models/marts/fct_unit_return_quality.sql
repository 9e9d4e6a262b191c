{{
    config(
        indexes=[
            {'columns': ['report_period_code', 'province_code']},
        ]
    )
}}
{#- Data quality per reporting unit over every period an extract can cover: a
    reporting period (2025-Y holds the returns of every period inside it, Q1 to
    Y) or a phase of the plan (2023-2026). Returns due, on time, late, missing,
    rejected and rows loaded (fct_return_submissions), rows quarantined and
    flagged (fct_quarantine_summary), with the unit's agency, name and province.
    A return is due when it is expected or came in anyway; units with none due
    have no row. needs_follow_up: something is missing, rejected or late. -#}
with

submissions as (
    select * from {{ ref('fct_return_submissions') }}
),

problems as (
    select * from {{ ref('fct_quarantine_summary') }}
),

periods as (
    select * from {{ ref('dim_reporting_periods') }}
),

phases as (
    select * from {{ ref('dim_strategy_phases') }}
),

report_periods as (
    select
        period_code as report_period_code,
        start_date,
        end_date
    from periods
    union all
    select
        phase_code as report_period_code,
        start_date,
        end_date
    from phases
),

covered_periods as (
    -- each reporting period inside each report period (cumulative periods included)
    select
        report_periods.report_period_code,
        periods.period_code
    from report_periods
    inner join periods
        on
            report_periods.start_date <= periods.start_date
            and report_periods.end_date >= periods.end_date
),

returns as (
    select
        covered_periods.report_period_code,
        submissions.unit_code,
        submissions.agency_code,
        submissions.unit_name_vi,
        submissions.province_code,
        count(*) filter (where submissions.expected or submissions.status <> 'missing') as returns_due,
        count(*) filter (where submissions.status = 'on_time') as on_time,
        count(*) filter (where submissions.status = 'late') as late,
        count(*) filter (where submissions.status = 'missing' and submissions.expected) as missing,
        count(*) filter (where submissions.status = 'rejected') as rejected,
        coalesce(sum(submissions.rows_loaded), 0) as rows_loaded
    from submissions
    inner join covered_periods
        on submissions.period_code = covered_periods.period_code
    group by
        covered_periods.report_period_code,
        submissions.unit_code,
        submissions.agency_code,
        submissions.unit_name_vi,
        submissions.province_code
),

problem_rows as (
    select
        covered_periods.report_period_code,
        problems.unit_code,
        coalesce(sum(problems.rows) filter (where problems.severity = 'row'), 0) as rows_quarantined,
        coalesce(sum(problems.rows) filter (where problems.severity = 'warn'), 0) as rows_flagged
    from problems
    inner join covered_periods
        on problems.period_code = covered_periods.period_code
    group by
        covered_periods.report_period_code,
        problems.unit_code
),

final as (
    select
        returns.report_period_code,
        returns.unit_code,
        returns.agency_code,
        returns.unit_name_vi,
        returns.province_code,
        cast(returns.returns_due as integer) as returns_due,
        cast(returns.on_time as integer) as on_time,
        cast(returns.late as integer) as late,
        cast(returns.missing as integer) as missing,
        cast(returns.rejected as integer) as rejected,
        cast(returns.rows_loaded as bigint) as rows_loaded,
        cast(coalesce(problem_rows.rows_quarantined, 0) as bigint) as rows_quarantined,
        cast(coalesce(problem_rows.rows_flagged, 0) as bigint) as rows_flagged,
        (returns.missing + returns.rejected + returns.late) > 0 as needs_follow_up
    from returns
    left join problem_rows
        on
            returns.report_period_code = problem_rows.report_period_code
            and returns.unit_code = problem_rows.unit_code
    where returns.returns_due > 0
)

select * from final
