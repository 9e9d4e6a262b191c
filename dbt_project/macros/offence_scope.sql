{#- Offence scope of a Penal Code article (domain.md): `corruption` 353-359,
    `position` the other articles 352-366, `other` anything else (and unknown). -#}
{% macro offence_scope(article) -%}
    case
        when {{ article }} between 353 and 359 then 'corruption'
        when {{ article }} between 352 and 366 then 'position'
        else 'other'
    end
{%- endmacro %}

{#- True when a record with this article belongs to indicator scope `scope`
    (`corruption` is part of `position`; `all` takes every record). -#}
{% macro in_indicator_scope(article, scope) -%}
    (
        {{ scope }} = 'all'
        or ({{ scope }} = 'position' and {{ article }} between 352 and 366)
        or ({{ scope }} = 'corruption' and {{ article }} between 353 and 359)
    )
{%- endmacro %}
