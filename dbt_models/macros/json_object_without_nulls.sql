{#- A JSON object (as text) of `pairs` [(key, expression), ...] with the keys whose value is
    NULL left out: key-value columns such as FOCUS `Tags` hold only the keys that apply. -#}
{% macro json_object_without_nulls(pairs) -%}
    {{ return(adapter.dispatch('json_object_without_nulls', 'openai_usage_warehouse')(pairs)) }}
{%- endmacro %}

{#- `json`, not `jsonb`: it keeps the keys in the given order and json_strip_nulls writes the
    object compactly, as DuckDB does. -#}
{% macro default__json_object_without_nulls(pairs) -%}
    cast(json_strip_nulls(json_build_object(
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

{#- `expression`, a double, as the JSON number DuckDB writes for it: the shortest digits that
    read back exactly, a whole number with `.0`, and an exponent only below 1e-6 or from 1e21
    on. A value of `json_object_without_nulls` then reads the same on every adapter. -#}
{% macro json_double(expression) -%}
    {{ return(adapter.dispatch('json_double', 'openai_usage_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__json_double(expression) -%}
    cast(case
        when
            {{ expression }} = 0
            or (abs({{ expression }}) >= 1e-6 and abs({{ expression }}) < 1e21)
            then regexp_replace(
                cast(cast(cast({{ expression }} as text) as numeric) as text), '^(-?[0-9]+)$', '\1.0'
            )
        else regexp_replace(cast({{ expression }} as text), 'e[+]?(-?)0*', 'e\1')
    end as json)
{%- endmacro %}

{% macro duckdb__json_double(expression) -%}
    {{ expression }}
{%- endmacro %}
