{#- Rows of `thanhtra` returns as loaded (raw.thanhtra_inspections), one per record per file: identifiers
    trimmed, references normalised; no join, same grain. Whether a row is current is
    the registry's business (int_thanhtra_inspection_states). -#}
with

source_rows as (
    select * from {{ source('thanhtra', 'thanhtra_inspections') }}
),

final as (
    select
        file_id,
        row_number,
        trim(inspection_id) as inspection_id,
        title,
        kind,
        sector,
        inspected_entity,
        start_date,
        status,
        conclusion_no,
        conclusion_date,
        violation_vnd,
        violation_land_m2,
        recommended_recovery_vnd,
        recovered_vnd,
        orgs_proposed,
        persons_proposed,
        heads_disciplined,
        corruption_cases,
        corruption_persons,
        transferred_cases,
        transferred_persons,
        nullif(upper(trim(transfer_ref)), '') as transfer_ref
    from source_rows
)

select * from final
