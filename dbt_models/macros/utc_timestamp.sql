{#- A timestamp WITH time zone for `expression`, a date or a timestamp without time zone that
    holds UTC wall-clock time (as every timestamp of the staging models does). Exports that
    must carry the instant itself (FOCUS date/times are UTC) use it; the session time zone never
    shifts the result. Read it back as a UTC day with `cast(<column> at time zone 'UTC' as date)`:
    a plain cast to date would apply the session time zone. -#}
{% macro utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'openai_usage_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__utc_timestamp(expression) -%}
    (cast({{ expression }} as {{ dbt.type_timestamp() }}) at time zone 'UTC')
{%- endmacro %}
