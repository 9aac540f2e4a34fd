{#- The optional legacy `/v1/usage?date=` table (OPENAI_LEGACY_USAGE=1): empty when not loaded. -#}
with

source as (

    {{ source_or_empty(source('openai', 'legacy_usage'), [
        ('organization', 'varchar'), ('bucket_date', 'date'), ('section', 'varchar'),
        ('timestamp', 'bigint'), ('organization_id', 'varchar'), ('project_id', 'varchar'),
        ('project_name', 'varchar'), ('api_key_id', 'varchar'), ('api_key_name', 'varchar'),
        ('api_key_type', 'varchar'), ('user_id', 'varchar'), ('email', 'varchar'),
        ('operation', 'varchar'), ('model', 'varchar'), ('image_size', 'varchar'),
        ('n_requests', 'bigint'), ('n_context_tokens_total', 'bigint'),
        ('n_generated_tokens_total', 'bigint'), ('n_cached_context_tokens_total', 'bigint'),
        ('num_images', 'bigint'), ('num_seconds', 'bigint'), ('num_characters', 'bigint'),
        ('is_final', 'boolean')
    ]) }}

),

renamed as (

    select

        ----------  ids
        organization,
        organization_id as openai_organization_id,
        project_id,
        api_key_id,
        user_id,

        ----------  text
        section,
        project_name,
        api_key_name,
        api_key_type,
        email,
        operation,
        model,
        image_size,

        ----------  numerics
        n_requests as requests,
        n_context_tokens_total as input_tokens,
        n_cached_context_tokens_total as cached_input_tokens,
        n_generated_tokens_total as output_tokens,
        num_images as images,
        num_seconds as seconds,
        num_characters as characters,

        ----------  booleans
        is_final,

        ----------  dates and timestamps
        cast(bucket_date as date) as usage_date,
        {{ unix_to_timestamp('"timestamp"') }} as aggregated_at

    from source

)

select * from renamed
