{#- What every usage family's staging model shares: the OpenAI usage endpoints return time
    buckets (start_time, end_time in unix seconds) per organization, and the pipeline adds the
    bucket's UTC day and whether it is final. A staging model then names only its own group-by
    dimensions and metrics. -#}


{#- The family's raw table, or an empty one of the bucket columns plus `columns` ((name, type)
    pairs) when the pipeline has not loaded it (see source_or_empty). -#}
{% macro usage_bucket_source(relation, columns) -%}
    {{ source_or_empty(relation, [
        ('organization', dbt.type_string()),
        ('bucket_date', 'date'),
        ('start_time', dbt.type_bigint()),
        ('end_time', dbt.type_bigint()),
    ] + columns + [('is_final', dbt.type_boolean())]) }}
{%- endmacro %}


{#- The row's key (one row per organization, bucket and group), then `organization`. -#}
{% macro usage_bucket_id(group_by_columns, id_name='usage_id') -%}
    {{ surrogate_key(['organization', 'start_time'] + group_by_columns) }} as {{ id_name }},
        organization
{%- endmacro %}


{#- The bucket's finality, UTC day and bounds, last in the select list. -#}
{% macro usage_bucket_columns() -%}
    is_final,
        cast(bucket_date as date) as usage_date,
        {{ unix_to_timestamp('start_time') }} as bucket_started_at,
        {{ unix_to_timestamp('end_time') }} as bucket_ended_at
{%- endmacro %}
