{#- The Costs API as a FinOps FOCUS cost and usage dataset (docs/focus.md maps every column).
    One row per charge: organization x UTC day x project x line item, split by API key where
    the line item's (project, model) group is allocated to keys (`int_costs__allocated`). A
    split row carries the line item's money and pricing quantity times the key's share, so the
    rows of a line item add up to it exactly; its consumed tokens are the key's own measured
    usage. FOCUS names are PascalCase and quoted, so every adapter keeps their case; columns
    specific to OpenAI start with `x_`. -#}

{%- set no_project = "'" ~ var('no_project_label') ~ "'" %}
{%- set unknown_model = "'" ~ var('unknown_model_label') ~ "'" %}
{%- set provider = "'OpenAI'" %}

with

line_items as (

    select * from {{ ref('int_costs__line_items_parsed') }}

),

allocations as (

    select * from {{ ref('int_costs__allocated') }}

),

usages as (

    select * from {{ ref('int_completion_usages__priced') }}

),

api_keys as (

    select * from {{ ref('stg_openai__api_key_versions') }}

),

projects as (

    select * from {{ ref('stg_openai__project_versions') }}

),

key_shares as (

    -- one share per API key: the users of a key added up
    select
        organization,
        usage_date,
        project_id,
        model,
        api_key_id,
        allocation_basis,
        is_allocated,
        sum(allocated_share) as allocated_share

    from allocations
    group by 1, 2, 3, 4, 5, 6, 7

),

usage_groups as (

    -- each (project, model) group's list-price estimate per billed direction; NULL when any of
    -- its usage could not be priced (the estimate would be short)
    select
        {{ billing_group('billing_model') }},
        case
            when count(*) = count(estimated_cost_usd) then sum(estimated_input_cost_usd)
        end as input_list_cost_usd,
        case
            when count(*) = count(estimated_cost_usd) then sum(estimated_cached_input_cost_usd)
        end as cached_input_list_cost_usd,
        case
            when count(*) = count(estimated_cost_usd) then sum(estimated_output_cost_usd)
        end as output_list_cost_usd

    from usages
    group by 1, 2, 3, 4

),

usage_by_key as (

    -- tokens each API key used in each (project, model) group, split as line items bill them
    select
        {{ billing_group('billing_model') }},
        api_key_id,
        cast(
            sum(input_tokens - coalesce(cached_input_tokens, 0)) as {{ dbt.type_bigint() }}
        ) as uncached_input_tokens,
        cast(
            sum(coalesce(cached_input_tokens, 0)) as {{ dbt.type_bigint() }}
        ) as cached_input_tokens,
        cast(sum(output_tokens) as {{ dbt.type_bigint() }}) as output_tokens

    from usages
    group by 1, 2, 3, 4, 5

),

charges as (

    select
        line_items.organization,
        line_items.organization_id,
        line_items.usage_date,
        line_items.project_id,
        line_items.line_item,
        line_items.surface,
        line_items.model,
        line_items.direction,
        line_items.amount,
        line_items.currency,
        line_items.quantity,
        line_items.quantity_unit,
        line_items.bucket_started_at,
        line_items.bucket_ended_at,
        key_shares.api_key_id,
        key_shares.allocation_basis,
        key_shares.is_allocated,
        key_shares.allocated_share,
        -- the completions estimate and tokens describe a model's own token line items only,
        -- not those of another surface (`evals | <model>, input`) or a product
        line_items.surface is null
        and line_items.direction in ('input', 'cached input', 'output') as is_token_line_item,
        case
            when lower(line_items.line_item) like '%credit%' then 'Credit'
            when lower(line_items.line_item) like '%tax%' then 'Tax'
            else 'Usage'
        end as charge_category

    from line_items
    -- every line item is in exactly one allocation group, allocated or kept whole
    inner join key_shares
        on
            line_items.organization = key_shares.organization
            and line_items.usage_date = key_shares.usage_date
            and coalesce(line_items.project_id, {{ no_project }}) = key_shares.project_id
            and coalesce(line_items.model, {{ unknown_model }}) = key_shares.model

),

measured as (

    select
        charges.*,
        case
            when charges.is_token_line_item
                then
                    case charges.direction
                        when 'input' then usage_groups.input_list_cost_usd
                        when 'cached input' then usage_groups.cached_input_list_cost_usd
                        else usage_groups.output_list_cost_usd
                    end
        end as line_item_list_cost_usd,
        case
            when charges.is_token_line_item and charges.direction = 'input'
                then usage_by_key.uncached_input_tokens
        end as input_tokens,
        case
            when charges.is_token_line_item and charges.direction = 'cached input'
                then usage_by_key.cached_input_tokens
        end as cached_input_tokens,
        case
            when charges.is_token_line_item and charges.direction = 'output'
                then usage_by_key.output_tokens
        end as output_tokens

    from charges
    left join usage_groups
        on
            charges.organization = usage_groups.organization
            and charges.usage_date = usage_groups.usage_date
            and coalesce(charges.project_id, {{ no_project }}) = usage_groups.project_id
            and coalesce(charges.model, {{ unknown_model }}) = usage_groups.model
    left join usage_by_key
        on
            charges.organization = usage_by_key.organization
            and charges.usage_date = usage_by_key.usage_date
            and coalesce(charges.project_id, {{ no_project }}) = usage_by_key.project_id
            and coalesce(charges.model, {{ unknown_model }}) = usage_by_key.model
            and charges.api_key_id is not distinct from usage_by_key.api_key_id

),

named as (

    select
        measured.*,
        cast(measured.amount * measured.allocated_share as {{ type_double() }}) as billed_cost,
        -- unit prices of the whole line item, the same on each of its split rows; a line item
        -- merges service tiers and Batch traffic, so they are its average rates per unit
        case
            when measured.charge_category = 'Usage' and measured.quantity > 0
                then cast(measured.amount / measured.quantity as {{ type_double() }})
        end as contracted_unit_price,
        case
            when
                measured.charge_category = 'Usage'
                and measured.quantity > 0
                and measured.line_item_list_cost_usd > 0
                then cast(
                    measured.line_item_list_cost_usd / measured.quantity as {{ type_double() }}
                )
        end as list_unit_price,
        cast(
            measured.quantity * measured.allocated_share as {{ type_double() }}
        ) as pricing_quantity,
        coalesce(
            measured.input_tokens, measured.cached_input_tokens, measured.output_tokens
        ) as consumed_tokens,
        case
            when measured.quantity_unit = 'tokens' then 'Tokens'
            when measured.quantity_unit = '1000_tokens' then '1000 Tokens'
            when measured.quantity_unit = 'gibibyte_hours' then 'GiB-Hours'
            when measured.quantity_unit = 'duration_seconds' then 'Seconds'
            when measured.quantity_unit = 'duration_minutes' then 'Minutes'
            when measured.quantity_unit = 'duration_hours' then 'Hours'
            when measured.quantity_unit = 'images' then 'Images'
            when measured.quantity_unit = 'characters' then 'Characters'
            -- a quantity the API gives without a unit counts the line item's own things
            -- (web search tool calls)
            when measured.quantity_unit is null and measured.quantity is not null then 'Units'
            else measured.quantity_unit
        end as pricing_unit,
        -- a line item's SKU is its product (`[<surface> | ]<model or product>`); the line item
        -- itself, product and direction, is the SKU price
        case
            when measured.direction is null then measured.line_item
            else coalesce(measured.surface || ' | ', '') || measured.model
        end as sku_id,
        projects.project_name,
        api_keys.api_key_name,
        api_keys.owner_type,
        api_keys.owner_name,
        api_keys.owner_email

    from measured
    left join projects
        on
            measured.organization = projects.organization
            and measured.project_id = projects.project_id
            and measured.usage_date >= projects.valid_from_date
            and measured.usage_date < projects.valid_to_date
    left join api_keys
        on
            measured.organization = api_keys.organization
            and measured.api_key_id = api_keys.api_key_id
            and measured.usage_date >= api_keys.valid_from_date
            and measured.usage_date < api_keys.valid_to_date

),

-- FOCUS column names are case-sensitive: quoted, so no adapter folds their case
-- noqa: disable=RF06
final as (

    select
        ----------  FOCUS 1.0
        cast(null as {{ dbt.type_string() }}) as "AvailabilityZone",
        billed_cost as "BilledCost",
        coalesce(organization_id, organization) as "BillingAccountId",
        organization as "BillingAccountName",
        upper(currency) as "BillingCurrency",
        {{ utc_timestamp(dbt.dateadd('month', 1, dbt.date_trunc('month', 'usage_date'))) }}
            as "BillingPeriodEnd",
        {{ utc_timestamp(dbt.date_trunc('month', 'usage_date')) }} as "BillingPeriodStart",
        charge_category as "ChargeCategory",
        -- the Costs API restates a day in place instead of sending correction lines
        cast(null as {{ dbt.type_string() }}) as "ChargeClass",
        line_item as "ChargeDescription",
        case charge_category when 'Usage' then 'Usage-Based' else 'One-Time' end
            as "ChargeFrequency",
        {{ utc_timestamp('bucket_ended_at') }} as "ChargePeriodEnd",
        {{ utc_timestamp('bucket_started_at') }} as "ChargePeriodStart",
        cast(null as {{ dbt.type_string() }}) as "CommitmentDiscountCategory",
        cast(null as {{ dbt.type_string() }}) as "CommitmentDiscountId",
        cast(null as {{ dbt.type_string() }}) as "CommitmentDiscountName",
        cast(null as {{ dbt.type_string() }}) as "CommitmentDiscountStatus",
        cast(null as {{ dbt.type_string() }}) as "CommitmentDiscountType",
        case
            when charge_category = 'Usage'
                then cast(coalesce(consumed_tokens, pricing_quantity) as {{ type_double() }})
        end as "ConsumedQuantity",
        case
            when charge_category = 'Usage'
                then case when consumed_tokens is not null then 'Tokens' else pricing_unit end
        end as "ConsumedUnit",
        billed_cost as "ContractedCost",
        contracted_unit_price as "ContractedUnitPrice",
        billed_cost as "EffectiveCost",
        {{ provider }} as "InvoiceIssuerName",
        -- without a list unit price FOCUS wants the billed cost as list cost
        case
            when list_unit_price is not null
                then cast(line_item_list_cost_usd * allocated_share as {{ type_double() }})
            else billed_cost
        end as "ListCost",
        list_unit_price as "ListUnitPrice",
        case when charge_category = 'Usage' then 'Standard' end as "PricingCategory",
        case when charge_category <> 'Tax' then pricing_quantity end as "PricingQuantity",
        case when charge_category <> 'Tax' then pricing_unit end as "PricingUnit",
        {{ provider }} as "ProviderName",
        {{ provider }} as "PublisherName",
        cast(null as {{ dbt.type_string() }}) as "RegionId",
        cast(null as {{ dbt.type_string() }}) as "RegionName",
        api_key_id as "ResourceId",
        api_key_name as "ResourceName",
        case when api_key_id is not null then 'API Key' end as "ResourceType",
        'AI and Machine Learning' as "ServiceCategory",
        coalesce(surface, 'OpenAI API') as "ServiceName",
        case when charge_category <> 'Tax' then sku_id end as "SkuId",
        case when charge_category <> 'Tax' then line_item end as "SkuPriceId",
        project_id as "SubAccountId",
        project_name as "SubAccountName",
        {{ json_object_without_nulls([
            ('openai/project', 'project_name'),
            ('openai/api_key', 'api_key_name'),
            ('openai/user', "case when owner_type = 'user' then owner_email end"),
            ('openai/service_account',
                "case when owner_type = 'service_account' then owner_name end"),
            ('openai/model', 'case when direction is not null then model end'),
        ]) }} as "Tags",

        ----------  FOCUS 1.1 to 1.3
        'Organization' as "BillingAccountType",
        {{ provider }} as "HostProviderName",
        {{ provider }} as "ServiceProviderName",
        'Generative AI' as "ServiceSubcategory",
        case when sku_id is not null then coalesce(direction, sku_id) end as "SkuMeter",
        case when project_id is not null then 'Project' end as "SubAccountType",
        case when is_allocated then allocation_basis end as "AllocatedMethodId",
        -- The ratio is written with 12 decimals: a sum of the same doubles taken in another
        -- order (another run, another database) differs in its last digit, and a text column
        -- would then read as another value.
        case
            when is_allocated
                then '{"Elements": [' || {{ json_object_without_nulls([
                    ('AllocatedRatio', json_double(
                        'cast(cast(allocated_share as decimal(18, 12)) as ' ~ type_double() ~ ')'
                    )),
                    ('UsageUnit', "case allocation_basis when 'estimated_cost'"
                        ~ " then 'Estimated Cost' when 'tokens' then 'Tokens'"
                        ~ " else 'Requests' end"),
                ]) }} || ']}'
        end as "AllocatedMethodDetails",
        case when is_allocated then api_key_id end as "AllocatedResourceId",
        case when is_allocated then api_key_name end as "AllocatedResourceName",

        ----------  OpenAI detail
        case when direction is not null then model end as "x_Model",
        direction as "x_TokenDirection",
        input_tokens as "x_InputTokens",
        cached_input_tokens as "x_CachedInputTokens",
        output_tokens as "x_OutputTokens",
        allocation_basis as "x_AllocationMethod",
        case
            when list_unit_price is not null then 'list_price_estimate' else 'billed_cost'
        end as "x_ListCostSource"

    from named

)
-- noqa: enable=RF06

select * from final
