{#- The history of states of one source: from `rows_cte` (one row per record per
    current return, built by the model from its source's staging view, cleaned
    there, joined to the `files` CTE of loaded files), keep one row per record and return (should two
    loaded versions of one return coexist, the later version wins) and add the
    status reported in the previous return. `columns` are the model's record
    columns after `record_key`.

    Materialised as an incremental table keyed on the registry (macro
    `state_history_config`): a build recomputes only the records that files
    loaded since the last build touch, or that files no longer loaded
    (superseded, rejected on reprocessing, reprocessed with force: a new
    `processed_at`) held. A record is always recomputed whole, so `previous_status`
    sees every return of it: from the rows the table already holds for it (files
    unchanged since) and the rows of the new files, so a build reads the raw rows
    of the new files only. A change to the model's SQL or to the periods seed needs
    `dbt build --full-refresh`. `refreshed_at` tells the latest-state model which
    records changed. -#}
{% macro state_history(rows_cte, source_code, columns) %}
{{ config(**state_history_config()) }}
{%- set file_columns = [
    'file_id', 'row_number', 'unit_code', 'period_code', 'report_year', 'period_kind',
    'period_start_date', 'period_end_date', 'is_cumulative', 'file_version', 'file_processed_at',
    'record_key',
] %}
{%- if is_incremental() %}
{%- set changes = state_history_file_changes(source_code) %}
{%- set added = changes.added | join(', ') if changes.added else 'null' %}
{%- set removed = changes.removed | join(', ') if changes.removed else 'null' %}
touched_records as (
    -- records in files loaded since the last build, and in files it holds that are no longer loaded
    select {{ rows_cte }}.record_key
    from {{ rows_cte }}
    where {{ rows_cte }}.file_id in ({{ added }})
    union
    select stored.record_key
    from {{ this }} as stored
    where stored.file_id in ({{ removed }})
),

scoped_rows as (
    -- every current row of those records: the stored rows of unchanged files (the same
    -- rows the source gives, cleaned alike) and the rows of the files loaded since
    select
        {% for column in file_columns + columns %}  -- noqa: LT02
            stored.{{ column }}{{ ',' if not loop.last }}
{% endfor %}
    from {{ this }} as stored
    where
        stored.record_key in (select touched_records.record_key from touched_records)
{%- if changes.removed %}
            and stored.file_id not in ({{ removed }})
{%- endif %}
    union all
    select
        {% for column in file_columns + columns %}  -- noqa: LT02
            {{ rows_cte }}.{{ column }}{{ ',' if not loop.last }}
        {% endfor %}
    from {{ rows_cte }}
    where {{ rows_cte }}.file_id in ({{ added }})
),
{%- else %}
scoped_rows as (
    select * from {{ rows_cte }}
),
{%- endif %}

one_per_return as (
    select
        {% for column in file_columns + columns %}  -- noqa: LT02
            scoped_rows.{{ column }},
        {% endfor %}
        row_number() over (
            partition by scoped_rows.record_key, scoped_rows.unit_code, scoped_rows.period_code
            order by scoped_rows.file_version desc, scoped_rows.file_id desc
        ) as version_rank
    from scoped_rows
),

final as (
    select
        {% for column in file_columns + columns %}
            one_per_return.{{ column }},
        {% endfor %}
        lag(one_per_return.status) over (
            partition by one_per_return.record_key
            order by
                one_per_return.period_end_date,
                one_per_return.is_cumulative,
                one_per_return.file_id
        ) as previous_status,
        now() as refreshed_at
    from one_per_return
    where one_per_return.version_rank = 1
)

select * from final
{% endmacro %}


{#- The files of source `source_code` whose rows an incremental build of the state-history model
    `this` must add or remove, compared with what the table holds: `added`, loaded
    files (as loaded: file and processed_at) it does not hold; `removed`, files it
    holds that are no longer loaded as that version. Asked before the model's query
    runs and written into it as constants, so the planner estimates the few files'
    rows from the raw table's statistics instead of guessing a set difference at the
    size of the whole registry (which led it to sort every raw row). -#}
{% macro state_history_file_changes(source_code) %}
{%- set empty = {'added': [], 'removed': []} %}
{%- if not execute %}
{{ return(empty) }}
{%- endif %}
{%- set query %}
        with
        loaded as (
            select files.file_id, files.processed_at
            from {{ ref('stg_registry__files') }} as files
            where files.status = 'loaded' and files.source = '{{ source_code }}'
        ),
        stored as (
            select distinct stored.file_id, stored.file_processed_at as processed_at
            from {{ this }} as stored
        )
        select 'added' as change, file_id from (select * from loaded except select * from stored) as added
        union all
        select 'removed' as change, file_id from (select * from stored except select * from loaded) as removed
        order by 1, 2
{%- endset %}
{%- set result = run_query(query) %}
{%- set changes = {'added': [], 'removed': []} %}
{%- for row in result.rows %}
        {%- do changes[row[0]].append(row[1] | int) %}
    {%- endfor %}
{{ return(changes) }}
{% endmacro %}


{#- Configuration of a state-history model: an indexed incremental table, records
    replaced whole (delete+insert on `record_key`); after each build the rows of
    records no longer held by any loaded file are deleted (their keys produce no
    new rows, so delete+insert cannot reach them) and the table is analysed if
    the build wrote to it, so tests and downstream models plan on real row counts. -#}
{% macro state_history_config() %}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': 'record_key',
        'on_schema_change': 'fail',
        'analyzes_itself': true,
        'indexes': [
            {'columns': ['record_key']},
            {'columns': ['file_id']},
            {'columns': ['refreshed_at']},
        ],
        'post_hook': [
            "{{ delete_rows_of_unloaded_files() }}",
            "{{ analyze_if_changed() }}",
        ],
    }) }}
{% endmacro %}


{#- Rows whose file is no longer loaded as that version (superseded, rejected on
    reprocessing, reprocessed since: another processed_at). -#}
{% macro delete_rows_of_unloaded_files() %}
delete from {{ this }} as stored
where not exists (
    select 1
    from {{ ref('stg_registry__files') }} as files
    where
        files.file_id = stored.file_id
        and files.status = 'loaded'
        and files.processed_at = stored.file_processed_at
)
{% endmacro %}
