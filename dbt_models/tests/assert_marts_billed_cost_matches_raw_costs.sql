-- BI contract invariant (docs/architecture.md), for every billed-cost mart: over any date range,
-- the billed cost of each mart sums to the raw Costs total. Checked per organization and day for
-- the daily marts and per organization and month for the monthly ones (which implies any range of
-- them); returns every (mart, organization, period) that disagrees with raw.costs. The FOCUS
-- export names its columns as the specification does; its day is the UTC day of the charge.

-- Shown in Dagster as an asset check of `cost_by_project_daily`.
{{ config(meta={'dagster': {'ref': {'name': 'cost_by_project_daily'}}}) }}

{%- set tolerance = 0.000001 %}
{%- set daily_marts = [
    'cost_by_model_daily', 'cost_by_project_daily', 'cost_by_api_key_daily',
    'cost_by_user_daily', 'cost_by_line_item_daily', 'cost_reconciliation_daily'
] %}
{%- set monthly_marts = ['cost_by_model_monthly', 'cost_by_project_monthly'] %}
{#- (mart, grain, organization, period start, billed cost) -#}
{%- set marts = [] %}
{%- for mart in daily_marts %}
{%- do marts.append((mart, 'day', 'organization', 'usage_date', 'billed_cost_usd')) %}
{%- endfor %}
{%- for mart in monthly_marts %}
{%- do marts.append((mart, 'month', 'organization', 'month_start', 'billed_cost_usd')) %}
{%- endfor %}
{%- do marts.append((
    'focus_costs', 'day', '"BillingAccountName"',
    "cast(" ~ '"ChargePeriodStart"' ~ " at time zone 'UTC' as date)", '"BilledCost"'
)) %}

with

raw_daily as (

    select
        organization,
        bucket_date as period_start,
        sum(amount_value) as billed_cost_usd
    from {{ source('openai', 'costs') }}
    group by 1, 2

),

raw_monthly as (

    select
        organization,
        cast({{ dbt.date_trunc('month', 'period_start') }} as date) as period_start,
        sum(billed_cost_usd) as billed_cost_usd
    from raw_daily
    group by 1, 2

),

marts as (

    {% for mart, grain, organization, period_start, billed_cost in marts %}
    select
        '{{ mart }}' as mart,
        '{{ grain }}' as grain,
        {{ organization }} as organization,
        {{ period_start }} as period_start,
        sum({{ billed_cost }}) as billed_cost_usd
    from {{ ref(mart) }}
    group by 1, 2, 3, 4
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

expected as (

    {% for mart in marts %}
    select
        '{{ mart[0] }}' as mart,
        organization,
        period_start,
        billed_cost_usd
    from {{ 'raw_monthly' if mart[1] == 'month' else 'raw_daily' }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

compared as (

    select
        coalesce(expected.mart, marts.mart) as mart,
        coalesce(expected.organization, marts.organization) as organization,
        coalesce(expected.period_start, marts.period_start) as period_start,
        coalesce(expected.billed_cost_usd, 0) as raw_billed_cost_usd,
        coalesce(marts.billed_cost_usd, 0) as mart_billed_cost_usd
    from expected
    full outer join marts
        on
            expected.mart = marts.mart
            and expected.organization = marts.organization
            and expected.period_start = marts.period_start

)

select *
from compared
where abs(mart_billed_cost_usd - raw_billed_cost_usd) > {{ tolerance }}
