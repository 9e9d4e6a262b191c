{#- History of states: one row per inspection or internal check per current return
    (file status `loaded`), with the state reported at that period's end. -#}
with

{{ loaded_rows(
    'stg_thanhtra__inspections',
    record_key="files.unit_code || '|' || source_rows.inspection_id",
    columns=state_columns('thanhtra')
) }},

{{ state_history('current_rows', source_code='thanhtra', columns=state_columns('thanhtra')) }}
