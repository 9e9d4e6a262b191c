{#- The phases of the provincial plan 53/KH-UBND (seed strategy_phases:
    2023-2026 with its mid-term review at the end of 2025, 2026-2030 with its
    final review in 2031) with their official dates: from the start of the
    first year to the end of the last year of the Inspectorate's own regime
    (thanhtra), as in dim_reporting_periods. -#}
with

phases as (
    select * from {{ ref('strategy_phases') }}
),

periods as (
    select * from {{ ref('reporting_periods') }}
),

year_periods as (
    select
        report_year,
        start_date,
        end_date
    from periods
    where
        period_kind = 'Y'
        and regime = '{{ var("phase_regime") }}'
),

final as (
    select
        phases.phase_code,
        phases.name_vi,
        phases.name_en,
        phases.start_year,
        phases.end_year,
        '{{ var("phase_regime") }}' as regime,
        min(year_periods.start_date) as start_date,
        max(year_periods.end_date) as end_date
    from phases
    left join year_periods
        on year_periods.report_year between phases.start_year and phases.end_year
    group by
        phases.phase_code,
        phases.name_vi,
        phases.name_en,
        phases.start_year,
        phases.end_year
)

select * from final
