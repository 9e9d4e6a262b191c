{#- History of states: one row per enforcement matter per current return
    (file status `loaded`), with the state reported at that period's end. -#}
with

{{ loaded_rows(
    'stg_thads__matters',
    record_key="files.unit_code || '|' || source_rows.decision_no",
    columns=state_columns('thads')
) }},

{{ state_history('current_rows', source_code='thads', columns=state_columns('thads')) }}
