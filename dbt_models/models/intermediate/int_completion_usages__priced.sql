{#- Estimated cost of each usage row from the model's token prices for that day:
      (uncached input x input price + cached input x cached price + output x output price) / 1e6,
    times var('batch_price_factor') for Batch API rows. Cached tokens are part of input_tokens,
    so they are taken out of the input price, never added. A model without a cache price pays
    the input price for cached tokens. Without a price row the estimate is NULL, never 0. -#}

with

usages as (

    select * from {{ ref('stg_openai__completion_usages') }}

),

prices as (

    select * from {{ ref('stg_openai__model_prices') }}

),

usages_with_prices as (

    select
        usages.*,
        prices.input_usd_per_million_tokens,
        coalesce(
            prices.cached_input_usd_per_million_tokens,
            prices.input_usd_per_million_tokens
        ) as cached_input_usd_per_million_tokens,
        prices.output_usd_per_million_tokens,
        prices.price_source,
        -- a NULL batch flag means the rows were not grouped by batch: standard prices
        case
            when usages.is_batch then {{ var('batch_price_factor') }}
            else 1
        end as price_factor

    from usages
    left join prices
        on
            usages.model = prices.model
            and usages.usage_date = prices.price_date

),

priced as (

    select
        *,
        (
            (input_tokens - coalesce(cached_input_tokens, 0)) * input_usd_per_million_tokens
            + coalesce(cached_input_tokens, 0) * cached_input_usd_per_million_tokens
            + output_tokens * output_usd_per_million_tokens
        ) / 1000000.0 * price_factor as estimated_cost_usd

    from usages_with_prices

),

final as (

    select
        *,
        estimated_cost_usd is not null as is_priced

    from priced

)

select * from final
