{#- One row per reporting period with a fingerprint of everything fct_indicator_values
    computes that period's rows from: its contributing events (every column), the
    scaffold's loaded returns (source, unit), the period's own row, and what applies
    to every period (the indicators, the units and their mapping to today, the
    province and national codes). fct_indicator_values rebuilds only the periods whose
    fingerprint differs from `built_fingerprint`, the fingerprint it was last built
    from (carried over from this table's previous version; fct_indicator_values'
    post-hook sets it, macro `record_built_slices`), so a new period, or a record whose latest
    state moved, costs the periods it touches. The fingerprint over-approximates (any
    change to an input row changes it); a sum of 64-bit row hashes is order-free, so
    one scan of the events gives every period's. -#}
{{ config(indexes=[{'columns': ['period_code'], 'unique': true}]) }}
{%- set previous = previous_version() | trim %}
with

events as (
    select * from {{ ref('int_indicator_events_inspections') }}
    union all
    select * from {{ ref('int_indicator_events_cases') }}
    union all
    select * from {{ ref('int_indicator_events_enforcement') }}
    union all
    select * from {{ ref('int_indicator_events_data_quality') }}
),

submissions as (
    select * from {{ ref('int_return_submissions') }}
),

periods as (
    select * from {{ ref('reporting_periods') }}
),

indicators as (
    select * from {{ ref('indicators') }}
),

units as (
    select * from {{ ref('int_reporting_units_resolved') }}
),

event_hashes as (
    select
        events.period_code,
        count(*) as event_rows,
        sum(hashtextextended(cast(events as text), 0)) as event_hash
    from events
    group by events.period_code
),

scaffold_hashes as (
    select
        submissions.period_code,
        sum(hashtextextended(concat_ws('|', submissions.source, submissions.unit_code), 0)) as scaffold_hash
    from (
        select distinct
            period_code,
            source,
            unit_code
        from submissions
        where is_loaded
    ) as submissions
    group by submissions.period_code
),

shared as (
    -- what every period's rows depend on
    select
        md5(
            concat_ws(
                '|',
                '{{ var("province_code") }}',
                '{{ var("national_code") }}',
                (select string_agg(cast(indicators as text), '|' order by indicators.indicator_code) from indicators),
                (select string_agg(cast(units as text), '|' order by units.unit_code) from units)
            )
        ) as shared_hash
),

slices as (
    select
        coalesce(event_hashes.period_code, scaffold_hashes.period_code) as period_code,
        coalesce(event_hashes.event_rows, 0) as event_rows,
        event_hashes.event_hash,
        scaffold_hashes.scaffold_hash
    from event_hashes
    full outer join scaffold_hashes
        on event_hashes.period_code = scaffold_hashes.period_code
),

fingerprints as (
    select
        slices.period_code,
        slices.event_rows,
        md5(
            -- a row's text keeps nulls apart (concat_ws would skip them)
            cast(row(
                slices.event_rows,
                slices.event_hash,
                slices.scaffold_hash,
                periods.*,
                shared.shared_hash
            ) as text)
        ) as fingerprint
    from slices
    cross join shared
    left join periods
        on slices.period_code = periods.period_code
),

final as (
    {%- if previous %}
        select
            fingerprints.period_code,
            fingerprints.event_rows,
            fingerprints.fingerprint,
            previous_slices.built_fingerprint
        from fingerprints
        left join {{ previous or this }} as previous_slices
            on fingerprints.period_code = previous_slices.period_code
    {%- else %}
        select
            fingerprints.period_code,
            fingerprints.event_rows,
            fingerprints.fingerprint,
            cast(null as text) as built_fingerprint
        from fingerprints
    {%- endif %}
)

select * from final
