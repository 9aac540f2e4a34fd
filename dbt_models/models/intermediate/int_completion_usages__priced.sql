{#- Estimated cost of each usage row from the model's token prices for that day:
      (uncached input x input price + cached input x cached price + output x output price) / 1e6
      x service-tier factor x (batch_price_factor for Batch API rows).
    Prices: a reviewed override (seed `model_price_overrides`) when one covers the model and day,
    else genai-prices. Cached tokens are part of input_tokens, so they are taken out of the input
    price, never added. A model without a cache price pays the input price for cached tokens.
    Without a price, or with a service tier missing from `service_tier_price_factors`, the
    estimate is NULL (never 0) and `unpriced_reason` says why. -#}

with

usages as (

    select * from {{ ref('stg_openai__completion_usages') }}

),

library_prices as (

    select * from {{ ref('stg_openai__model_prices') }}

),

overrides as (

    select * from {{ ref('model_price_overrides') }}

),

tier_factors as (

    select * from {{ ref('service_tier_price_factors') }}

),

usages_with_prices as (

    select
        usages.*,
        -- a whole override row wins over the library for the days it covers
        case
            when overrides.model is not null then overrides.input_usd_per_million_tokens
            else library_prices.input_usd_per_million_tokens
        end as input_usd_per_million_tokens,
        case
            when overrides.model is not null
                then coalesce(
                    overrides.cached_input_usd_per_million_tokens,
                    overrides.input_usd_per_million_tokens
                )
            else coalesce(
                library_prices.cached_input_usd_per_million_tokens,
                library_prices.input_usd_per_million_tokens
            )
        end as cached_input_usd_per_million_tokens,
        case
            when overrides.model is not null then overrides.output_usd_per_million_tokens
            else library_prices.output_usd_per_million_tokens
        end as output_usd_per_million_tokens,
        case
            when overrides.model is not null then 'override: ' || overrides.source_url
            else library_prices.price_source
        end as price_source,
        -- a NULL tier means the rows were not grouped by tier: standard prices
        case
            when usages.service_tier is null then 1.0
            else tier_factors.price_factor
        end as service_tier_factor,
        -- a NULL batch flag means the rows were not grouped by batch: standard prices
        case
            when usages.is_batch then {{ var('batch_price_factor') }}
            else 1.0
        end as batch_factor

    from usages
    left join overrides
        on
            usages.model = overrides.model
            and usages.usage_date >= overrides.valid_from
            and (overrides.valid_to is null or usages.usage_date <= overrides.valid_to)
    left join library_prices
        on
            usages.model = library_prices.model
            and usages.usage_date = library_prices.price_date
    left join tier_factors
        on usages.service_tier = tier_factors.service_tier

),

priced_by_direction as (

    select
        *,
        service_tier_factor * batch_factor as price_factor,
        -- one term per billed direction, as the cost line items split them
        (input_tokens - coalesce(cached_input_tokens, 0)) * input_usd_per_million_tokens
        / 1000000.0 * service_tier_factor * batch_factor as estimated_input_cost_usd,
        coalesce(cached_input_tokens, 0) * cached_input_usd_per_million_tokens
        / 1000000.0 * service_tier_factor * batch_factor as estimated_cached_input_cost_usd,
        output_tokens * output_usd_per_million_tokens
        / 1000000.0 * service_tier_factor * batch_factor as estimated_output_cost_usd

    from usages_with_prices

),

priced as (

    select
        *,
        estimated_input_cost_usd
        + estimated_cached_input_cost_usd
        + estimated_output_cost_usd as estimated_cost_usd,
        -- the model as cost line items name it: fine-tuned `ft:<base>:<org>::<id>` is billed
        -- as `ft-<base>`
        case
            when model like 'ft:%'
                then 'ft-' || {{ regexp_capture('model', '^ft:([^:]+)') }}
            else model
        end as billing_model

    from priced_by_direction

),

final as (

    select
        *,
        estimated_cost_usd is not null as is_priced,
        case
            when model is null then 'no model'
            when input_usd_per_million_tokens is null then 'no price for the model that day'
            when service_tier_factor is null then 'unknown service tier'
        end as unpriced_reason

    from priced

)

select * from final
