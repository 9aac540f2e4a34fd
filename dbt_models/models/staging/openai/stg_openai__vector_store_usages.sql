with

source as (

    {{ source_or_empty(source('openai', 'vector_stores_usage'), [
            ('organization', dbt.type_string()),
            ('bucket_date', 'date'),
            ('start_time', dbt.type_bigint()),
            ('end_time', dbt.type_bigint()),
            ('project_id', dbt.type_string()),
            ('usage_bytes', dbt.type_bigint()),
            ('is_final', dbt.type_boolean())
    ]) }}

),

renamed as (

    select

        ----------  ids
        {{ surrogate_key(['organization', 'start_time', 'project_id']) }} as usage_id,
        organization,

        ----------  dimensions
        project_id,

        ----------  numerics
        usage_bytes,

        ----------  booleans
        is_final,

        ----------  dates and timestamps
        cast(bucket_date as date) as usage_date,
        {{ unix_to_timestamp('start_time') }} as bucket_started_at,
        {{ unix_to_timestamp('end_time') }} as bucket_ended_at

    from source

)

select * from renamed
