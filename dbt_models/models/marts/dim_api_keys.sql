{#- One row per organization and project API key, with its project and owner. -#}

with

api_keys as (

    select * from {{ ref('int_api_keys__latest') }}

),

projects as (

    select * from {{ ref('int_projects__latest') }}

),

final as (

    select
        api_keys.organization,
        api_keys.api_key_id,
        api_keys.api_key_name,
        api_keys.redacted_value,
        api_keys.project_id,
        projects.project_name,
        api_keys.owner_type,
        api_keys.owner_id,
        api_keys.owner_name,
        api_keys.owner_email,
        api_keys.owner_role,
        api_keys.is_service_account_owned,
        api_keys.created_at,
        api_keys.last_used_at

    from api_keys
    left join projects
        on
            api_keys.organization = projects.organization
            and api_keys.project_id = projects.project_id

)

select * from final
