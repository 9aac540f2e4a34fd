{#- One row per (usage_date, project_id) per organization (`organization` is the last column so
    the BI contract's column order is unchanged). Billed cost comes from the Costs API, usage and
    estimated cost from completions usage, both by project; the full outer join keeps days with
    only one of the two. A NULL project (not attributed) gets a stable label as id and name. -#}

{%- set no_project = "'" ~ var('no_project_label') ~ "'" %}

with

usages as (

    select * from {{ ref('int_completion_usages__priced') }}

),

costs as (

    select * from {{ ref('stg_openai__costs') }}

),

projects as (

    select * from {{ ref('stg_openai__project_versions') }}

),

usage_by_project as (

    select
        organization,
        usage_date,
        coalesce(project_id, {{ no_project }}) as project_id,
        {{ priced_usage_totals() }}

    from usages
    group by 1, 2, 3

),

billed_by_project as (

    select
        organization,
        usage_date,
        coalesce(project_id, {{ no_project }}) as project_id,
        sum(amount) as billed_cost_usd

    from costs
    group by 1, 2, 3

),

joined as (

    select
        coalesce(usage_by_project.organization, billed_by_project.organization) as organization,
        coalesce(usage_by_project.usage_date, billed_by_project.usage_date) as usage_date,
        coalesce(usage_by_project.project_id, billed_by_project.project_id) as project_id,
        usage_by_project.requests,
        usage_by_project.input_tokens,
        usage_by_project.cached_input_tokens,
        usage_by_project.output_tokens,
        billed_by_project.billed_cost_usd,
        usage_by_project.estimated_cost_usd,
        usage_by_project.unpriced_requests

    from usage_by_project
    full outer join billed_by_project
        on
            usage_by_project.organization = billed_by_project.organization
            and usage_by_project.usage_date = billed_by_project.usage_date
            and usage_by_project.project_id = billed_by_project.project_id

),

final as (

    select
        joined.usage_date,
        joined.project_id,
        case
            when joined.project_id = {{ no_project }} then {{ no_project }}
            else projects.project_name
        end as project_name,
        {{ counts_or_zero('joined', [
            'requests', 'input_tokens', 'cached_input_tokens', 'output_tokens'
        ]) }},
        coalesce(joined.billed_cost_usd, 0) as billed_cost_usd,
        joined.estimated_cost_usd,
        {{ counts_or_zero('joined', ['unpriced_requests']) }},
        joined.organization

    from joined
    left join projects
        on
            joined.organization = projects.organization
            and joined.project_id = projects.project_id
            and joined.usage_date >= projects.valid_from_date
            and joined.usage_date < projects.valid_to_date

)

select * from final
