{#- Use the configured schema as is (`staging`, `marts`), not dbt's default `<target>_<custom>`:
    BI tools and the publishing step address the marts as `marts.<table>`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
