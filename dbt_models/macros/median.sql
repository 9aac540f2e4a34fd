{#- The median of `expression` as an aggregate (ordered-set `percentile_cont` on DuckDB,
    Postgres, Snowflake, Redshift; approximate quantiles on BigQuery). -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'openai_usage_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro bigquery__median(expression) -%}
    approx_quantiles({{ expression }}, 2)[offset(1)]
{%- endmacro %}
