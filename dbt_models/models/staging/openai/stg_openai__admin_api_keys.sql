with

source as (

    {{ latest_versions(source('openai', 'admin_api_keys')) }}

),

renamed as (

    select

        ----------  ids
        organization,
        id as admin_api_key_id,
        owner_id,

        ----------  text
        name as admin_api_key_name,
        redacted_value,
        owner_type,
        owner_name,
        owner_role,

        ----------  booleans
        _dlt_valid_to is not null as is_deleted,

        ----------  timestamps
        {{ unix_to_timestamp('created_at') }} as created_at,
        {{ unix_to_timestamp('expires_at') }} as expires_at,
        {{ unix_to_timestamp('last_used_at') }} as last_used_at

    from source

)

select * from renamed
