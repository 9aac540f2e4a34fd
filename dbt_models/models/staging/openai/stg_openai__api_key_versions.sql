{#- Every version of each api key (dlt scd2 history) with the days it names. -#}
with

source as (

    {{ dated_versions(source('openai', 'project_api_keys')) }}

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
        {{ unix_to_timestamp('last_used_at') }} as last_used_at,

        ----------  validity (UTC days this version names)
        _valid_from_date as valid_from_date,
        _valid_to_date as valid_to_date,
        _is_latest_version as is_latest_version

    from source

)

select * from renamed
