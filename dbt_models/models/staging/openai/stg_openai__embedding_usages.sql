with

source as (

    {{ source_or_empty(source('openai', 'embeddings_usage'), [
            ('organization', dbt.type_string()),
            ('bucket_date', 'date'),
            ('start_time', dbt.type_bigint()),
            ('end_time', dbt.type_bigint()),
            ('project_id', dbt.type_string()),
            ('user_id', dbt.type_string()),
            ('api_key_id', dbt.type_string()),
            ('model', dbt.type_string()),
            ('num_model_requests', dbt.type_bigint()),
            ('input_tokens', dbt.type_bigint()),
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
            'model'
        ]) }} as usage_id,
        organization,

        ----------  dimensions
        project_id,
        user_id,
        api_key_id,
        model,

        ----------  numerics
        num_model_requests as requests,
        input_tokens,

        ----------  booleans
        is_final,

        ----------  dates and timestamps
        cast(bucket_date as date) as usage_date,
        {{ unix_to_timestamp('start_time') }} as bucket_started_at,
        {{ unix_to_timestamp('end_time') }} as bucket_ended_at

    from source

)

select * from renamed
