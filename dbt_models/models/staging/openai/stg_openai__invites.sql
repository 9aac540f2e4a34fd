with

source as (

    {{ latest_versions(source('openai', 'invites')) }}

),

renamed as (

    select

        ----------  ids
        organization,
        id as invite_id,

        ----------  text
        email,
        role as organization_role,
        status as invite_status,
        projects_json,

        ----------  booleans
        _dlt_valid_to is not null as is_deleted,

        ----------  timestamps
        {{ unix_to_timestamp('created_at') }} as invited_at,
        {{ unix_to_timestamp('expires_at') }} as expires_at,
        {{ unix_to_timestamp('accepted_at') }} as accepted_at

    from source

)

select * from renamed
