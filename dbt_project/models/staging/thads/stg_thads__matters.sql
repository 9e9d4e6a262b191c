{#- Rows of `thads` returns as loaded (raw.thads_matters), one per record per file: identifiers
    trimmed, references normalised; no join, same grain. Whether a row is current is
    the registry's business (int_thads_matter_states). -#}
with

source_rows as (
    select * from {{ source('thads', 'thads_matters') }}
),

final as (
    select
        file_id,
        row_number,
        trim(decision_no) as decision_no,
        nullif(upper(regexp_replace(judgment_no, '\s', '', 'g')), '') as judgment_no,
        nullif(trim(case_id), '') as case_id,
        decision_date,
        due_vnd,
        enforceable,
        collected_vnd,
        status
    from source_rows
)

select * from final
