{#- One owner for what every per-source state model repeated: the columns a record's state is made
    of, and the join of the staged rows to the files that are current (status `loaded`). The
    states model and the latest-state model of a source both take `state_columns(source)`. -#}

{% macro state_columns(source_code) -%}
    {%- set columns = {
        'dieutra': [
            'case_id',
            'case_title',
            'initiation_date',
            'article',
            'accused_count',
            'detection_channel',
            'transfer_ref',
            'damage_vnd',
            'secured_vnd',
            'status',
            'closing_date',
            'accused_names_count',
        ],
        'thads': [
            'decision_no',
            'judgment_no',
            'case_id',
            'decision_date',
            'due_vnd',
            'enforceable',
            'collected_vnd',
            'status',
        ],
        'thanhtra': [
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
        'truyto': [
            'case_id',
            'received_date',
            'article',
            'accused_count',
            'indictment_no',
            'indictment_date',
            'indicted_count',
            'status',
        ],
        'xetxu': [
            'case_id',
            'trial_level',
            'received_date',
            'article',
            'defendants_count',
            'judgment_no',
            'trial_date',
            'convicted_count',
            'ordered_vnd',
            'status',
            'defendant_names_count',
        ],
    } -%}
    {{- return(columns[source_code]) -}}
{%- endmacro %}


{#- CTEs `source_rows`, `files` and `current_rows`: each staged row of a loaded file with that file's
    unit, period and version, its record key and its state columns (macro `state_history` reads
    `current_rows`). -#}
{% macro loaded_rows(staging_model, record_key, columns) -%}
source_rows as (
    select * from {{ ref(staging_model) }}
),

files as (
    select * from {{ ref('stg_registry__files') }}
    where status = 'loaded'
),

current_rows as not materialized (
    select
        files.file_id,
        source_rows.row_number,
        files.unit_code,
        files.period_code,
        files.report_year,
        files.period_kind,
        files.period_start_date,
        files.period_end_date,
        files.is_cumulative,
        files.file_version,
        files.processed_at as file_processed_at,
        {{ record_key }} as record_key,
        source_rows.{{ columns | join(',\n        source_rows.') }}
    from source_rows
    inner join files
        on source_rows.file_id = files.file_id
)
{%- endmacro %}
