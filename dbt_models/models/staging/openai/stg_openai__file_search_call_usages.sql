with

source as (

    {{ usage_bucket_source(source('openai', 'file_search_calls_usage'), [
        ('project_id', dbt.type_string()),
        ('user_id', dbt.type_string()),
        ('api_key_id', dbt.type_string()),
        ('vector_store_id', dbt.type_string()),
        ('num_requests', dbt.type_bigint())
    ]) }}

),

renamed as (

    select

        ----------  ids
        {{ usage_bucket_id(['project_id', 'user_id', 'api_key_id', 'vector_store_id']) }},

        ----------  dimensions
        project_id,
        user_id,
        api_key_id,
        vector_store_id,

        ----------  numerics
        num_requests as calls,

        ----------  booleans, dates and timestamps
        {{ usage_bucket_columns() }}

    from source

)

select * from renamed
