{#- Penal Code articles with their scope. The scope comes from the article range
    (macro offence_scope), the one rule also used by the indicators. -#}
with

offences as (
    select * from {{ ref('offences') }}
),

final as (
    select
        article,
        name_vi,
        name_en,
        {{ offence_scope('article') }} as scope
    from offences
)

select * from final
