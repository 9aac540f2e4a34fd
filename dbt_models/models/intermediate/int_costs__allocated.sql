{#- Billed cost of every (organization, day, project, model) group of cost line items, split
    over the API keys and users whose usage it paid for, in proportion to each one's share of
    the group's priced usage (estimated cost). When the group's usage has no estimated cost
    (unpriced model), the share is by tokens, then by requests. A group without any matching
    usage (file search, web search, a line item without a project or model match) is kept
    whole as one unallocated row: the allocation loses and invents nothing. `allocated_share`
    is the fraction of the group each row takes (1 for an unallocated row), so any line item of
    the group splits the same way. -#}

with

line_items as (

    select * from {{ ref('int_costs__line_items_parsed') }}

),

usages as (

    select * from {{ ref('int_completion_usages__priced') }}

),

billed_groups as (

    select
        {{ billing_group() }},
        sum(amount) as billed_cost_usd

    from line_items
    group by 1, 2, 3, 4

),

usage_shares as (

    select
        {{ billing_group('billing_model') }},
        api_key_id,
        user_id,
        coalesce(sum(estimated_cost_usd), 0) as estimated_cost_usd,
        sum(input_tokens + output_tokens) as tokens,
        sum(requests) as requests

    from usages
    group by 1, 2, 3, 4, 5, 6

),

group_totals as (

    select
        organization,
        usage_date,
        project_id,
        model,
        sum(estimated_cost_usd) as estimated_cost_usd,
        sum(tokens) as tokens,
        sum(requests) as requests

    from usage_shares
    group by 1, 2, 3, 4

),

group_bases as (

    select
        *,
        case
            when estimated_cost_usd > 0 then 'estimated_cost'
            when tokens > 0 then 'tokens'
            when requests > 0 then 'requests'
        end as allocation_basis

    from group_totals

),

shared as (

    select
        billed_groups.organization,
        billed_groups.usage_date,
        billed_groups.project_id,
        billed_groups.model,
        usage_shares.api_key_id,
        usage_shares.user_id,
        group_bases.allocation_basis,
        true as is_allocated,
        cast(case group_bases.allocation_basis
            when 'estimated_cost'
                then usage_shares.estimated_cost_usd / group_bases.estimated_cost_usd
            when 'tokens' then 1.0 * usage_shares.tokens / group_bases.tokens
            else 1.0 * usage_shares.requests / group_bases.requests
        end as {{ type_double() }}) as allocated_share,
        billed_groups.billed_cost_usd as group_billed_cost_usd

    from billed_groups
    inner join group_bases
        on
            billed_groups.organization = group_bases.organization
            and billed_groups.usage_date = group_bases.usage_date
            and billed_groups.project_id = group_bases.project_id
            and billed_groups.model = group_bases.model
    inner join usage_shares
        on
            group_bases.organization = usage_shares.organization
            and group_bases.usage_date = usage_shares.usage_date
            and group_bases.project_id = usage_shares.project_id
            and group_bases.model = usage_shares.model
    where group_bases.allocation_basis is not null

),

allocated as (

    select
        organization,
        usage_date,
        project_id,
        model,
        api_key_id,
        user_id,
        allocation_basis,
        is_allocated,
        allocated_share,
        group_billed_cost_usd * allocated_share as billed_cost_usd

    from shared

),

unallocated as (

    select
        billed_groups.organization,
        billed_groups.usage_date,
        billed_groups.project_id,
        billed_groups.model,
        cast(null as {{ dbt.type_string() }}) as api_key_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        'unallocated' as allocation_basis,
        false as is_allocated,
        cast(1.0 as {{ type_double() }}) as allocated_share,
        cast(billed_groups.billed_cost_usd as {{ type_double() }}) as billed_cost_usd

    from billed_groups
    left join group_bases
        on
            billed_groups.organization = group_bases.organization
            and billed_groups.usage_date = group_bases.usage_date
            and billed_groups.project_id = group_bases.project_id
            and billed_groups.model = group_bases.model
    where group_bases.allocation_basis is null

),

final as (

    select * from allocated
    union all
    select * from unallocated

)

select * from final
