with

validation_results as (
    select * from {{ source('audit', 'validation_results') }}
),

final as (
    select
        run_id,
        file_id,
        suite,
        expectation_type,
        rule,
        column_name,
        severity,
        success,
        element_count,
        unexpected_count,
        run_at
    from validation_results
)

select * from final
