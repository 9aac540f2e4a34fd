{#- `raw.budgets` is written by the Dagster asset `raw/budgets` from budgets.yaml. Creating it
    empty when it is missing (on-run-start) lets every dbt invocation build the budget models,
    also on warehouses that never loaded a budgets file: no table means no budgets. Same
    columns as `assets/budgets.py`. -#}
{% macro create_budgets_table() -%}
    {%- set relation = source('budgets', 'budgets') -%}
    create schema if not exists {{ relation.schema }};
    create table if not exists {{ relation }} (
        budget_name {{ dbt.type_string() }},
        organization {{ dbt.type_string() }},
        scope_type {{ dbt.type_string() }},
        scope_match {{ dbt.type_string() }},
        period {{ dbt.type_string() }},
        limit_usd {{ type_double() }},
        warn_percent {{ type_double() }},
        basis {{ dbt.type_string() }},
        source_line {{ dbt.type_int() }}
    )
{%- endmacro %}
