with

source as (

    {{ latest_versions(source('openai', 'users')) }}

),

renamed as (

    select

        ----------  ids
        organization,
        id as user_id,

        ----------  text
        name as user_name,
        email,
        role as organization_role,

        ----------  timestamps
        {{ unix_to_timestamp('added_at') }} as added_at

    from source

)

select * from renamed
