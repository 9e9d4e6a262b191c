{#- Rows of `dieutra` returns as loaded (raw.dieutra_cases), one per record per file: identifiers
    trimmed, references normalised; no join, same grain. Whether a row is current is
    the registry's business (int_dieutra_case_states). -#}
with

source_rows as (
    select * from {{ source('dieutra', 'dieutra_cases') }}
),

final as (
    select
        file_id,
        row_number,
        trim(case_id) as case_id,
        case_title,
        initiation_date,
        article,
        accused_count,
        detection_channel,
        nullif(upper(trim(transfer_ref)), '') as transfer_ref,
        damage_vnd,
        secured_vnd,
        status,
        closing_date,
        cardinality(accused_names_pseudonyms) as accused_names_count
    from source_rows
)

select * from final
