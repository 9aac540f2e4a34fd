with

raw_images as (

    {{ usage_bucket_source(source('openai', 'images_usage'), [
        ('project_id', dbt.type_string()),
        ('user_id', dbt.type_string()),
        ('api_key_id', dbt.type_string()),
        ('model', dbt.type_string()),
        ('size', dbt.type_string()),
        ('source', dbt.type_string()),
        ('num_model_requests', dbt.type_bigint()),
        ('images', dbt.type_bigint())
    ]) }}

),

renamed as (

    select

        ----------  ids
        {{ usage_bucket_id(['project_id', 'user_id', 'api_key_id', 'model', 'size', 'source']) }},

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

        ----------  booleans, dates and timestamps
        {{ usage_bucket_columns() }}

    from raw_images

)

select * from renamed
