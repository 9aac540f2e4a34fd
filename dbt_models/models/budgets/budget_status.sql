{#- One row per budget, organization and period (UTC day or calendar month) from the first day
    with data to the latest day loaded (`as_of_date`): spend on the budget's basis, the limit,
    the percentage used, a month-end projection for monthly budgets, and the state:
    `breach` at or above the limit, `warn` at or above `warn_percent` of it, else `ok`.
    The projection of the current month is its spend per elapsed day (as_of_date counted as a
    whole day) times the days of the month; a closed period projects to what it spent
    (macros/linear_month_end_projection.sql, as the monthly cost marts). -#}

with

budgets as (

    select * from {{ source('budgets', 'budgets') }}

),

spend as (

    select * from {{ ref('int_spend_by_scope_daily') }}

),

organization_days as (

    select
        organization,
        usage_date

    from spend
    where scope_type = 'organization'

),

as_of as (

    select
        organization,
        max(usage_date) as as_of_date

    from organization_days
    group by 1

),

periods as (

    select distinct
        organization,
        'daily' as period,
        usage_date as period_start

    from organization_days

    union all

    select distinct
        organization,
        'monthly' as period,
        cast({{ dbt.date_trunc('month', 'usage_date') }} as date) as period_start

    from organization_days

),

budget_periods as (

    select
        budgets.budget_name,
        periods.organization,
        budgets.scope_type,
        budgets.scope_match,
        budgets.period,
        budgets.basis,
        budgets.limit_usd,
        budgets.warn_percent,
        budgets.source_line,
        periods.period_start,
        case
            when budgets.period = 'daily'
                then cast({{ dbt.dateadd('day', 1, 'periods.period_start') }} as date)
            else cast({{ dbt.dateadd('month', 1, 'periods.period_start') }} as date)
        end as period_end,
        as_of.as_of_date

    from budgets
    inner join periods
        on
            budgets.period = periods.period
            and (budgets.organization is null or budgets.organization = periods.organization)
    inner join as_of
        on periods.organization = as_of.organization

),

spent as (

    select
        budget_periods.budget_name,
        budget_periods.organization,
        budget_periods.period_start,
        count(distinct spend.scope_id) as matched_scopes,
        sum(
            case
                when budget_periods.basis = 'estimated' then spend.estimated_cost_usd
                else spend.billed_cost_usd
            end
        ) as spent_usd

    from budget_periods
    left join spend
        on
            budget_periods.organization = spend.organization
            and budget_periods.scope_type = spend.scope_type
            and (
                budget_periods.scope_match is null
                or budget_periods.scope_match = spend.scope_id
                or budget_periods.scope_match = spend.scope_name
                or budget_periods.scope_match = spend.scope_email
            )
            and budget_periods.period_start <= spend.usage_date
            and budget_periods.period_end > spend.usage_date
    group by 1, 2, 3

),

measured as (

    select
        budget_periods.*,
        spent.matched_scopes,
        cast(coalesce(spent.spent_usd, 0) as {{ type_double() }}) as spent_usd,
        budget_periods.as_of_date >= budget_periods.period_start
        and budget_periods.as_of_date < budget_periods.period_end as is_current_period,
        {{ dbt.datediff('budget_periods.period_start', 'budget_periods.period_end', 'day') }}  -- noqa: LT05
            as period_days,
        {{ dbt.datediff('budget_periods.period_start', 'budget_periods.as_of_date', 'day') }} + 1  -- noqa: LT05
            as elapsed_days

    from budget_periods
    inner join spent
        on
            budget_periods.budget_name = spent.budget_name
            and budget_periods.organization = spent.organization
            and budget_periods.period_start = spent.period_start

),

projected as (

    select
        *,
        case
            when period = 'monthly'
                then {{ linear_month_end_projection('spent_usd', 'elapsed_days', 'period_days') }}
        end as projected_usd

    from measured

),

final as (

    select
        organization,
        budget_name,
        scope_type,
        scope_match,
        period,
        basis,
        period_start,
        period_end,
        as_of_date,
        is_current_period,
        matched_scopes,
        spent_usd,
        limit_usd,
        warn_percent,
        limit_usd * warn_percent / 100.0 as warn_at_usd,
        100.0 * spent_usd / limit_usd as percent_used,
        projected_usd,
        100.0 * projected_usd / limit_usd as projected_percent_used,
        case
            when spent_usd >= limit_usd then 'breach'
            when spent_usd >= limit_usd * warn_percent / 100.0 then 'warn'
            else 'ok'
        end as state,
        source_line

    from projected

)

select * from final
