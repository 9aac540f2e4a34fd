with

source as (

    {{ usage_bucket_source(source('openai', 'moderations_usage'), [
        ('project_id', dbt.type_string()),
        ('user_id', dbt.type_string()),
        ('api_key_id', dbt.type_string()),
        ('model', dbt.type_string()),
        ('num_model_requests', dbt.type_bigint()),
        ('input_tokens', dbt.type_bigint())
    ]) }}

),

renamed as (

    select

        ----------  ids
        {{ usage_bucket_id(['project_id', 'user_id', 'api_key_id', 'model']) }},

        ----------  dimensions
        project_id,
        user_id,
        api_key_id,
        model,

        ----------  numerics
        num_model_requests as requests,
        input_tokens,

        ----------  booleans, dates and timestamps
        {{ usage_bucket_columns() }}

    from source

)

select * from renamed
