{{
    config(
        indexes=[
            {'columns': ['period_code']},
            {'columns': ['unit_code']},
        ]
    )
}}
{#- Returns expected and received per source, unit and period, with timeliness
    and row counts of the current version (see int_return_submissions). -#}
with

submissions as (
    select * from {{ ref('int_return_submissions') }}
),

final as (
    select
        source,
        unit_code,
        period_code,
        due_date,
        expected,
        received_at,
        file_id,
        status,
        rows_read,
        rows_loaded,
        rows_quarantined
    from submissions
)

select * from final
