-- DESIGN.md invariant: over any date range, billed_cost_usd in both marts sums to the raw Costs
-- total. Checked per day (which implies any range) and over all days together; returns the
-- days where a mart disagrees with raw.costs.

{%- set tolerance = 0.000001 %}

with

raw_costs as (

    select
        bucket_date as usage_date,
        sum(amount_value) as billed_cost_usd
    from {{ source('openai', 'costs') }}
    group by 1

),

by_model as (

    select
        usage_date,
        sum(billed_cost_usd) as billed_cost_usd
    from {{ ref('cost_by_model_daily') }}
    group by 1

),

by_project as (

    select
        usage_date,
        sum(billed_cost_usd) as billed_cost_usd
    from {{ ref('cost_by_project_daily') }}
    group by 1

),

compared as (

    select
        coalesce(raw_costs.usage_date, by_model.usage_date, by_project.usage_date) as usage_date,
        coalesce(raw_costs.billed_cost_usd, 0) as raw_billed_cost_usd,
        coalesce(by_model.billed_cost_usd, 0) as model_mart_billed_cost_usd,
        coalesce(by_project.billed_cost_usd, 0) as project_mart_billed_cost_usd
    from raw_costs
    full outer join by_model
        on raw_costs.usage_date = by_model.usage_date
    full outer join by_project
        on coalesce(raw_costs.usage_date, by_model.usage_date) = by_project.usage_date

),

with_total as (

    select * from compared
    union all
    select
        null as usage_date,
        sum(raw_billed_cost_usd) as raw_billed_cost_usd,
        sum(model_mart_billed_cost_usd) as model_mart_billed_cost_usd,
        sum(project_mart_billed_cost_usd) as project_mart_billed_cost_usd
    from compared

)

select *
from with_total
where
    abs(model_mart_billed_cost_usd - raw_billed_cost_usd) > {{ tolerance }}
    or abs(project_mart_billed_cost_usd - raw_billed_cost_usd) > {{ tolerance }}
