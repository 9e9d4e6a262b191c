{#- Rows of `xetxu` returns as loaded (raw.xetxu_cases), one per record per file: identifiers
    trimmed, references normalised; no join, same grain. Whether a row is current is
    the registry's business (int_xetxu_case_states). -#}
with

source_rows as (
    select * from {{ source('xetxu', 'xetxu_cases') }}
),

final as (
    select
        file_id,
        row_number,
        nullif(trim(case_id), '') as case_id,
        trial_level,
        received_date,
        article,
        defendants_count,
        nullif(upper(regexp_replace(judgment_no, '\s', '', 'g')), '') as judgment_no,
        trial_date,
        convicted_count,
        ordered_vnd,
        status,
        cardinality(defendant_names_pseudonyms) as defendant_names_count
    from source_rows
)

select * from final
