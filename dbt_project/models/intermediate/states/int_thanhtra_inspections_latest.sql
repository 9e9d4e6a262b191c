{#- Latest state of each inspection or internal check (macro `latest_state`): from the return with the latest
    period end; among returns ending the same day (Q4 and Y) the cumulative one, then the
    highest version. Event dates do not change, so indicators take events from here and
    place them in every period whose dates contain them. -#}
{{ latest_state(
    'int_thanhtra_inspection_states',
    columns=[
        'inspection_id',
        'title',
        'kind',
        'sector',
        'inspected_entity',
        'start_date',
        'status',
        'conclusion_no',
        'conclusion_date',
        'violation_vnd',
        'violation_land_m2',
        'recommended_recovery_vnd',
        'recovered_vnd',
        'orgs_proposed',
        'persons_proposed',
        'heads_disciplined',
        'corruption_cases',
        'corruption_persons',
        'transferred_cases',
        'transferred_persons',
        'transfer_ref',
    ],
    event_date='conclusion_date',
    event_unit_column='conclusion_unit_code'
) }}
