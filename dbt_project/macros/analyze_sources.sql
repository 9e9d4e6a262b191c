{#- ANALYZE the tables the project reads (its sources: raw, registry, audit) that
    changed since they were last analysed, at the start of every run (on-run-start).

    The warehouse server may run with autovacuum off (it does on the development
    machines), so nothing else gives the planner row counts: without them it guesses
    and a join over a few hundred thousand rows can turn into a nested loop. Tables
    not modified since their last ANALYZE are skipped (pg_stat_user_tables), so a
    build over an unchanged warehouse pays almost nothing; a source table that does
    not exist yet (a warehouse before its first intake) is skipped too. -#}
{% macro analyze_sources() %}
    {%- if execute %}
        {%- set names = [] %}
        {%- for node in graph.sources.values() %}
            {%- do names.append(node.schema ~ '.' ~ node.identifier) %}
        {%- endfor %}
        {%- if names %}
do $$
declare
    relation_name text;
begin
    foreach relation_name in array array[{% for name in names | unique | sort %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor %}]::text[] loop
        if exists (
            select 1
            from pg_stat_user_tables as stats
            where
                stats.relid = to_regclass(relation_name)
                and (
                    stats.n_mod_since_analyze > 0
                    or coalesce(stats.last_analyze, stats.last_autoanalyze) is null
                )
        ) then
            execute 'analyze ' || relation_name;
        end if;
    end loop;
end
$$
        {%- endif %}
    {%- endif %}
{% endmacro %}


{#- ANALYZE `this` (an incremental model, as a post-hook inside its transaction) only
    when this build wrote to it: pg_stat_xact_user_tables counts the transaction's own
    inserts and deletes. A build with nothing new then skips sampling the whole table. -#}
{% macro analyze_if_changed() %}
do $$
begin
    if exists (
        select 1
        from pg_stat_xact_user_tables as stats
        where
            stats.relid = '{{ this }}'::regclass
            and stats.n_tup_ins + stats.n_tup_upd + stats.n_tup_del > 0
    ) then
        analyze {{ this }};
    end if;
end
$$
{% endmacro %}


{#- The intermediate folder's post-hook: ANALYZE the table just built, unless the model
    analyses itself (config `analyzes_itself`: the state-history and latest-state models
    delete stale rows in their own post-hooks first, then analyse only if the build wrote).
    Renders nothing then, and dbt skips an empty hook. -#}
{% macro analyze_unless_self_analysed() %}
    {%- if not config.get('analyzes_itself', false) %}analyze {{ this }}{% endif %}
{%- endmacro %}
