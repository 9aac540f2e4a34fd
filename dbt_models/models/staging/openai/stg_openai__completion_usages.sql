with

source as (

    select * from {{ source('openai', 'completions_usage') }}

),

renamed as (

    select

        ----------  ids
        {{ usage_bucket_id(
            ['project_id', 'user_id', 'api_key_id', 'model', 'batch', 'service_tier'],
            id_name='completion_usage_id'
        ) }},
        project_id,
        user_id,
        api_key_id,

        ----------  dimensions
        model,
        batch as is_batch,
        service_tier,

        ----------  numerics
        num_model_requests as requests,
        input_tokens,
        input_cached_tokens as cached_input_tokens,
        input_cache_write_tokens as cache_write_input_tokens,
        input_uncached_tokens as uncached_input_tokens,
        output_tokens,
        input_text_tokens,
        input_cached_text_tokens as cached_input_text_tokens,
        output_text_tokens,
        input_audio_tokens,
        input_cached_audio_tokens as cached_input_audio_tokens,
        output_audio_tokens,
        input_image_tokens,
        input_cached_image_tokens as cached_input_image_tokens,
        output_image_tokens,

        ----------  booleans, dates and timestamps
        {{ usage_bucket_columns() }}

    from source

)

select * from renamed
