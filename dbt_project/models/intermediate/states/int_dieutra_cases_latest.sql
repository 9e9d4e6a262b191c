{#- Latest state of each criminal case at investigation (macro `latest_state`): from the return with the latest
    period end; among returns ending the same day (Q4 and Y) the cumulative one, then the
    highest version. Event dates do not change, so indicators take events from here and
    place them in every period whose dates contain them. -#}
{{ latest_state(
    'int_dieutra_case_states',
    columns=state_columns('dieutra')
) }}
