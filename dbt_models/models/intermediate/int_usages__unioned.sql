{#- Every usage family (macros/usage_families.sql) in one long shape, one row per organization,
    bucket and group. Metrics a family does not have are NULL; `family` names the endpoint. -#}

{%- set dimensions_and_metrics = [
    ('project_id', dbt.type_string()),
    ('user_id', dbt.type_string()),
    ('api_key_id', dbt.type_string()),
    ('model', dbt.type_string()),
    ('is_batch', dbt.type_boolean()),
    ('service_tier', dbt.type_string()),
    ('requests', dbt.type_bigint()),
    ('input_tokens', dbt.type_bigint()),
    ('cached_input_tokens', dbt.type_bigint()),
    ('output_tokens', dbt.type_bigint()),
    ('images', dbt.type_bigint()),
    ('characters', dbt.type_bigint()),
    ('seconds', dbt.type_bigint()),
    ('sessions', dbt.type_bigint()),
    ('usage_bytes', dbt.type_bigint()),
    ('calls', dbt.type_bigint()),
    ('is_final', dbt.type_boolean()),
] %}

with
{% for family, model_name in usage_families().items() %}
{{ family }} as (

    select * from {{ ref(model_name) }}

),
{% endfor %}
unioned as (

    {%- for family, model_name in usage_families().items() %}

    select
        organization,
        usage_date,
        '{{ family }}' as family,
        {{- columns_or_null(ref(model_name), dimensions_and_metrics) }}
    from {{ family }}
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

)

select * from unioned
