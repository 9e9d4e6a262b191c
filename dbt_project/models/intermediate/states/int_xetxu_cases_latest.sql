{#- Latest state of each criminal case at one trial level (macro `latest_state`): from the return with the latest
    period end; among returns ending the same day (Q4 and Y) the cumulative one, then the
    highest version. Event dates do not change, so indicators take events from here and
    place them in every period whose dates contain them. -#}
{{ latest_state(
    'int_xetxu_case_states',
    columns=state_columns('xetxu'),
    event_date='trial_date',
    event_unit_column='trial_unit_code'
) }}
