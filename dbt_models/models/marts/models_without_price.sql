{#- Models seen in completions usage that have no price for at least one day, so part of
    their estimated cost is missing. Totals cover only the unpriced rows. -#}

with

usages as (

    select * from {{ ref('int_completion_usages__priced') }}

),

unpriced_usages as (

    select
        usage_date,
        coalesce(model, '{{ var("unknown_model_label") }}') as model,
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
        cast(sum(output_tokens) as {{ dbt.type_bigint() }}) as output_tokens

    from unpriced_usages
    group by 1

)

select * from summarised
