{#- The case spine at record level: the latest state of every record of every
    stage, each given the key of the case it belongs to.
      inspection transfer --transfer_ref--> investigation (case_id)
      investigation, prosecution, trial --case_id--> one case
      trial <--judgment_no--> enforcement: a court row without case_id takes it
      from the enforcement matters of its judgment, and a matter without case_id
      takes it from the court row of its judgment.
    A record that cannot be linked keeps a key of its own (judgment or record)
    so it is still counted. One primary record per case and stage guarantees a
    case is counted once per stage however many units report it. -#}
with

inspections as (
    select * from {{ ref('int_thanhtra_inspections_latest') }}
),

investigations as (
    select * from {{ ref('int_dieutra_cases_latest') }}
),

prosecutions as (
    select * from {{ ref('int_truyto_cases_latest') }}
),

trials as (
    select * from {{ ref('int_xetxu_cases_latest') }}
),

matters as (
    select * from {{ ref('int_thads_matters_latest') }}
),

case_by_transfer as (
    select
        transfer_ref,
        min(case_id) as case_id
    from investigations
    where transfer_ref is not null
    group by transfer_ref
),

case_by_judgment_from_matters as (
    select
        judgment_no,
        min(case_id) as case_id
    from matters
    where case_id is not null and judgment_no is not null
    group by judgment_no
    having count(distinct case_id) = 1
),

case_by_judgment_from_trials as (
    select
        judgment_no,
        min(case_id) as case_id
    from trials
    where case_id is not null and judgment_no is not null
    group by judgment_no
    having count(distinct case_id) = 1
),

inspection_records as (
    select
        coalesce(case_by_transfer.case_id, 'transfer:' || coalesce(inspections.transfer_ref, inspections.record_key))
            as case_key,
        case_by_transfer.case_id,
        'inspection_transfer' as stage,
        {{ case_stage_order("'inspection_transfer'") }} as stage_order,
        inspections.record_key,
        case when case_by_transfer.case_id is not null then 'transfer_ref' else 'none' end as link_method,
        coalesce(inspections.conclusion_unit_code, inspections.first_reported_unit_code) as unit_code,
        inspections.last_reported_unit_code,
        inspections.last_reported_period_code,
        inspections.last_reported_on,
        cast(null as smallint) as article,
        inspections.status,
        inspections.conclusion_date as event_date,
        cast(null as date) as closed_on,
        inspections.transferred_persons as persons_count,
        cast(null as integer) as convicted_count,
        cast(null as bigint) as damage_vnd,
        cast(null as bigint) as secured_vnd,
        cast(null as bigint) as due_vnd,
        cast(null as bigint) as collected_vnd,
        cast(null as boolean) as enforceable,
        cast(null as text) as detection_channel,
        inspections.transfer_ref,
        cast(null as text) as judgment_no
    from inspections
    left join case_by_transfer
        on inspections.transfer_ref = case_by_transfer.transfer_ref
    where inspections.transfer_ref is not null or inspections.transferred_cases > 0
),

investigation_records as (
    select
        investigations.case_id as case_key,
        investigations.case_id,
        'investigation' as stage,
        {{ case_stage_order("'investigation'") }} as stage_order,
        investigations.record_key,
        'case_id' as link_method,
        investigations.first_reported_unit_code as unit_code,
        investigations.last_reported_unit_code,
        investigations.last_reported_period_code,
        investigations.last_reported_on,
        investigations.article,
        investigations.status,
        investigations.initiation_date as event_date,
        case
            when investigations.status <> 'investigating'
                then coalesce(investigations.closing_date, investigations.status_since_date)
        end as closed_on,
        investigations.accused_count as persons_count,
        cast(null as integer) as convicted_count,
        investigations.damage_vnd,
        investigations.secured_vnd,
        cast(null as bigint) as due_vnd,
        cast(null as bigint) as collected_vnd,
        cast(null as boolean) as enforceable,
        investigations.detection_channel,
        investigations.transfer_ref,
        cast(null as text) as judgment_no
    from investigations
),

prosecution_records as (
    select
        prosecutions.case_id as case_key,
        prosecutions.case_id,
        'prosecution' as stage,
        {{ case_stage_order("'prosecution'") }} as stage_order,
        prosecutions.record_key,
        'case_id' as link_method,
        coalesce(prosecutions.indictment_unit_code, prosecutions.first_reported_unit_code) as unit_code,
        prosecutions.last_reported_unit_code,
        prosecutions.last_reported_period_code,
        prosecutions.last_reported_on,
        prosecutions.article,
        prosecutions.status,
        prosecutions.indictment_date as event_date,
        case
            when prosecutions.status in ('suspended', 'terminated') then prosecutions.status_since_date
        end as closed_on,
        coalesce(prosecutions.indicted_count, prosecutions.accused_count) as persons_count,
        cast(null as integer) as convicted_count,
        cast(null as bigint) as damage_vnd,
        cast(null as bigint) as secured_vnd,
        cast(null as bigint) as due_vnd,
        cast(null as bigint) as collected_vnd,
        cast(null as boolean) as enforceable,
        cast(null as text) as detection_channel,
        cast(null as text) as transfer_ref,
        cast(null as text) as judgment_no
    from prosecutions
),

trial_records as (
    select
        coalesce(
            trials.case_id,
            case_by_judgment_from_matters.case_id,
            'judgment:' || trials.judgment_no,
            'record:' || trials.record_key
        ) as case_key,
        coalesce(trials.case_id, case_by_judgment_from_matters.case_id) as case_id,
        trials.trial_level as stage,
        {{ case_stage_order('trials.trial_level') }} as stage_order,
        trials.record_key,
        case
            when trials.case_id is not null then 'case_id'
            when case_by_judgment_from_matters.case_id is not null then 'judgment_no'
            else 'none'
        end as link_method,
        coalesce(trials.trial_unit_code, trials.first_reported_unit_code) as unit_code,
        trials.last_reported_unit_code,
        trials.last_reported_period_code,
        trials.last_reported_on,
        trials.article,
        trials.status,
        trials.trial_date as event_date,
        case
            when trials.status in ('suspended', 'terminated') then trials.status_since_date
        end as closed_on,
        trials.defendants_count as persons_count,
        trials.convicted_count,
        cast(null as bigint) as damage_vnd,
        cast(null as bigint) as secured_vnd,
        trials.ordered_vnd as due_vnd,
        cast(null as bigint) as collected_vnd,
        cast(null as boolean) as enforceable,
        cast(null as text) as detection_channel,
        cast(null as text) as transfer_ref,
        trials.judgment_no
    from trials
    left join case_by_judgment_from_matters
        on trials.judgment_no = case_by_judgment_from_matters.judgment_no
),

enforcement_records as (
    select
        coalesce(
            matters.case_id,
            case_by_judgment_from_trials.case_id,
            'judgment:' || matters.judgment_no,
            'record:' || matters.record_key
        ) as case_key,
        coalesce(matters.case_id, case_by_judgment_from_trials.case_id) as case_id,
        'enforcement' as stage,
        {{ case_stage_order("'enforcement'") }} as stage_order,
        matters.record_key,
        case
            when matters.case_id is not null then 'case_id'
            when case_by_judgment_from_trials.case_id is not null then 'judgment_no'
            else 'none'
        end as link_method,
        matters.first_reported_unit_code as unit_code,
        matters.last_reported_unit_code,
        matters.last_reported_period_code,
        matters.last_reported_on,
        cast(null as smallint) as article,
        matters.status,
        matters.decision_date as event_date,
        case when matters.status = 'completed' then matters.status_since_date end as closed_on,
        cast(null as integer) as persons_count,
        cast(null as integer) as convicted_count,
        cast(null as bigint) as damage_vnd,
        cast(null as bigint) as secured_vnd,
        matters.due_vnd,
        matters.collected_vnd,
        matters.enforceable,
        cast(null as text) as detection_channel,
        cast(null as text) as transfer_ref,
        matters.judgment_no
    from matters
    left join case_by_judgment_from_trials
        on matters.judgment_no = case_by_judgment_from_trials.judgment_no
),

all_records as (
    select * from inspection_records
    union all
    select * from investigation_records
    union all
    select * from prosecution_records
    union all
    select * from trial_records
    union all
    select * from enforcement_records
),

final as (
    select
        all_records.case_key,
        all_records.case_id,
        all_records.stage,
        all_records.stage_order,
        all_records.record_key,
        all_records.link_method,
        all_records.unit_code,
        all_records.last_reported_unit_code,
        all_records.last_reported_period_code,
        all_records.last_reported_on,
        all_records.article,
        all_records.status,
        all_records.event_date,
        all_records.closed_on,
        all_records.persons_count,
        all_records.convicted_count,
        all_records.damage_vnd,
        all_records.secured_vnd,
        all_records.due_vnd,
        all_records.collected_vnd,
        all_records.enforceable,
        all_records.detection_channel,
        all_records.transfer_ref,
        all_records.judgment_no,
        all_records.stage_order > min(all_records.stage_order) over (partition by all_records.case_key)
            as is_linked_upstream,
        row_number() over (
            partition by all_records.case_key, all_records.stage
            order by all_records.last_reported_on desc nulls last, all_records.record_key asc
        ) = 1 as is_primary
    from all_records
)

select * from final
