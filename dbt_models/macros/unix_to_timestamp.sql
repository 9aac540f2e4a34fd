{#- Unix seconds (UTC) to a timestamp without time zone that holds the UTC wall-clock time. -#}
{% macro unix_to_timestamp(column_name) -%}
    {{ return(adapter.dispatch('unix_to_timestamp', 'openai_usage_warehouse')(column_name)) }}
{%- endmacro %}

{% macro default__unix_to_timestamp(column_name) -%}
    {{ dbt.dateadd('second', column_name, "cast('1970-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}

{#- DuckDB's to_timestamp() returns a TIMESTAMPTZ, and casting that to TIMESTAMP applies the
    session time zone; make_timestamp() from microseconds stays in UTC. -#}
{% macro duckdb__unix_to_timestamp(column_name) -%}
    make_timestamp(cast({{ column_name }} as bigint) * 1000000)
{%- endmacro %}
