{#- Fails for every combination of the given columns that occurs more than once. NULLs compare
    equal here (group by), so two rows that differ only by being NULL in the same column fail. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
