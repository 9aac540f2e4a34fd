{#- One row per model id seen in usage or in cost line items (all organizations: model ids and
    prices are global). The family is the id without its snapshot date (`gpt-4o-2024-08-06` ->
    `gpt-4o`; fine-tuned ids by their base model); the modality is inferred from the name. The
    latest known list price is shown for reference. -#}

with

usages as (

    select * from {{ ref('int_completion_usages__priced') }}

),

line_items as (

    select * from {{ ref('int_costs__line_items_parsed') }}

),

model_days as (

    select
        model,
        usage_date,
        input_usd_per_million_tokens,
        cached_input_usd_per_million_tokens,
        output_usd_per_million_tokens,
        price_source

    from usages
    where model is not null

    union all

    select
        model,
        usage_date,
        null as input_usd_per_million_tokens,
        null as cached_input_usd_per_million_tokens,
        null as output_usd_per_million_tokens,
        null as price_source

    from line_items
    where model is not null

),

spans as (

    select
        model,
        min(usage_date) as first_seen_date,
        max(usage_date) as last_seen_date,
        max(case when input_usd_per_million_tokens is not null then usage_date end)
            as last_priced_date

    from model_days
    group by 1

),

latest_prices as (

    select
        model_days.model,
        max(model_days.input_usd_per_million_tokens) as input_usd_per_million_tokens,
        max(model_days.cached_input_usd_per_million_tokens)
            as cached_input_usd_per_million_tokens,
        max(model_days.output_usd_per_million_tokens) as output_usd_per_million_tokens,
        max(model_days.price_source) as price_source

    from model_days
    inner join spans
        on
            model_days.model = spans.model
            and model_days.usage_date = spans.last_priced_date
    where model_days.input_usd_per_million_tokens is not null
    group by 1

),

named as (

    select
        spans.model,
        coalesce(
            {{ regexp_capture('spans.model', '^ft[:-]([^:]+)') }}, spans.model
        ) as base_model,
        spans.model like 'ft:%' or spans.model like 'ft-%' as is_fine_tuned,
        spans.first_seen_date,
        spans.last_seen_date

    from spans

),

final as (

    select
        named.model,
        coalesce(
            {{ regexp_capture('named.base_model', '^(.+)-[0-9]{4}-[0-9]{2}-[0-9]{2}$') }},
            named.base_model
        ) as model_family,
        cast(
            {{ regexp_capture('named.base_model', '-([0-9]{4}-[0-9]{2}-[0-9]{2})$') }} as date
        ) as snapshot_date,
        named.is_fine_tuned,
        case
            when named.base_model like '%embedding%' then 'embeddings'
            when named.base_model like '%moderation%' then 'moderation'
            when
                named.base_model like '%tts%'
                or named.base_model like '%transcribe%'
                or named.base_model like '%whisper%'
                or named.base_model like '%audio%'
                or named.base_model like '%realtime%'
                then 'audio'
            when named.base_model like '%image%' or named.base_model like 'dall-e%' then 'image'
            when named.base_model like '% | %' or named.base_model like '%search%' then 'tool'
            else 'text'
        end as modality,
        named.first_seen_date,
        named.last_seen_date,
        latest_prices.input_usd_per_million_tokens,
        latest_prices.cached_input_usd_per_million_tokens,
        latest_prices.output_usd_per_million_tokens,
        latest_prices.price_source,
        latest_prices.model is not null as has_price

    from named
    left join latest_prices
        on named.model = latest_prices.model

)

select * from final
