{#- History of states: one row per criminal case at prosecution per current return
    (file status `loaded`), with the state reported at that period's end. -#}
with

{{ loaded_rows(
    'stg_truyto__cases',
    record_key="source_rows.case_id",
    columns=state_columns('truyto')
) }},

{{ state_history('current_rows', source_code='truyto', columns=state_columns('truyto')) }}
