{#- An incremental model's constraints (NOT NULL, primary key, checks), on a table built without them.

    A contracted model gets its constraints when dbt creates its table; an incremental
    model's table is created once, so one built before its contract (a warehouse of an
    older version) would never get them, and the data tests they replace are gone. On an
    incremental run this adds what the table lacks: `SET NOT NULL` on a column that
    already is NOT NULL is a no-op (no scan); the key is added only when the table has
    none, the checks only when it has no check constraint. A table whose rows break a constraint then fails the build, as the test did.
    Renders nothing on the run that creates the table (the contract made it complete). -#}
{% macro ensure_constraints() %}
    {%- if is_incremental() and config.get('contract').enforced %}
        {%- set relation = "'\"" ~ this.schema ~ "\".\"" ~ this.identifier ~ "\"'::regclass" %}
        {%- set statements = [] %}
        {%- set key = [] %}
        {%- set checks = [] %}
        {%- for name, column in model.columns.items() %}
            {%- for c in column.constraints %}
                {%- if c.type == 'not_null' %}
                    {%- do statements.append('alter table ' ~ this ~ ' alter column ' ~ adapter.quote(name) ~ ' set not null;') %}
                {%- elif c.type == 'primary_key' %}{% do key.append(name) %}
                {%- elif c.type == 'check' %}{% do checks.append('alter table ' ~ this ~ ' add check (' ~ c.expression ~ ');') %}
                {%- endif %}
            {%- endfor %}
        {%- endfor %}
        {%- for c in model.constraints if c.type == 'primary_key' %}{% do key.extend(c.columns) %}{% endfor %}
        {%- if key %}
            {%- do statements.append(
                "if not exists (select from pg_constraint where conrelid = " ~ relation ~ " and contype = 'p') then "
                ~ "alter table " ~ this ~ " add primary key (" ~ key | join(", ") ~ "); end if;"
            ) %}
        {%- endif %}
        {%- if checks %}
            {%- do statements.append(
                "if not exists (select from pg_constraint where conrelid = " ~ relation ~ " and contype = 'c') then "
                ~ checks | join(" ") ~ " end if;"
            ) %}
        {%- endif %}
do $$
begin
    {{ statements | join("\n    ") }}
end
$$
    {%- endif %}
{%- endmacro %}
