{#- `raw.budgets` is written by the Dagster asset `raw/budgets` from budgets.yaml. Creating it
    empty when it is missing (on-run-start) lets every dbt invocation build the budget models,
    also on warehouses that never loaded a budgets file: no table means no budgets. Its columns
    and types are the ones the `budgets` source declares (_budgets__sources.yml), which the
    asset creates the table from too. -#}
{% macro create_budgets_table() -%}
    {%- if execute -%}
        {%- set relation = source('budgets', 'budgets') -%}
        {%- set table = graph.sources['source.' ~ project_name ~ '.budgets.budgets'] -%}
        create schema if not exists {{ relation.schema }};
        create table if not exists {{ relation }} (
            {%- for column in table.columns.values() %}
            {{ column.name }} {{ column.data_type }}{{ "," if not loop.last }}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}
