{#- Every usage family in one long shape, one row per organization, bucket and group.
    Metrics a family does not have are NULL; `family` names the endpoint. -#}

with

completions as (

    select * from {{ ref('stg_openai__completion_usages') }}

),

embeddings as (

    select * from {{ ref('stg_openai__embedding_usages') }}

),

moderations as (

    select * from {{ ref('stg_openai__moderation_usages') }}

),

images as (

    select * from {{ ref('stg_openai__image_usages') }}

),

audio_speeches as (

    select * from {{ ref('stg_openai__audio_speech_usages') }}

),

audio_transcriptions as (

    select * from {{ ref('stg_openai__audio_transcription_usages') }}

),

vector_stores as (

    select * from {{ ref('stg_openai__vector_store_usages') }}

),

code_interpreter_sessions as (

    select * from {{ ref('stg_openai__code_interpreter_session_usages') }}

),

file_search_calls as (

    select * from {{ ref('stg_openai__file_search_call_usages') }}

),

web_search_calls as (

    select * from {{ ref('stg_openai__web_search_call_usages') }}

),

unioned as (

    select
        organization,
        usage_date,
        'completions' as family,
        project_id,
        user_id,
        api_key_id,
        model,
        is_batch,
        service_tier,
        requests,
        input_tokens,
        cached_input_tokens,
        output_tokens,
        cast(null as {{ dbt.type_bigint() }}) as images,
        cast(null as {{ dbt.type_bigint() }}) as characters,
        cast(null as {{ dbt.type_bigint() }}) as seconds,
        cast(null as {{ dbt.type_bigint() }}) as sessions,
        cast(null as {{ dbt.type_bigint() }}) as usage_bytes,
        cast(null as {{ dbt.type_bigint() }}) as calls,
        is_final
    from completions

    union all

    select
        organization,
        usage_date,
        'embeddings' as family,
        project_id,
        user_id,
        api_key_id,
        model,
        cast(null as {{ dbt.type_boolean() }}) as is_batch,
        cast(null as {{ dbt.type_string() }}) as service_tier,
        requests,
        input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as output_tokens,
        cast(null as {{ dbt.type_bigint() }}) as images,
        cast(null as {{ dbt.type_bigint() }}) as characters,
        cast(null as {{ dbt.type_bigint() }}) as seconds,
        cast(null as {{ dbt.type_bigint() }}) as sessions,
        cast(null as {{ dbt.type_bigint() }}) as usage_bytes,
        cast(null as {{ dbt.type_bigint() }}) as calls,
        is_final
    from embeddings

    union all

    select
        organization,
        usage_date,
        'moderations' as family,
        project_id,
        user_id,
        api_key_id,
        model,
        cast(null as {{ dbt.type_boolean() }}) as is_batch,
        cast(null as {{ dbt.type_string() }}) as service_tier,
        requests,
        input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as output_tokens,
        cast(null as {{ dbt.type_bigint() }}) as images,
        cast(null as {{ dbt.type_bigint() }}) as characters,
        cast(null as {{ dbt.type_bigint() }}) as seconds,
        cast(null as {{ dbt.type_bigint() }}) as sessions,
        cast(null as {{ dbt.type_bigint() }}) as usage_bytes,
        cast(null as {{ dbt.type_bigint() }}) as calls,
        is_final
    from moderations

    union all

    select
        organization,
        usage_date,
        'images' as family,
        project_id,
        user_id,
        api_key_id,
        model,
        cast(null as {{ dbt.type_boolean() }}) as is_batch,
        cast(null as {{ dbt.type_string() }}) as service_tier,
        requests,
        cast(null as {{ dbt.type_bigint() }}) as input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as output_tokens,
        images,
        cast(null as {{ dbt.type_bigint() }}) as characters,
        cast(null as {{ dbt.type_bigint() }}) as seconds,
        cast(null as {{ dbt.type_bigint() }}) as sessions,
        cast(null as {{ dbt.type_bigint() }}) as usage_bytes,
        cast(null as {{ dbt.type_bigint() }}) as calls,
        is_final
    from images

    union all

    select
        organization,
        usage_date,
        'audio_speeches' as family,
        project_id,
        user_id,
        api_key_id,
        model,
        cast(null as {{ dbt.type_boolean() }}) as is_batch,
        cast(null as {{ dbt.type_string() }}) as service_tier,
        requests,
        cast(null as {{ dbt.type_bigint() }}) as input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as output_tokens,
        cast(null as {{ dbt.type_bigint() }}) as images,
        characters,
        cast(null as {{ dbt.type_bigint() }}) as seconds,
        cast(null as {{ dbt.type_bigint() }}) as sessions,
        cast(null as {{ dbt.type_bigint() }}) as usage_bytes,
        cast(null as {{ dbt.type_bigint() }}) as calls,
        is_final
    from audio_speeches

    union all

    select
        organization,
        usage_date,
        'audio_transcriptions' as family,
        project_id,
        user_id,
        api_key_id,
        model,
        cast(null as {{ dbt.type_boolean() }}) as is_batch,
        cast(null as {{ dbt.type_string() }}) as service_tier,
        requests,
        cast(null as {{ dbt.type_bigint() }}) as input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as output_tokens,
        cast(null as {{ dbt.type_bigint() }}) as images,
        cast(null as {{ dbt.type_bigint() }}) as characters,
        seconds,
        cast(null as {{ dbt.type_bigint() }}) as sessions,
        cast(null as {{ dbt.type_bigint() }}) as usage_bytes,
        cast(null as {{ dbt.type_bigint() }}) as calls,
        is_final
    from audio_transcriptions

    union all

    select
        organization,
        usage_date,
        'vector_stores' as family,
        project_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as {{ dbt.type_string() }}) as api_key_id,
        cast(null as {{ dbt.type_string() }}) as model,
        cast(null as {{ dbt.type_boolean() }}) as is_batch,
        cast(null as {{ dbt.type_string() }}) as service_tier,
        cast(null as {{ dbt.type_bigint() }}) as requests,
        cast(null as {{ dbt.type_bigint() }}) as input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as output_tokens,
        cast(null as {{ dbt.type_bigint() }}) as images,
        cast(null as {{ dbt.type_bigint() }}) as characters,
        cast(null as {{ dbt.type_bigint() }}) as seconds,
        cast(null as {{ dbt.type_bigint() }}) as sessions,
        usage_bytes,
        cast(null as {{ dbt.type_bigint() }}) as calls,
        is_final
    from vector_stores

    union all

    select
        organization,
        usage_date,
        'code_interpreter_sessions' as family,
        project_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as {{ dbt.type_string() }}) as api_key_id,
        cast(null as {{ dbt.type_string() }}) as model,
        cast(null as {{ dbt.type_boolean() }}) as is_batch,
        cast(null as {{ dbt.type_string() }}) as service_tier,
        cast(null as {{ dbt.type_bigint() }}) as requests,
        cast(null as {{ dbt.type_bigint() }}) as input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as output_tokens,
        cast(null as {{ dbt.type_bigint() }}) as images,
        cast(null as {{ dbt.type_bigint() }}) as characters,
        cast(null as {{ dbt.type_bigint() }}) as seconds,
        sessions,
        cast(null as {{ dbt.type_bigint() }}) as usage_bytes,
        cast(null as {{ dbt.type_bigint() }}) as calls,
        is_final
    from code_interpreter_sessions

    union all

    select
        organization,
        usage_date,
        'file_search_calls' as family,
        project_id,
        user_id,
        api_key_id,
        cast(null as {{ dbt.type_string() }}) as model,
        cast(null as {{ dbt.type_boolean() }}) as is_batch,
        cast(null as {{ dbt.type_string() }}) as service_tier,
        cast(null as {{ dbt.type_bigint() }}) as requests,
        cast(null as {{ dbt.type_bigint() }}) as input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as output_tokens,
        cast(null as {{ dbt.type_bigint() }}) as images,
        cast(null as {{ dbt.type_bigint() }}) as characters,
        cast(null as {{ dbt.type_bigint() }}) as seconds,
        cast(null as {{ dbt.type_bigint() }}) as sessions,
        cast(null as {{ dbt.type_bigint() }}) as usage_bytes,
        calls,
        is_final
    from file_search_calls

    union all

    select
        organization,
        usage_date,
        'web_search_calls' as family,
        project_id,
        user_id,
        api_key_id,
        model,
        cast(null as {{ dbt.type_boolean() }}) as is_batch,
        cast(null as {{ dbt.type_string() }}) as service_tier,
        requests,
        cast(null as {{ dbt.type_bigint() }}) as input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(null as {{ dbt.type_bigint() }}) as output_tokens,
        cast(null as {{ dbt.type_bigint() }}) as images,
        cast(null as {{ dbt.type_bigint() }}) as characters,
        cast(null as {{ dbt.type_bigint() }}) as seconds,
        cast(null as {{ dbt.type_bigint() }}) as sessions,
        cast(null as {{ dbt.type_bigint() }}) as usage_bytes,
        calls,
        is_final
    from web_search_calls

)

select * from unioned
