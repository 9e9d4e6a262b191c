{#- History of states: one row per criminal case at investigation per current return
    (file status `loaded`), with the state reported at that period's end. -#}
with

{{ loaded_rows(
    'stg_dieutra__cases',
    record_key="source_rows.case_id",
    columns=state_columns('dieutra')
) }},

{{ state_history('current_rows', source_code='dieutra', columns=state_columns('dieutra')) }}
