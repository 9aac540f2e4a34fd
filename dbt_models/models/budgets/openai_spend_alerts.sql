{#- OpenAI's spend alerts beside what was spent: one row per alert configured now, of the
    organization or of a project, with its threshold in USD (the API gives cents), the billed
    spend of the current month (as the monthly budgets count it) and whether that spend has
    crossed the threshold, which is when OpenAI e-mails the recipients. Only a monthly alert is
    compared with spend: for another interval the spend columns are NULL. -#}

with

alerts as (

    select * from {{ ref('stg_openai__spend_alert_versions') }}
    where is_current

),

scopes as (

    select * from {{ ref('int_spend_by_scope_month_to_date') }}

),

measured as (

    select
        alerts.organization,
        alerts.alert_id,
        case when alerts.project_id is null then 'organization' else 'project' end as scope_type,
        alerts.project_id,
        coalesce(scopes.scope_name, alerts.project_id, alerts.organization) as scope_name,
        cast(alerts.threshold_amount_cents / 100.0 as decimal(18, 2)) as threshold_usd,
        alerts.currency,
        alerts.alert_interval,
        cast({{ json_array_length("alerts.recipients_json") }} as {{ dbt.type_bigint() }})
            as recipient_count,
        scopes.period_start,
        scopes.as_of_date,
        case when alerts.alert_interval = 'month' then scopes.spent_usd end as spent_usd

    from alerts
    left join scopes
        on
            alerts.organization = scopes.organization
            and alerts.project_id is not distinct from scopes.project_id

),

final as (

    select
        organization,
        alert_id,
        scope_type,
        project_id,
        scope_name,
        threshold_usd,
        currency,
        alert_interval,
        recipient_count,
        period_start,
        as_of_date,
        spent_usd,
        case
            when threshold_usd > 0
                then 100.0 * spent_usd / cast(threshold_usd as {{ type_double() }})
        end as percent_of_threshold,
        spent_usd >= cast(threshold_usd as {{ type_double() }}) as is_crossed

    from measured

)

select * from final
