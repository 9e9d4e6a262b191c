{#- Rows of `truyto` returns as loaded (raw.truyto_cases), one per record per file: identifiers
    trimmed, references normalised; no join, same grain. Whether a row is current is
    the registry's business (int_truyto_case_states). -#}
with

source_rows as (
    select * from {{ source('truyto', 'truyto_cases') }}
),

final as (
    select
        file_id,
        row_number,
        trim(case_id) as case_id,
        received_date,
        article,
        accused_count,
        indictment_no,
        indictment_date,
        indicted_count,
        status
    from source_rows
)

select * from final
