{#- Billed (Costs API) against estimated (usage x prices) per organization, UTC day, project and
    model, with the drift and the usage that could not be priced. The model is the one cost line
    items name (fine-tuned `ft:<base>:...` usage is billed as `ft-<base>`). Products billed
    without token usage have a NULL estimate and drift. -#}

with

usages as (

    select * from {{ ref('int_completion_usages__priced') }}

),

line_items as (

    select * from {{ ref('int_costs__line_items_parsed') }}

),

usage_groups as (

    select
        {{ billing_group('billing_model') }},
        sum(requests) as requests,
        sum(estimated_cost_usd) as estimated_cost_usd,
        sum(case when is_priced then 0 else requests end) as unpriced_requests,
        sum(case when is_priced then 0 else input_tokens end) as unpriced_input_tokens,
        sum(case when is_priced then 0 else output_tokens end) as unpriced_output_tokens

    from usages
    group by 1, 2, 3, 4

),

billed_groups as (

    select
        {{ billing_group() }},
        sum(amount) as billed_cost_usd

    from line_items
    group by 1, 2, 3, 4

),

joined as (

    select
        coalesce(usage_groups.organization, billed_groups.organization) as organization,
        coalesce(usage_groups.usage_date, billed_groups.usage_date) as usage_date,
        coalesce(usage_groups.project_id, billed_groups.project_id) as project_id,
        coalesce(usage_groups.model, billed_groups.model) as model,
        coalesce(billed_groups.billed_cost_usd, 0) as billed_cost_usd,
        usage_groups.estimated_cost_usd,
        cast(coalesce(usage_groups.requests, 0) as {{ dbt.type_bigint() }}) as requests,
        cast(
            coalesce(usage_groups.unpriced_requests, 0) as {{ dbt.type_bigint() }}
        ) as unpriced_requests,
        cast(
            coalesce(usage_groups.unpriced_input_tokens, 0) as {{ dbt.type_bigint() }}
        ) as unpriced_input_tokens,
        cast(
            coalesce(usage_groups.unpriced_output_tokens, 0) as {{ dbt.type_bigint() }}
        ) as unpriced_output_tokens

    from usage_groups
    full outer join billed_groups
        on
            usage_groups.organization = billed_groups.organization
            and usage_groups.usage_date = billed_groups.usage_date
            and usage_groups.project_id = billed_groups.project_id
            and usage_groups.model = billed_groups.model

),

final as (

    select
        *,
        estimated_cost_usd - billed_cost_usd as drift_usd,
        case
            when billed_cost_usd <> 0
                then 100.0 * (estimated_cost_usd - billed_cost_usd) / billed_cost_usd
        end as drift_pct,
        unpriced_requests = 0 and estimated_cost_usd is not null as is_fully_priced

    from joined

)

select * from final
