{#- History of states: one row per criminal case at one trial level per current return
    (file status `loaded`), with the state reported at that period's end. -#}
with

{{ loaded_rows(
    'stg_xetxu__cases',
    record_key="source_rows.trial_level || '|' || coalesce(
                source_rows.case_id,
                'judgment:' || source_rows.judgment_no,
                'row:' || source_rows.file_id || ':' || source_rows.row_number
            )",
    columns=state_columns('xetxu')
) }},

{{ state_history('current_rows', source_code='xetxu', columns=state_columns('xetxu')) }}
