{#- Line items are free text shaped like "[<surface> | ]<model or product>[, <direction>]":
      "gpt-4o-2024-08-06, cached input"        -> model gpt-4o-2024-08-06, direction cached input
      "evals | gpt-4o-mini-2024-07-18, input"  -> surface evals, model gpt-4o-mini-2024-07-18
      "assistants api | file search"           -> a product: model is the whole line item
    The format is undocumented, so the raw string is kept beside the parsed parts. -#}

with

costs as (

    select * from {{ ref('stg_openai__costs') }}

),

split_parts as (

    select
        *,
        -- text after the last ", " (a direction never contains a comma)
        trim({{ regexp_capture('line_item', ', ([^,]+)$') }}) as direction,
        -- text before the first " | "
        trim({{ regexp_capture('line_item', '^([^|]+) [|] ') }}) as surface,
        coalesce(
            {{ regexp_capture('line_item', '^[^|]+ [|] (.+)$') }}, line_item
        ) as product_with_direction

    from costs

),

parsed as (

    select
        cost_id,
        organization,
        organization_id,
        usage_date,
        project_id,
        line_item,
        surface,
        direction,
        case
            when direction is null then line_item
            else trim({{ regexp_capture('product_with_direction', '^(.+), [^,]+$') }})
        end as model,
        direction is not null as is_model_line_item,
        amount,
        currency,
        quantity,
        quantity_unit,
        bucket_started_at,
        bucket_ended_at

    from split_parts

)

select * from parsed
