{#- One row per (usage_date, model) per organization (`organization` is the last column so the
    BI contract's column order is unchanged). Billed cost comes from the Costs API line items (all
    projects), usage and estimated cost from completions usage. The full outer join keeps
    products billed without token usage (file search, web search) and usage without any cost
    line. A NULL model (ungrouped usage, ungrouped cost) gets a stable label. -#}

{%- set unknown_model = "'" ~ var('unknown_model_label') ~ "'" %}

with

usages as (

    select * from {{ ref('int_completion_usages__priced') }}

),

line_items as (

    select * from {{ ref('int_costs__line_items_parsed') }}

),

usage_by_model as (

    select
        organization,
        usage_date,
        coalesce(model, {{ unknown_model }}) as model,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens,
        sum(estimated_cost_usd) as estimated_cost_usd,
        sum(case when is_priced then 0 else requests end) as unpriced_requests

    from usages
    group by 1, 2, 3

),

billed_by_model as (

    select
        organization,
        usage_date,
        coalesce(model, {{ unknown_model }}) as model,
        sum(amount) as billed_cost_usd

    from line_items
    group by 1, 2, 3

),

joined as (

    select
        coalesce(usage_by_model.usage_date, billed_by_model.usage_date) as usage_date,
        coalesce(usage_by_model.model, billed_by_model.model) as model,
        cast(coalesce(usage_by_model.requests, 0) as {{ dbt.type_bigint() }}) as requests,
        cast(coalesce(usage_by_model.input_tokens, 0) as {{ dbt.type_bigint() }}) as input_tokens,
        cast(
            coalesce(usage_by_model.cached_input_tokens, 0) as {{ dbt.type_bigint() }}
        ) as cached_input_tokens,
        cast(
            coalesce(usage_by_model.output_tokens, 0) as {{ dbt.type_bigint() }}
        ) as output_tokens,
        coalesce(billed_by_model.billed_cost_usd, 0) as billed_cost_usd,
        usage_by_model.estimated_cost_usd,
        cast(
            coalesce(usage_by_model.unpriced_requests, 0) as {{ dbt.type_bigint() }}
        ) as unpriced_requests,
        coalesce(usage_by_model.organization, billed_by_model.organization) as organization

    from usage_by_model
    full outer join billed_by_model
        on
            usage_by_model.organization = billed_by_model.organization
            and usage_by_model.usage_date = billed_by_model.usage_date
            and usage_by_model.model = billed_by_model.model

)

select * from joined
