{#- Latest state of each enforcement matter (macro `latest_state`): from the return with the latest
    period end; among returns ending the same day (Q4 and Y) the cumulative one, then the
    highest version. Event dates do not change, so indicators take events from here and
    place them in every period whose dates contain them. -#}
{{ latest_state(
    'int_thads_matter_states',
    columns=state_columns('thads')
) }}
