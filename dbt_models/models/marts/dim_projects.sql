{#- One row per organization and project (archived ones included), with the span of its usage
    and its number of API keys. -#}

with

projects as (

    select * from {{ ref('int_projects__latest') }}

),

api_keys as (

    select * from {{ ref('int_api_keys__latest') }}

),

usages as (

    select * from {{ ref('stg_openai__completion_usages') }}

),

key_counts as (

    select
        organization,
        project_id,
        count(*) as api_keys

    from api_keys
    group by 1, 2

),

usage_spans as (

    select
        organization,
        project_id,
        min(usage_date) as first_usage_date,
        max(usage_date) as last_usage_date

    from usages
    group by 1, 2

),

final as (

    select
        projects.organization,
        projects.project_id,
        projects.project_name,
        projects.project_status,
        projects.is_archived,
        projects.created_at,
        projects.archived_at,
        cast(coalesce(key_counts.api_keys, 0) as {{ dbt.type_bigint() }}) as api_keys,
        usage_spans.first_usage_date,
        usage_spans.last_usage_date

    from projects
    left join key_counts
        on
            projects.organization = key_counts.organization
            and projects.project_id = key_counts.project_id
    left join usage_spans
        on
            projects.organization = usage_spans.organization
            and projects.project_id = usage_spans.project_id

)

select * from final
