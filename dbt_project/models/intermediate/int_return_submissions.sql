{#- Returns expected and received, one row per source x unit x period.
    Expected: every unit valid on the period's end date whose agency sends that
    source, for the period kinds in var('expected_period_kinds'), from the first
    report year with any file (else the as-of year) up to the periods whose
    deadline has passed on the as-of date (macro as_of_date: the run's date, not
    the data's, so the morning after a deadline with nothing received lists every
    unit). Timeliness is judged on the first version received; the file shown is
    the current (loaded) version, else the latest file received. Files are the
    registry as it stands: a backfill as of an old date still sees later files. -#}
with

files as (
    select * from {{ ref('stg_registry__files') }}
),

quarantine as (
    select * from {{ ref('stg_audit__quarantine') }}
),

units as (
    select * from {{ ref('int_reporting_units_resolved') }}
),

periods as (
    select * from {{ ref('reporting_periods') }}
),

placed_files as (
    -- files whose name could be read: source, unit and period known
    select * from files
    where
        source is not null
        and unit_code is not null
        and period_code is not null
),

horizon as (
    select
        {{ as_of_date() }} as as_of_date,
        coalesce(
            min(report_year),
            cast(extract(year from {{ as_of_date() }}) as integer)
        ) as first_year
    from placed_files
),

expected_periods as (
    select periods.*
    from periods
    cross join horizon
    where
        periods.period_kind in (
            {%- for kind in var('expected_period_kinds') %}
                '{{ kind }}'{{ "," if not loop.last }}
            {%- endfor %}
        )
        and periods.due_date < horizon.as_of_date
        and periods.report_year >= horizon.first_year
),

expected as (
    select
        units.source,
        units.unit_code,
        expected_periods.period_code
    from expected_periods
    inner join units
        on
            expected_periods.end_date >= units.valid_from
            and (units.valid_to is null or expected_periods.end_date <= units.valid_to)
    where units.source is not null
),

quarantined_rows as (
    select
        file_id,
        count(distinct row_number) as rows_quarantined
    from quarantine
    where severity = 'row'
    group by file_id
),

ranked_files as (
    select
        placed_files.*,
        row_number() over (
            partition by placed_files.source, placed_files.unit_code, placed_files.period_code
            order by
                (placed_files.status = 'loaded') desc,
                placed_files.file_version desc,
                placed_files.received_at desc,
                placed_files.file_id desc
        ) as file_rank
    from placed_files
),

received as (
    select
        source,
        unit_code,
        period_code,
        min(received_at) filter (where status <> 'rejected') as first_received_at,
        min(received_on) filter (where status <> 'rejected') as first_received_on,
        max(received_at) as last_received_at,
        bool_or(status = 'loaded') as is_loaded,
        bool_or(status <> 'rejected') as has_accepted_file
    from placed_files
    group by source, unit_code, period_code
),

current_files as (
    select * from ranked_files
    where file_rank = 1
),

grid as (
    select
        source,
        unit_code,
        period_code
    from expected
    union
    select
        source,
        unit_code,
        period_code
    from received
),

final as (
    select
        grid.source,
        grid.unit_code,
        grid.period_code,
        periods.report_year,
        periods.period_kind,
        periods.due_date,
        expected.unit_code is not null as expected,
        coalesce(received.first_received_at, received.last_received_at) as received_at,
        current_files.file_id,
        horizon.as_of_date,
        case
            when received.has_accepted_file and received.first_received_on <= periods.due_date then 'on_time'
            when received.has_accepted_file then 'late'
            when received.unit_code is not null then 'rejected'
            else 'missing'
        end as status,
        coalesce(received.is_loaded, false) as is_loaded,
        current_files.rows_read,
        current_files.rows_loaded,
        case
            when current_files.status = 'loaded'
                then cast(coalesce(quarantined_rows.rows_quarantined, current_files.rows_quarantined, 0) as integer)
        end as rows_quarantined
    from grid
    left join expected
        on
            grid.source = expected.source
            and grid.unit_code = expected.unit_code
            and grid.period_code = expected.period_code
    left join received
        on
            grid.source = received.source
            and grid.unit_code = received.unit_code
            and grid.period_code = received.period_code
    left join current_files
        on
            grid.source = current_files.source
            and grid.unit_code = current_files.unit_code
            and grid.period_code = current_files.period_code
    left join quarantined_rows
        on current_files.file_id = quarantined_rows.file_id
    left join periods
        on grid.period_code = periods.period_code
    cross join horizon
)

select * from final
