{#- The scopes OpenAI's spend limits and alerts apply to, the organization (`project_id` NULL)
    and every project it has had, each with its name and its billed spend in the current
    month: the calendar month (UTC) of the latest day loaded for the organization
    (`as_of_date`), as the monthly budgets count it; 0 for a scope without spend this month.
    Organizations without any spend loaded have no rows. -#}

with

spend as (

    select * from {{ ref('int_spend_by_scope_daily') }}
    where scope_type in ('organization', 'project')

),

projects as (

    select * from {{ ref('int_projects__latest') }}

),

periods as (

    select
        organization,
        max(usage_date) as as_of_date,
        cast({{ dbt.date_trunc('month', 'max(usage_date)') }} as date) as period_start

    from spend
    where scope_type = 'organization'
    group by 1

),

scopes as (

    select
        organization,
        'organization' as scope_type,
        organization as scope_id,
        cast(null as {{ dbt.type_string() }}) as project_id,
        organization as scope_name

    from periods

    union all

    select
        organization,
        'project' as scope_type,
        project_id as scope_id,
        project_id,
        coalesce(project_name, project_id) as scope_name

    from projects

),

month_spend as (

    select
        spend.organization,
        spend.scope_type,
        spend.scope_id,
        sum(spend.billed_cost_usd) as spent_usd

    from spend
    inner join periods
        on
            spend.organization = periods.organization
            and spend.usage_date >= periods.period_start
            and spend.usage_date <= periods.as_of_date
    group by 1, 2, 3

),

final as (

    select
        scopes.organization,
        scopes.scope_type,
        scopes.project_id,
        scopes.scope_name,
        periods.period_start,
        periods.as_of_date,
        cast(coalesce(month_spend.spent_usd, 0) as {{ type_double() }}) as spent_usd

    from scopes
    inner join periods
        on scopes.organization = periods.organization
    left join month_spend
        on
            scopes.organization = month_spend.organization
            and scopes.scope_type = month_spend.scope_type
            and scopes.scope_id = month_spend.scope_id

)

select * from final
