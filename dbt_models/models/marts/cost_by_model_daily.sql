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
        {{ priced_usage_totals() }}

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
        {{ counts_or_zero('usage_by_model', [
            'requests', 'input_tokens', 'cached_input_tokens', 'output_tokens'
        ]) }},
        coalesce(billed_by_model.billed_cost_usd, 0) as billed_cost_usd,
        usage_by_model.estimated_cost_usd,
        {{ counts_or_zero('usage_by_model', ['unpriced_requests']) }},
        coalesce(usage_by_model.organization, billed_by_model.organization) as organization

    from usage_by_model
    full outer join billed_by_model
        on
            usage_by_model.organization = billed_by_model.organization
            and usage_by_model.usage_date = billed_by_model.usage_date
            and usage_by_model.model = billed_by_model.model

)

select * from joined
