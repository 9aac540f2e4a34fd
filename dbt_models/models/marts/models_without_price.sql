{#- Models seen in completions usage that could not be priced on at least one day (no price for
    the model that day, an unknown service tier, or no model at all), so part of their
    estimated cost is missing. Totals cover only the unpriced rows. -#}

with

usages as (

    select * from {{ ref('int_completion_usages__priced') }}

),

unpriced_usages as (

    select
        organization,
        usage_date,
        coalesce(model, '{{ var("unknown_model_label") }}') as model,
        unpriced_reason,
        requests,
        input_tokens,
        output_tokens

    from usages
    where not is_priced

),

summarised as (

    select
        model,
        min(usage_date) as first_date,
        max(usage_date) as last_date,
        count(distinct usage_date) as unpriced_days,
        cast(sum(requests) as {{ dbt.type_bigint() }}) as requests,
        cast(sum(input_tokens) as {{ dbt.type_bigint() }}) as input_tokens,
        cast(sum(output_tokens) as {{ dbt.type_bigint() }}) as output_tokens,
        max(unpriced_reason) as unpriced_reason,
        organization

    from unpriced_usages
    group by 1, 9

)

select * from summarised
