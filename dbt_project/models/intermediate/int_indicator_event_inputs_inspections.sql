{#- One row per inspection (latest state) with a hash of everything its rows in
    int_indicator_events_inspections are computed from: the columns of its latest
    state the model reads, whether its transfer led to a case, and what applies to
    every inspection (the periods with loaded returns and their dates). The events
    model recomputes only the inspections whose hash differs from the one it stored
    at its last build (macro `event_inputs_config`); when the set of periods with
    returns changes, every hash changes and every inspection is recomputed. Keep the
    columns here in step with the events model. -#}
{{ config(indexes=[{'columns': ['record_key'], 'unique': true}]) }}
{%- set previous = previous_version() | trim %}
with

inspections as (
    select * from {{ ref('int_thanhtra_inspections_latest') }}
),

case_records as (
    select * from {{ ref('int_case_records_linked') }}
),

active_periods as materialized (
    -- a handful of rows, scanned once per inspection below
    select * from {{ ref('int_active_periods') }}
),

transfer_links as (
    select
        record_key,
        bool_or(link_method = 'transfer_ref') as led_to_case
    from case_records
    where stage = 'inspection_transfer'
    group by record_key
),

record_hashes as (
    select
        inspections.record_key,
        md5(
            -- a row's text keeps nulls apart (concat_ws would skip them)
            cast(row(
                (
                    -- the periods it contributes to, as the events model places it
                    select string_agg(active_periods.period_code, ',' order by active_periods.period_code)
                    from active_periods
                    where
                        inspections.status = 'concluded'
                        and inspections.conclusion_date between active_periods.start_date and active_periods.end_date
                ),
                inspections.status,
                inspections.conclusion_date,
                inspections.conclusion_unit_code,
                inspections.first_reported_unit_code,
                inspections.violation_vnd,
                inspections.transferred_cases,
                inspections.transfer_ref is not null,
                inspections.heads_disciplined,
                inspections.recommended_recovery_vnd,
                inspections.recovered_vnd,
                coalesce(transfer_links.led_to_case, false)
            ) as text)
        ) as input_hash
    from inspections
    left join transfer_links
        on inspections.record_key = transfer_links.record_key
),

final as (
    {%- if previous %}
        select
            coalesce(record_hashes.record_key, previous_inputs.record_key) as record_key,
            record_hashes.input_hash,
            previous_inputs.built_input_hash
        from record_hashes
        full outer join {{ previous or this }} as previous_inputs
            on record_hashes.record_key = previous_inputs.record_key
        where record_hashes.record_key is not null or previous_inputs.built_input_hash is not null
    {%- else %}
        select
            record_hashes.record_key,
            record_hashes.input_hash,
            cast(null as text) as built_input_hash
        from record_hashes
    {%- endif %}
)

select * from final
