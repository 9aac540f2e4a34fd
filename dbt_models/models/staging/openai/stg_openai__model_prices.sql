with

source as (

    select * from {{ source('openai', 'model_prices') }}

),

renamed as (

    select

        ----------  ids
        {{ surrogate_key(['model', 'price_date']) }} as model_price_id,
        model,

        ----------  numerics
        input_usd_per_mtok as input_usd_per_million_tokens,
        cached_input_usd_per_mtok as cached_input_usd_per_million_tokens,
        output_usd_per_mtok as output_usd_per_million_tokens,

        ----------  text
        price_source,

        ----------  dates
        cast(price_date as date) as price_date

    from source

)

select * from renamed
