{#- Offence scope of a Penal Code article (domain.md): the first range of
    var('offence_scopes') that holds it (`corruption` 353-359, then `position`
    352-366), `other` anything else (and unknown). -#}
{% macro offence_scope(article) -%}
    case
    {%- for s in var('offence_scopes') %}
        when {{ article }} between {{ s.first_article }} and {{ s.last_article }} then '{{ s.scope }}'
    {%- endfor %}
        else 'other'
    end
{%- endmacro %}

{#- True when a record with this article belongs to indicator scope `scope`
    (`corruption` is part of `position`; `all` takes every record). -#}
{% macro in_indicator_scope(article, scope) -%}
    (
        {{ scope }} = 'all'
    {%- for s in var('offence_scopes') %}
        or ({{ scope }} = '{{ s.scope }}' and {{ article }} between {{ s.first_article }} and {{ s.last_article }})
    {%- endfor %}
    )
{%- endmacro %}

{#- The scopes every indicator value is computed for (var('indicator_scopes')), as a
    one-column relation for a `from`: `scope_list (scope_code)`. -#}
{% macro indicator_scope_list() -%}
    (
        values
    {%- for scope in var('indicator_scopes') %}
        ('{{ scope }}'){{ "," if not loop.last }}
    {%- endfor %}
    ) as scope_list (scope_code)
{%- endmacro %}
