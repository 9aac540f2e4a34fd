{#- Every version of each project (dlt scd2 history) with the days it names. -#}
with

source as (

    {{ dated_versions(source('openai', 'projects')) }}

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
        {{ unix_to_timestamp('archived_at') }} as archived_at,

        ----------  validity (UTC days this version names)
        _valid_from_date as valid_from_date,
        _valid_to_date as valid_to_date,
        _is_latest_version as is_latest_version

    from source

)

select * from renamed
