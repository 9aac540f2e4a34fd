{#- One row per organization, UTC day and user. Requests, tokens and the estimated cost come
    from completions usage; the billed cost is the Costs API's project x model line items
    allocated by each user's share of the priced usage (see `int_costs__allocated`). Usage
    without a user (service-account keys, ungrouped data) is `(no user)`; billed cost that no
    usage can take is `(unallocated)`, so the billed column still sums to the raw Costs total. -#}

{%- set no_user = "'" ~ var('no_user_label') ~ "'" %}
{%- set unallocated = "'" ~ var('unallocated_label') ~ "'" %}

with

usages as (

    select * from {{ ref('int_completion_usages__priced') }}

),

allocations as (

    select * from {{ ref('int_costs__allocated') }}

),

users as (

    select * from {{ ref('stg_openai__user_versions') }}

),

usage_by_user as (

    select
        organization,
        usage_date,
        coalesce(user_id, {{ no_user }}) as user_id,
        {{ priced_usage_totals() }}

    from usages
    group by 1, 2, 3

),

billed_by_user as (

    select
        organization,
        usage_date,
        case
            when not is_allocated then {{ unallocated }}
            else coalesce(user_id, {{ no_user }})
        end as user_id,
        sum(billed_cost_usd) as billed_cost_usd

    from allocations
    group by 1, 2, 3

),

joined as (

    select
        coalesce(usage_by_user.organization, billed_by_user.organization) as organization,
        coalesce(usage_by_user.usage_date, billed_by_user.usage_date) as usage_date,
        coalesce(usage_by_user.user_id, billed_by_user.user_id) as user_id,
        usage_by_user.requests,
        usage_by_user.input_tokens,
        usage_by_user.cached_input_tokens,
        usage_by_user.output_tokens,
        usage_by_user.estimated_cost_usd,
        usage_by_user.unpriced_requests,
        billed_by_user.billed_cost_usd

    from usage_by_user
    full outer join billed_by_user
        on
            usage_by_user.organization = billed_by_user.organization
            and usage_by_user.usage_date = billed_by_user.usage_date
            and usage_by_user.user_id = billed_by_user.user_id

),

final as (

    select
        joined.organization,
        joined.usage_date,
        joined.user_id,
        case
            when joined.user_id in ({{ no_user }}, {{ unallocated }}) then joined.user_id
            else users.user_name
        end as user_name,
        users.email,
        users.organization_role,
        {{ counts_or_zero('joined', [
            'requests', 'input_tokens', 'cached_input_tokens', 'output_tokens'
        ]) }},
        joined.estimated_cost_usd,
        {{ counts_or_zero('joined', ['unpriced_requests']) }},
        cast(coalesce(joined.billed_cost_usd, 0) as {{ type_double() }}) as billed_cost_usd

    from joined
    left join users
        on
            joined.organization = users.organization
            and joined.user_id = users.user_id
            and joined.usage_date >= users.valid_from_date
            and joined.usage_date < users.valid_to_date

)

select * from final
