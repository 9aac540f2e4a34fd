{#- The first capture group of `pattern` in `expression`, or NULL when it does not match.
    `pattern` must hold exactly one capture group and be valid for both RE2 and POSIX ARE. -#}
{% macro regexp_capture(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_capture', 'openai_usage_warehouse')(expression, pattern)) }}
{%- endmacro %}

{#- Postgres and Redshift: substring(... from ...) returns the first capture group. -#}
{% macro default__regexp_capture(expression, pattern) -%}
    substring({{ expression }} from '{{ pattern }}')
{%- endmacro %}

{#- DuckDB returns an empty string instead of NULL when the pattern does not match. -#}
{% macro duckdb__regexp_capture(expression, pattern) -%}
    nullif(regexp_extract({{ expression }}, '{{ pattern }}', 1), '')
{%- endmacro %}
