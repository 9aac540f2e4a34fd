with

source as (

    {{ latest_versions(source('openai', 'projects')) }}

),

renamed as (

    select

        ----------  ids
        organization,
        id as project_id,

        ----------  text
        name as project_name,
        status as project_status,

        ----------  booleans
        archived_at is not null as is_archived,

        ----------  timestamps
        {{ unix_to_timestamp('created_at') }} as created_at,
        {{ unix_to_timestamp('archived_at') }} as archived_at

    from source

)

select * from renamed
