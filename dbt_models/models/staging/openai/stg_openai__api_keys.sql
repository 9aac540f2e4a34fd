with

source as (

    {{ latest_versions(source('openai', 'project_api_keys')) }}

),

renamed as (

    select

        ----------  ids
        organization,
        id as api_key_id,
        project_id,
        owner_id,

        ----------  text
        name as api_key_name,
        redacted_value,
        owner_type,
        owner_name,
        owner_email,
        owner_role,
        owner_project_access,

        ----------  booleans
        owner_type = 'service_account' as is_service_account_owned,

        ----------  timestamps
        {{ unix_to_timestamp('created_at') }} as created_at,
        {{ unix_to_timestamp('last_used_at') }} as last_used_at

    from source

)

select * from renamed
