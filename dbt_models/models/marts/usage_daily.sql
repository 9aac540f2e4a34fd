{#- The long usage fact: one row per organization, UTC day, usage family and every group-by
    dimension loaded (project, user, API key, model, batch, service tier), with every family's
    metrics. Hourly and minute buckets of a day add up into one row. NULL dimensions are real
    data and get stable labels. -#}

with

usages as (

    select * from {{ ref('int_usages__unioned') }}

),

labelled as (

    select
        organization,
        usage_date,
        family,
        coalesce(project_id, '{{ var("no_project_label") }}') as project_id,
        coalesce(user_id, '{{ var("no_user_label") }}') as user_id,
        coalesce(api_key_id, '{{ var("no_api_key_label") }}') as api_key_id,
        coalesce(model, '{{ var("unknown_model_label") }}') as model,
        is_batch,
        coalesce(service_tier, '{{ var("no_service_tier_label") }}') as service_tier,
        requests,
        input_tokens,
        cached_input_tokens,
        output_tokens,
        images,
        characters,
        seconds,
        sessions,
        usage_bytes,
        calls,
        is_final

    from usages

),

aggregated as (

    select
        organization,
        usage_date,
        family,
        project_id,
        user_id,
        api_key_id,
        model,
        is_batch,
        service_tier,
        cast(sum(requests) as {{ dbt.type_bigint() }}) as requests,
        cast(sum(input_tokens) as {{ dbt.type_bigint() }}) as input_tokens,
        cast(sum(cached_input_tokens) as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(sum(output_tokens) as {{ dbt.type_bigint() }}) as output_tokens,
        cast(sum(images) as {{ dbt.type_bigint() }}) as images,
        cast(sum(characters) as {{ dbt.type_bigint() }}) as characters,
        cast(sum(seconds) as {{ dbt.type_bigint() }}) as seconds,
        cast(sum(sessions) as {{ dbt.type_bigint() }}) as sessions,
        cast(sum(usage_bytes) as {{ dbt.type_bigint() }}) as usage_bytes,
        cast(sum(calls) as {{ dbt.type_bigint() }}) as calls,
        -- final only when every bucket of the group is known to be final
        case
            when count(is_final) = count(*)
                then min(case when is_final then 1 else 0 end) = 1
        end as is_final

    from labelled
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9

)

select * from aggregated
