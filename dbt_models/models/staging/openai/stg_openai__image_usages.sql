with

raw_images as (

    {{ source_or_empty(source('openai', 'images_usage'), [
            ('organization', dbt.type_string()),
            ('bucket_date', 'date'),
            ('start_time', dbt.type_bigint()),
            ('end_time', dbt.type_bigint()),
            ('project_id', dbt.type_string()),
            ('user_id', dbt.type_string()),
            ('api_key_id', dbt.type_string()),
            ('model', dbt.type_string()),
            ('size', dbt.type_string()),
            ('source', dbt.type_string()),
            ('num_model_requests', dbt.type_bigint()),
            ('images', dbt.type_bigint()),
            ('is_final', dbt.type_boolean())
    ]) }}

),

renamed as (

    select

        ----------  ids
        {{ surrogate_key([
            'organization',
            'start_time',
            'project_id',
            'user_id',
            'api_key_id',
            'model',
            'size',
            'source'
        ]) }} as usage_id,
        organization,

        ----------  dimensions
        project_id,
        user_id,
        api_key_id,
        model,
        size as image_size,
        source as image_source,

        ----------  numerics
        num_model_requests as requests,
        images,

        ----------  booleans
        is_final,

        ----------  dates and timestamps
        cast(bucket_date as date) as usage_date,
        {{ unix_to_timestamp('start_time') }} as bucket_started_at,
        {{ unix_to_timestamp('end_time') }} as bucket_ended_at

    from raw_images

)

select * from renamed
