{#- One row per organization, calendar month (UTC) and project: month-to-date totals of
    `cost_by_project_daily` and a linear month-end projection. The data horizon `as_of_date`
    is the organization's last loaded day; a month that ends after it is in progress and is
    projected as (month to date / days elapsed) x days in month. Complete months project to
    their actual total. -#}

with

daily as (

    select * from {{ ref('cost_by_project_daily') }}

),

horizons as (

    select
        organization,
        max(usage_date) as as_of_date

    from daily
    group by 1

),

monthly as (

    select
        organization,
        cast({{ dbt.date_trunc('month', 'usage_date') }} as date) as month_start,
        project_id,
        max(project_name) as project_name,
        cast(sum(requests) as {{ dbt.type_bigint() }}) as requests,
        cast(sum(input_tokens) as {{ dbt.type_bigint() }}) as input_tokens,
        cast(sum(cached_input_tokens) as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(sum(output_tokens) as {{ dbt.type_bigint() }}) as output_tokens,
        sum(billed_cost_usd) as billed_cost_usd,
        sum(estimated_cost_usd) as estimated_cost_usd,
        cast(sum(unpriced_requests) as {{ dbt.type_bigint() }}) as unpriced_requests

    from daily
    group by 1, 2, 3

),

with_calendar as (

    select
        monthly.*,
        horizons.as_of_date,
        cast({{ dbt.dateadd('month', 1, 'monthly.month_start') }} as date) as next_month_start

    from monthly
    inner join horizons
        on monthly.organization = horizons.organization

),

with_days as (

    select
        *,
        cast(
            {{ dbt.datediff('month_start', 'next_month_start', 'day') }} as {{ dbt.type_bigint() }}  -- noqa: LT05
        ) as days_in_month,
        cast(
            {{ dbt.datediff('month_start', 'as_of_date', 'day') }} + 1 as {{ dbt.type_bigint() }}  -- noqa: LT05
        ) as days_since_month_start

    from with_calendar

),

final as (

    select
        organization,
        month_start,
        project_id,
        project_name,
        requests,
        input_tokens,
        cached_input_tokens,
        output_tokens,
        billed_cost_usd,
        estimated_cost_usd,
        unpriced_requests,
        as_of_date,
        days_in_month,
        case
            when days_since_month_start < days_in_month then days_since_month_start
            else days_in_month
        end as days_elapsed,
        days_since_month_start >= days_in_month as is_month_complete,
        case
            when days_since_month_start >= days_in_month then billed_cost_usd
            else
                cast(billed_cost_usd as {{ type_double() }})
                / days_since_month_start * days_in_month
        end as projected_billed_cost_usd,
        case
            when days_since_month_start >= days_in_month then estimated_cost_usd
            else estimated_cost_usd / days_since_month_start * days_in_month
        end as projected_estimated_cost_usd

    from with_days

)

select * from final
