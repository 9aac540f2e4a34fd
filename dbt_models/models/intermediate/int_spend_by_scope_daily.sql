{#- Spend per organization, UTC day and scope, in one long table that budgets and anomaly
    detection match against: the organization total, and each project, API key, user and model,
    with their ids, names (and user emails), billed and estimated cost, all from the cost marts
    so the numbers are the ones BI tools show. -#}

with

projects as (

    select * from {{ ref('cost_by_project_daily') }}

),

api_keys as (

    select * from {{ ref('cost_by_api_key_daily') }}

),

users as (

    select * from {{ ref('cost_by_user_daily') }}

),

models as (

    select * from {{ ref('cost_by_model_daily') }}

),

organization_spend as (

    select
        organization,
        usage_date,
        'organization' as scope_type,
        organization as scope_id,
        organization as scope_name,
        cast(null as {{ dbt.type_string() }}) as scope_email,
        sum(billed_cost_usd) as billed_cost_usd,
        sum(estimated_cost_usd) as estimated_cost_usd

    from projects
    group by 1, 2

),

project_spend as (

    select
        organization,
        usage_date,
        'project' as scope_type,
        project_id as scope_id,
        project_name as scope_name,
        cast(null as {{ dbt.type_string() }}) as scope_email,
        billed_cost_usd,
        estimated_cost_usd

    from projects

),

api_key_spend as (

    select
        organization,
        usage_date,
        'api_key' as scope_type,
        api_key_id as scope_id,
        api_key_name as scope_name,
        cast(null as {{ dbt.type_string() }}) as scope_email,
        billed_cost_usd,
        estimated_cost_usd

    from api_keys

),

user_spend as (

    select
        organization,
        usage_date,
        'user' as scope_type,
        user_id as scope_id,
        user_name as scope_name,
        email as scope_email,
        billed_cost_usd,
        estimated_cost_usd

    from users

),

model_spend as (

    select
        organization,
        usage_date,
        'model' as scope_type,
        model as scope_id,
        model as scope_name,
        cast(null as {{ dbt.type_string() }}) as scope_email,
        billed_cost_usd,
        estimated_cost_usd

    from models

),

unioned as (

    select * from organization_spend
    union all
    select * from project_spend
    union all
    select * from api_key_spend
    union all
    select * from user_spend
    union all
    select * from model_spend

),

final as (

    select
        organization,
        usage_date,
        scope_type,
        scope_id,
        scope_name,
        scope_email,
        cast(coalesce(billed_cost_usd, 0) as {{ type_double() }}) as billed_cost_usd,
        cast(estimated_cost_usd as {{ type_double() }}) as estimated_cost_usd

    from unioned

)

select * from final
