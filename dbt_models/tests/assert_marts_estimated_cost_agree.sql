-- The daily marts split the same priced usage by model, project, API key and user, so per day
-- their estimated cost and unpriced requests must add up to the same totals as the priced usage
-- rows.

-- Shown in Dagster as an asset check of `cost_by_model_daily`.
{{ config(meta={'dagster': {'ref': {'name': 'cost_by_model_daily'}}}) }}

{%- set tolerance = 0.000001 %}

with

usages as (

    select
        usage_date,
        coalesce(sum(estimated_cost_usd), 0) as estimated_cost_usd,
        sum(case when is_priced then 0 else requests end) as unpriced_requests
    from {{ ref('int_completion_usages__priced') }}
    group by 1

),

marts as (

    select
        'cost_by_model_daily' as mart,
        usage_date,
        coalesce(sum(estimated_cost_usd), 0) as estimated_cost_usd,
        sum(unpriced_requests) as unpriced_requests
    from {{ ref('cost_by_model_daily') }}
    group by 1, 2

    union all

    select
        'cost_by_project_daily' as mart,
        usage_date,
        coalesce(sum(estimated_cost_usd), 0) as estimated_cost_usd,
        sum(unpriced_requests) as unpriced_requests
    from {{ ref('cost_by_project_daily') }}
    group by 1, 2

    union all

    select
        'cost_by_api_key_daily' as mart,
        usage_date,
        coalesce(sum(estimated_cost_usd), 0) as estimated_cost_usd,
        sum(unpriced_requests) as unpriced_requests
    from {{ ref('cost_by_api_key_daily') }}
    group by 1, 2

    union all

    select
        'cost_by_user_daily' as mart,
        usage_date,
        coalesce(sum(estimated_cost_usd), 0) as estimated_cost_usd,
        sum(unpriced_requests) as unpriced_requests
    from {{ ref('cost_by_user_daily') }}
    group by 1, 2

)

select
    marts.mart,
    marts.usage_date,
    marts.estimated_cost_usd as mart_estimated_cost_usd,
    coalesce(usages.estimated_cost_usd, 0) as usage_estimated_cost_usd,
    marts.unpriced_requests as mart_unpriced_requests,
    coalesce(usages.unpriced_requests, 0) as usage_unpriced_requests
from marts
left join usages
    on marts.usage_date = usages.usage_date
where
    abs(marts.estimated_cost_usd - coalesce(usages.estimated_cost_usd, 0)) > {{ tolerance }}
    or marts.unpriced_requests != coalesce(usages.unpriced_requests, 0)
