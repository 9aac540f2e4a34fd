{#- A select list of `columns` ((name, type) pairs, in that order) from `relation`: a column the
    relation has is selected as is, one it lacks is a typed NULL. Lets relations of different
    shapes be unioned into one (as dbt_utils.union_relations does). -#}
{% macro columns_or_null(relation, columns) -%}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do present.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for name, type in columns %}
        {% if name in present -%}
            {{ name }}
        {%- else -%}
            cast(null as {{ type }}) as {{ name }}
        {%- endif -%}
        {{- "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
