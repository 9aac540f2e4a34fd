{#- A deterministic hash of several columns, NULL-safe (NULL and '' hash differently), built from
    dbt's cross-database macros so it works on every adapter. -#}
{% macro surrogate_key(column_names) -%}
    {%- set parts = [] -%}
    {%- for column_name in column_names -%}
        {%- do parts.append(
            "coalesce(cast(" ~ column_name ~ " as " ~ dbt.type_string() ~ "), '_null_')"
        ) -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
