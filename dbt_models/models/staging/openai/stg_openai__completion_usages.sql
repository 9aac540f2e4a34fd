with

source as (

    select * from {{ source('openai', 'completions_usage') }}

),

renamed as (

    select

        ----------  ids
        {{ surrogate_key([
            'organization', 'start_time', 'project_id', 'user_id', 'api_key_id', 'model', 'batch',
            'service_tier'
        ]) }} as completion_usage_id,
        organization,
        project_id,
        user_id,
        api_key_id,

        ----------  dimensions
        model,
        batch as is_batch,
        service_tier,

        ----------  booleans
        is_final,

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

        ----------  dates and timestamps
        cast(bucket_date as date) as usage_date,
        {{ unix_to_timestamp('start_time') }} as bucket_started_at,
        {{ unix_to_timestamp('end_time') }} as bucket_ended_at

    from source

)

select * from renamed
