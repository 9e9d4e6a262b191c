{#- Give a mart's primary key the name `<table>_pkey`.

    dbt builds a contracted table as `<table>__dbt_tmp` and renames it, so PostgreSQL
    names the key after the temporary table (`fct_indicator_values__dbt_tmp_pkey`, then
    `..._pkey1` on the next build while the old table still holds the first name).
    Run as a post-hook outside the transaction, after dbt dropped the previous table,
    so the meaningful name is free. Renaming the constraint renames its index. -#}
{% macro name_primary_key() %}
do $$
declare
    current_name text;
begin
    select c.conname into current_name
    from pg_constraint as c
    where c.conrelid = '"{{ this.schema }}"."{{ this.identifier }}"'::regclass and c.contype = 'p';
    if current_name is not null and current_name <> '{{ this.identifier }}_pkey' then
        execute format(
            'alter table %I.%I rename constraint %I to %I',
            '{{ this.schema }}', '{{ this.identifier }}', current_name, '{{ this.identifier }}_pkey'
        );
    end if;
end
$$
{% endmacro %}
