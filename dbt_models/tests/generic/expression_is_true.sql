{#- Fails for every row where the boolean SQL `expression` is false. Rows where it is NULL pass,
    so wrap columns in coalesce() when NULL should fail. Used at model or column level; at column
    level the expression still names the column itself. -#}
{% test expression_is_true(model, expression, column_name=None) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
