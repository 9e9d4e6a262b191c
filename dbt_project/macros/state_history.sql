{#- The history of states of one source: from `rows_cte` (one row per record per
    current return, built by the model with its source's own cleaning), keep one
    row per record and return (should two loaded versions of one return coexist,
    the later version wins) and add the status reported in the previous return.
    `columns` are the model's record columns after `record_key`. -#}
{% macro state_history(rows_cte, columns) %}
{%- set file_columns = [
    'file_id', 'row_number', 'unit_code', 'period_code', 'report_year', 'period_kind',
    'period_start_date', 'period_end_date', 'is_cumulative', 'file_version', 'record_key',
] %}
one_per_return as (
    select
        {% for column in file_columns + columns %}  -- noqa: LT02
            {{ rows_cte }}.{{ column }},
        {% endfor %}
        row_number() over (
            partition by {{ rows_cte }}.record_key, {{ rows_cte }}.unit_code, {{ rows_cte }}.period_code
            order by {{ rows_cte }}.file_version desc, {{ rows_cte }}.file_id desc
        ) as version_rank
    from {{ rows_cte }}
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
        ) as previous_status
    from one_per_return
    where one_per_return.version_rank = 1
)

select * from final
{% endmacro %}
