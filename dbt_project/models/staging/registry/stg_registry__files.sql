with

files as (
    select * from {{ source('registry', 'files') }}
),

periods as (
    select * from {{ ref('reporting_periods') }}
),

final as (
    select
        files.file_id,
        files.sha256,
        files.file_name,
        files.source,
        files.unit_code,
        files.period_code,
        coalesce(files.version, 1) as file_version,
        files.received_at,
        (files.received_at at time zone '{{ var("local_time_zone") }}')::date as received_on,
        files.processed_at,
        files.status,
        files.superseded_by,
        files.rows_read,
        files.rows_loaded,
        files.rows_quarantined,
        files.rows_flagged,
        files.reject_code,
        periods.regime,
        periods.report_year,
        periods.period_kind,
        periods.start_date as period_start_date,
        periods.end_date as period_end_date,
        coalesce(periods.is_cumulative, false) as is_cumulative,
        periods.due_date
    from files
    left join periods
        on files.period_code = periods.period_code
)

select * from final
