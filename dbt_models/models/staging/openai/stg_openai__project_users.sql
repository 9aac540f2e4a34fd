with

source as (

    {{ latest_versions(source('openai', 'project_users'), ['organization', 'project_id', 'id']) }}

),

renamed as (

    select

        ----------  ids
        organization,
        project_id,
        id as user_id,

        ----------  text
        name as user_name,
        email,
        role as project_role,

        ----------  booleans
        _dlt_valid_to is not null as is_removed,

        ----------  timestamps
        {{ unix_to_timestamp('added_at') }} as added_at

    from source

)

select * from renamed
