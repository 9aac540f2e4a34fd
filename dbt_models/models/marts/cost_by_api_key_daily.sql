{#- One row per organization, UTC day and API key (API keys are how most teams separate their
    agents). Requests, tokens and the estimated cost come from completions usage; the billed
    cost is the Costs API's project x model line items allocated to keys by their share of the
    priced usage (see `int_costs__allocated`). Usage without a key is `(no API key)`; billed
    cost that no usage can take is `(unallocated)`, so the billed column still sums to the raw
    Costs total. -#}

{%- set no_api_key = "'" ~ var('no_api_key_label') ~ "'" %}
{%- set unallocated = "'" ~ var('unallocated_label') ~ "'" %}

with

usages as (

    select * from {{ ref('int_completion_usages__priced') }}

),

allocations as (

    select * from {{ ref('int_costs__allocated') }}

),

api_keys as (

    select * from {{ ref('stg_openai__api_key_versions') }}

),

projects as (

    select * from {{ ref('stg_openai__project_versions') }}

),

usage_by_key as (

    select
        organization,
        usage_date,
        coalesce(api_key_id, {{ no_api_key }}) as api_key_id,
        -- the project of the key's usage, when it used only one
        case
            when count(distinct project_id) = 1 then min(project_id)
        end as usage_project_id,
        {{ priced_usage_totals() }}

    from usages
    group by 1, 2, 3

),

billed_by_key as (

    select
        organization,
        usage_date,
        case
            when not is_allocated then {{ unallocated }}
            else coalesce(api_key_id, {{ no_api_key }})
        end as api_key_id,
        sum(billed_cost_usd) as billed_cost_usd

    from allocations
    group by 1, 2, 3

),

joined as (

    select
        coalesce(usage_by_key.organization, billed_by_key.organization) as organization,
        coalesce(usage_by_key.usage_date, billed_by_key.usage_date) as usage_date,
        coalesce(usage_by_key.api_key_id, billed_by_key.api_key_id) as api_key_id,
        usage_by_key.usage_project_id,
        usage_by_key.requests,
        usage_by_key.input_tokens,
        usage_by_key.cached_input_tokens,
        usage_by_key.output_tokens,
        usage_by_key.estimated_cost_usd,
        usage_by_key.unpriced_requests,
        billed_by_key.billed_cost_usd

    from usage_by_key
    full outer join billed_by_key
        on
            usage_by_key.organization = billed_by_key.organization
            and usage_by_key.usage_date = billed_by_key.usage_date
            and usage_by_key.api_key_id = billed_by_key.api_key_id

),

final as (

    select
        joined.organization,
        joined.usage_date,
        joined.api_key_id,
        case
            when joined.api_key_id in ({{ no_api_key }}, {{ unallocated }}) then joined.api_key_id
            else api_keys.api_key_name
        end as api_key_name,
        api_keys.redacted_value,
        api_keys.owner_type,
        api_keys.owner_id,
        api_keys.owner_name,
        api_keys.owner_email,
        coalesce(api_keys.project_id, joined.usage_project_id) as project_id,
        projects.project_name,
        {{ counts_or_zero('joined', [
            'requests', 'input_tokens', 'cached_input_tokens', 'output_tokens'
        ]) }},
        joined.estimated_cost_usd,
        {{ counts_or_zero('joined', ['unpriced_requests']) }},
        cast(coalesce(joined.billed_cost_usd, 0) as {{ type_double() }}) as billed_cost_usd

    from joined
    left join api_keys
        on
            joined.organization = api_keys.organization
            and joined.api_key_id = api_keys.api_key_id
            and joined.usage_date >= api_keys.valid_from_date
            and joined.usage_date < api_keys.valid_to_date
    left join projects
        on
            joined.organization = projects.organization
            and coalesce(api_keys.project_id, joined.usage_project_id) = projects.project_id
            and joined.usage_date >= projects.valid_from_date
            and joined.usage_date < projects.valid_to_date

)

select * from final
