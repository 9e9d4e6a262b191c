{#- Contributions of inspections to the indicators: one row per indicator x
    period x inspection concluded within the period (latest state of each
    inspection; its conclusion date places it in every period containing it).
    numerator/denominator are summed by fct_indicator_values; measure is the
    value a median is taken over.

    Incremental on the record (macro `event_inputs_config`): a build recomputes the
    inspections whose inputs (int_indicator_event_inputs_inspections) changed. -#}
{{ config(**event_inputs_config('int_indicator_event_inputs_inspections')) }}
-- depends_on: {{ ref('int_indicator_event_inputs_inspections') }}
with

inspections as (
    select * from {{ ref('int_thanhtra_inspections_latest') }}
    {%- if is_incremental() %}
        where record_key in ({{ changed_event_records('int_indicator_event_inputs_inspections') }})
    {%- endif %}
),

case_records as (
    select * from {{ ref('int_case_records_linked') }}
),

active_periods as (
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

concluded as (
    select
        active_periods.period_code,
        coalesce(inspections.conclusion_unit_code, inspections.first_reported_unit_code) as unit_code,
        inspections.record_key,
        coalesce(inspections.violation_vnd, 0) as violation_vnd,
        coalesce(inspections.transferred_cases, 0) as transferred_cases,
        coalesce(inspections.heads_disciplined, 0) as heads_disciplined,
        inspections.recommended_recovery_vnd,
        coalesce(inspections.recovered_vnd, 0) as recovered_vnd,
        (inspections.transferred_cases > 0 or inspections.transfer_ref is not null) as has_transfer,
        coalesce(transfer_links.led_to_case, false) as led_to_case
    from inspections
    inner join active_periods
        on inspections.conclusion_date between active_periods.start_date and active_periods.end_date
    left join transfer_links
        on inspections.record_key = transfer_links.record_key
    where inspections.status = 'concluded'
),

events as (
    select
        'DET_INSPECTIONS_CONCLUDED' as indicator_code,
        period_code,
        unit_code,
        record_key as record_ref,
        1 as numerator,
        cast(null as numeric) as denominator
    from concluded
    union all
    select
        'DET_VIOLATION_VND' as indicator_code,
        period_code,
        unit_code,
        record_key as record_ref,
        violation_vnd as numerator,
        cast(null as numeric) as denominator
    from concluded
    union all
    select
        'DET_TRANSFER_RATE' as indicator_code,
        period_code,
        unit_code,
        record_key as record_ref,
        transferred_cases as numerator,
        1 as denominator
    from concluded
    union all
    select
        'DET_TRANSFER_CONVERSION' as indicator_code,
        period_code,
        unit_code,
        record_key as record_ref,
        case when led_to_case then 1 else 0 end as numerator,
        1 as denominator
    from concluded
    where has_transfer
    union all
    select
        'HDL_HEADS_DISCIPLINED' as indicator_code,
        period_code,
        unit_code,
        record_key as record_ref,
        heads_disciplined as numerator,
        cast(null as numeric) as denominator
    from concluded
    union all
    select
        'REC_ADMIN_RATE' as indicator_code,
        period_code,
        unit_code,
        record_key as record_ref,
        least(recovered_vnd, recommended_recovery_vnd) as numerator,
        recommended_recovery_vnd as denominator
    from concluded
    where recommended_recovery_vnd > 0
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
