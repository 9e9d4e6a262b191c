{{
    config(
        indexes=[
            {'columns': ['case_key'], 'unique': True},
            {'columns': ['offence_scope']},
        ]
    )
}}
{#- The case spine: one row per case, whatever the number of stages and units
    that reported it, with what each stage reported (its primary record).
    Unlinked records keep a case of their own (case_key `judgment:...`,
    `record:...`, `transfer:...`) so they are counted, and is_linked says which
    cases were seen at more than one stage. -#}
with

case_records as (
    select * from {{ ref('int_case_records_linked') }}
),

offences as (
    select * from {{ ref('dim_offences') }}
),

primary_records as (
    select * from case_records
    where is_primary
),

per_case as (
    select
        case_key,
        max(case_id) as case_id,
        coalesce(
            max(article) filter (where stage = 'first_instance'),
            max(article) filter (where stage = 'prosecution'),
            max(article) filter (where stage = 'investigation')
        ) as article,
        max(detection_channel) filter (where stage = 'investigation') as detection_channel,
        max(transfer_ref) as transfer_ref,
        bool_or(stage = 'inspection_transfer') as has_inspection_transfer,
        max(event_date) filter (where stage = 'investigation') as initiation_date,
        max(unit_code) filter (where stage = 'investigation') as investigation_unit_code,
        max(status) filter (where stage = 'investigation') as investigation_status,
        max(persons_count) filter (where stage = 'investigation') as accused_count,
        max(event_date) filter (where stage = 'prosecution') as indictment_date,
        max(unit_code) filter (where stage = 'prosecution') as prosecution_unit_code,
        max(status) filter (where stage = 'prosecution') as prosecution_status,
        max(persons_count) filter (where stage = 'prosecution') as indicted_count,
        max(event_date) filter (where stage = 'first_instance') as first_instance_trial_date,
        max(unit_code) filter (where stage = 'first_instance') as trial_unit_code,
        max(status) filter (where stage = 'first_instance') as first_instance_status,
        max(persons_count) filter (where stage = 'first_instance') as defendants_count,
        max(convicted_count) filter (where stage = 'first_instance') as convicted_count,
        max(judgment_no) filter (where stage = 'first_instance') as judgment_no,
        max(event_date) filter (where stage = 'appeal') as appeal_trial_date,
        max(status) filter (where stage = 'appeal') as appeal_status
    from primary_records
    group by case_key
),

stage_summary as (
    -- every record, not only primary ones: a case may have several enforcement matters
    select
        case_key,
        cast(count(distinct stage) filter (where stage <> 'inspection_transfer') as integer) as stages_reported,
        max(stage_order) as furthest_stage_order,
        cast(count(*) filter (where stage = 'enforcement') as integer) as enforcement_matters,
        sum(due_vnd) filter (where stage = 'enforcement') as enforcement_due_vnd,
        sum(collected_vnd) filter (where stage = 'enforcement') as enforcement_collected_vnd
    from case_records
    group by case_key
),

final as (
    select
        per_case.case_key,
        per_case.case_id,
        per_case.article,
        {{ offence_scope('per_case.article') }} as offence_scope,
        offences.name_vi as offence_name_vi,
        per_case.detection_channel,
        per_case.transfer_ref,
        per_case.has_inspection_transfer,
        per_case.initiation_date,
        per_case.investigation_unit_code,
        per_case.investigation_status,
        per_case.accused_count,
        per_case.indictment_date,
        per_case.prosecution_unit_code,
        per_case.prosecution_status,
        per_case.indicted_count,
        per_case.first_instance_trial_date,
        per_case.trial_unit_code,
        per_case.first_instance_status,
        per_case.defendants_count,
        per_case.convicted_count,
        per_case.judgment_no,
        per_case.appeal_trial_date,
        per_case.appeal_status,
        stage_summary.enforcement_matters,
        stage_summary.enforcement_due_vnd,
        stage_summary.enforcement_collected_vnd,
        stage_summary.stages_reported,
        case stage_summary.furthest_stage_order
            when 0 then 'inspection_transfer'
            when 1 then 'investigation'
            when 2 then 'prosecution'
            when 3 then 'first_instance'
            when 4 then 'appeal'
            when 5 then 'enforcement'
        end as furthest_stage,
        (stage_summary.stages_reported + case when per_case.has_inspection_transfer then 1 else 0 end) >= 2
            as is_linked,
        per_case.indictment_date - per_case.initiation_date as days_to_indictment,
        per_case.first_instance_trial_date - per_case.initiation_date as days_to_trial
    from per_case
    inner join stage_summary
        on per_case.case_key = stage_summary.case_key
    left join offences
        on per_case.article = offences.article
)

select * from final
