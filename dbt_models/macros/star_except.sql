{#- Every column of `relation` but `excluded`, for a select list: DuckDB's `* exclude (...)`,
    elsewhere the relation's columns listed from the catalog. -#}
{% macro star_except(relation, excluded) -%}
    {{ return(adapter.dispatch('star_except', 'openai_usage_warehouse')(relation, excluded)) }}
{%- endmacro %}

{% macro default__star_except(relation, excluded) -%}
    {%- if not execute -%}
        *
    {%- else -%}
        {%- set names = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower not in excluded -%}
                {%- do names.append(adapter.quote(column.name)) -%}
            {%- endif -%}
        {%- endfor -%}
        {{ names | join(', ') }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__star_except(relation, excluded) -%}
    * exclude ({{ excluded | join(', ') }})
{%- endmacro %}
