{#- Every version of each user (dlt scd2 history) with the days it names. -#}
with

source as (

    {{ dated_versions(source('openai', 'users')) }}

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
        {{ unix_to_timestamp('added_at') }} as added_at,

        ----------  validity (UTC days this version names)
        _valid_from_date as valid_from_date,
        _valid_to_date as valid_to_date,
        _is_latest_version as is_latest_version

    from source

)

select * from renamed
