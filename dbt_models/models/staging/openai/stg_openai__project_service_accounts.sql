with

source as (

    {{ latest_versions(
        source('openai', 'project_service_accounts'), ['organization', 'project_id', 'id']
    ) }}

),

renamed as (

    select

        ----------  ids
        organization,
        project_id,
        id as service_account_id,

        ----------  text
        name as service_account_name,
        role as project_role,

        ----------  booleans
        _dlt_valid_to is not null as is_deleted,

        ----------  timestamps
        {{ unix_to_timestamp('created_at') }} as created_at

    from source

)

select * from renamed
