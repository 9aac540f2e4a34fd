{#- A JSON object (as text) of `pairs` [(key, expression), ...] with the keys whose value is
    NULL left out: key-value columns such as FOCUS `Tags` hold only the keys that apply. -#}
{% macro json_object_without_nulls(pairs) -%}
    {{ return(adapter.dispatch('json_object_without_nulls', 'openai_usage_warehouse')(pairs)) }}
{%- endmacro %}

{% macro default__json_object_without_nulls(pairs) -%}
    cast(jsonb_strip_nulls(jsonb_build_object(
        {%- for key, value in pairs %}
        '{{ key }}', {{ value }}{{ "," if not loop.last }}
        {%- endfor %}
    )) as {{ dbt.type_string() }})
{%- endmacro %}

{#- DuckDB: merging an object into `{}` drops its NULL members (JSON merge patch, RFC 7396). -#}
{% macro duckdb__json_object_without_nulls(pairs) -%}
    cast(json_merge_patch('{}', json_object(
        {%- for key, value in pairs %}
        '{{ key }}', {{ value }}{{ "," if not loop.last }}
        {%- endfor %}
    )) as {{ dbt.type_string() }})
{%- endmacro %}
