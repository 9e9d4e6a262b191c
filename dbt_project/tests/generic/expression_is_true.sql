{#- Every row satisfies `expression` (dbt_utils.expression_is_true, written here:
    no dbt hub). Use the test's `where` config to restrict the rows. -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
