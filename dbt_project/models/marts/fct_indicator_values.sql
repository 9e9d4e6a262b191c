{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period_code',
        on_schema_change='fail',
        post_hook=["{{ record_built_slices() }}"],
        indexes=[
            {'columns': ['indicator_code', 'period_code']},
            {'columns': ['period_code']},
            {'columns': ['unit_code']},
            {'columns': ['province_code', 'unit_level']},
        ]
    )
}}
{#- One row per indicator x period x unit (and its agency, its province and the
    national total) x restatement x scope. Every value is computed from the contributing records
    of its own cell (grouping sets), so medians and ratios are right at every
    level. Units that sent a return of an indicator's source get a row even when
    nothing happened (0 for counts and sums, null for ratios without denominator).
    Agency, province and national rows are the same as reported and restated.
    The national row (unit_level national, unit_code and province_code
    var('national_code')) is computed from the same contributions as every other
    cell, never by adding province values, so its ratios and medians are exact.

    Incremental by period (delete+insert on period_code): every value is computed
    within its period, so a build recomputes only the periods whose inputs changed
    (int_indicator_value_slices, macro `indicator_value_slices_to_rebuild`), and
    `--full-refresh` gives the same rows. A change to this SQL needs `--full-refresh`. -#}
-- depends_on: {{ ref('int_indicator_value_slices') }}
{%- set rebuilt_periods = indicator_value_slices_to_rebuild() if is_incremental() else none %}
with

all_events as (
    select * from {{ ref('int_indicator_events_inspections') }}
    union all
    select * from {{ ref('int_indicator_events_cases') }}
    union all
    select * from {{ ref('int_indicator_events_enforcement') }}
    union all
    select * from {{ ref('int_indicator_events_data_quality') }}
),

events as (
    select * from all_events
    {%- if rebuilt_periods is not none %}
        where period_code in ({{ rebuilt_periods }})
    {%- endif %}
),

indicators as (
    select * from {{ ref('indicators') }}
),

units as (
    select * from {{ ref('int_reporting_units_resolved') }}
),

submissions as (
    select * from {{ ref('int_return_submissions') }}
    {%- if rebuilt_periods is not none %}
        where period_code in ({{ rebuilt_periods }})
    {%- endif %}
),

periods as (
    select * from {{ ref('reporting_periods') }}
),

scopes as (
    select scope_code
    from {{ indicator_scope_list() }}
),

restatements as (
    select restatement_code
    from (values ('as_reported'), ('restated')) as restatement_list (restatement_code)
),

scaffold as (
    -- a unit that sent a return of the indicator's source shows a value
    select distinct
        indicators.indicator_code,
        submissions.period_code,
        submissions.unit_code
    from submissions
    inner join indicators
        on submissions.source = any(string_to_array(indicators.sources, '|'))
    where submissions.is_loaded
),

contributions as (
    select
        indicator_code,
        period_code,
        unit_code,
        article,
        false as is_scaffold,
        numerator,
        denominator,
        measure
    from events
    union all
    select
        indicator_code,
        period_code,
        unit_code,
        cast(null as smallint) as article,
        true as is_scaffold,
        0 as numerator,
        0 as denominator,
        cast(null as numeric) as measure
    from scaffold
),

scoped as (
    select
        contributions.indicator_code,
        contributions.period_code,
        scopes.scope_code,
        contributions.unit_code,
        coalesce(units.current_unit_code, contributions.unit_code) as current_unit_code,
        coalesce(units.agency_code, split_part(contributions.unit_code, '-', 1)) as agency_code,
        coalesce(units.province_code, '{{ var("province_code") }}') as province_code,
        contributions.numerator,
        contributions.denominator,
        contributions.measure
    from contributions
    inner join indicators
        on contributions.indicator_code = indicators.indicator_code
    inner join scopes
        on
            scopes.scope_code = 'all'
            or (
                indicators.is_scoped
                and (
                    contributions.is_scaffold
                    or {{ in_indicator_scope('contributions.article', 'scopes.scope_code') }}
                )
            )
    left join units
        on contributions.unit_code = units.unit_code
),

aggregated as (
    select
        indicator_code,
        period_code,
        scope_code,
        unit_code,
        current_unit_code,
        agency_code,
        province_code,
        grouping(unit_code, current_unit_code, agency_code, province_code) as grouping_id,
        sum(numerator) as sum_numerator,
        sum(denominator) as sum_denominator,
        percentile_cont(0.5) within group (order by measure) as median_measure
    from scoped
    group by grouping sets (
        (indicator_code, period_code, scope_code, province_code, unit_code),
        (indicator_code, period_code, scope_code, province_code, current_unit_code),
        (indicator_code, period_code, scope_code, province_code, agency_code),
        (indicator_code, period_code, scope_code, province_code),
        (indicator_code, period_code, scope_code)
    )
),

levelled as (
    -- grouping_id bits: unit_code 8, current_unit_code 4, agency_code 2, province_code 1 (rolled up)
    select
        aggregated.indicator_code,
        aggregated.period_code,
        aggregated.scope_code,
        coalesce(aggregated.province_code, '{{ var("national_code") }}') as province_code,
        case
            when aggregated.grouping_id = 6 then aggregated.unit_code
            when aggregated.grouping_id = 10 then aggregated.current_unit_code
            when aggregated.grouping_id = 12 then aggregated.agency_code
            when aggregated.grouping_id = 14 then aggregated.province_code
            else '{{ var("national_code") }}'
        end as unit_code,
        case
            when aggregated.grouping_id in (6, 10) then 'unit'
            when aggregated.grouping_id = 12 then 'agency'
            when aggregated.grouping_id = 14 then 'province'
            else 'national'
        end as unit_level,
        case
            when aggregated.grouping_id = 6 then 'as_reported'
            when aggregated.grouping_id = 10 then 'restated'
        end as unit_restatement,
        aggregated.sum_numerator,
        aggregated.sum_denominator,
        aggregated.median_measure
    from aggregated
),

final as (
    select
        levelled.indicator_code,
        levelled.period_code,
        periods.report_year,
        levelled.province_code,
        levelled.unit_code,
        levelled.unit_level,
        restatements.restatement_code as restatement,
        levelled.scope_code as scope,
        cast(
            case indicators.calc
                when 'sum' then coalesce(levelled.sum_numerator, 0)
                when 'ratio' then round(levelled.sum_numerator / nullif(levelled.sum_denominator, 0), 6)
                when 'median' then round(cast(levelled.median_measure as numeric), 1)
            end as numeric
        ) as value,
        cast(case when indicators.calc = 'ratio' then levelled.sum_numerator end as numeric) as numerator,
        cast(case when indicators.calc = 'ratio' then levelled.sum_denominator end as numeric) as denominator
    from levelled
    inner join indicators
        on levelled.indicator_code = indicators.indicator_code
    inner join restatements
        on coalesce(levelled.unit_restatement, restatements.restatement_code) = restatements.restatement_code
    left join periods
        on levelled.period_code = periods.period_code
)

select * from final
