{#- The number of elements of `expression`, a JSON array held as text (as dlt stores nested
    lists): Postgres' json_array_length takes only the json type, DuckDB's reads text too. -#}
{% macro json_array_length(expression) -%}
    {{ return(adapter.dispatch('json_array_length', 'openai_usage_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__json_array_length(expression) -%}
    json_array_length(cast({{ expression }} as json))
{%- endmacro %}

{% macro duckdb__json_array_length(expression) -%}
    json_array_length({{ expression }})
{%- endmacro %}
