-- The billed-cost allocation to API keys and users loses and invents nothing: for every
-- organization, day, project and model, the allocated rows sum to the line items they split,
-- and no allocated row exists without a line item. Returns the groups that disagree.

-- Shown in Dagster as an asset check of `int_costs__allocated`.
{{ config(meta={'dagster': {'ref': {'name': 'int_costs__allocated'}}}) }}

{%- set tolerance = 0.000001 %}

with

line_items as (

    select
        {{ billing_group() }},
        sum(amount) as billed_cost_usd
    from {{ ref('int_costs__line_items_parsed') }}
    group by 1, 2, 3, 4

),

allocated as (

    select
        organization,
        usage_date,
        project_id,
        model,
        sum(billed_cost_usd) as billed_cost_usd,
        min(billed_cost_usd) as smallest_share
    from {{ ref('int_costs__allocated') }}
    group by 1, 2, 3, 4

)

select
    coalesce(line_items.organization, allocated.organization) as organization,
    coalesce(line_items.usage_date, allocated.usage_date) as usage_date,
    coalesce(line_items.project_id, allocated.project_id) as project_id,
    coalesce(line_items.model, allocated.model) as model,
    line_items.billed_cost_usd as line_items_billed_cost_usd,
    allocated.billed_cost_usd as allocated_billed_cost_usd
from line_items
full outer join allocated
    on
        line_items.organization = allocated.organization
        and line_items.usage_date = allocated.usage_date
        and line_items.project_id = allocated.project_id
        and line_items.model = allocated.model
where
    line_items.billed_cost_usd is null
    or allocated.billed_cost_usd is null
    or abs(line_items.billed_cost_usd - allocated.billed_cost_usd) > {{ tolerance }}
    -- a negative share would mean a key was given money another key lost
    or (allocated.smallest_share < 0 and line_items.billed_cost_usd >= 0)
