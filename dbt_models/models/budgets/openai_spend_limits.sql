{#- OpenAI's own hard spend limits beside what was spent: one row per organization and scope
    (the organization, or a project) with a hard limit configured now, in USD (the API gives
    cents), with the billed spend of the current month (as the monthly budgets count it) and
    the share of the limit it used. An enforcing limit that is reached makes the API refuse
    requests; `budget_status` holds our own budgets, which only warn. Only a monthly limit is
    compared with spend: for another interval the spend columns are NULL. -#}

with

limits as (

    select * from {{ ref('stg_openai__spend_limit_versions') }}
    where is_current and has_limit

),

scopes as (

    select * from {{ ref('int_spend_by_scope_month_to_date') }}

),

measured as (

    select
        limits.organization,
        case when limits.project_id is null then 'organization' else 'project' end as scope_type,
        limits.project_id,
        coalesce(scopes.scope_name, limits.project_id, limits.organization) as scope_name,
        cast(limits.limit_amount_cents / 100.0 as decimal(18, 2)) as limit_usd,
        limits.currency,
        limits.limit_interval,
        limits.enforcement_status,
        limits.enforcement_status = 'enforcing' as is_enforcing,
        scopes.period_start,
        scopes.as_of_date,
        case when limits.limit_interval = 'month' then scopes.spent_usd end as spent_usd,
        limits.valid_from as limit_seen_since

    from limits
    left join scopes
        on
            limits.organization = scopes.organization
            and limits.project_id is not distinct from scopes.project_id

),

final as (

    select
        organization,
        scope_type,
        project_id,
        scope_name,
        limit_usd,
        currency,
        limit_interval,
        enforcement_status,
        is_enforcing,
        period_start,
        as_of_date,
        spent_usd,
        cast(limit_usd as {{ type_double() }}) - spent_usd as remaining_usd,
        case
            when limit_usd > 0 then 100.0 * spent_usd / cast(limit_usd as {{ type_double() }})
        end as percent_used,
        spent_usd >= cast(limit_usd as {{ type_double() }}) as is_reached,
        limit_seen_since

    from measured

)

select * from final
