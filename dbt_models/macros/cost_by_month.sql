{#- A monthly cost mart from a daily one: one row per organization, calendar month (UTC) and
    `dimensions`, month-to-date totals and their linear month-end projection. `labels` are
    names carried beside the dimensions (their latest value in the month, by max). The data
    horizon `as_of_date` is the organization's last day in the daily mart; a month that ends
    after it is in progress. -#}
{% macro cost_by_month(daily_relation, dimensions, labels=[]) -%}
with

daily as (

    select * from {{ daily_relation }}

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
        {%- for dimension in dimensions %}
        {{ dimension }},
        {%- endfor %}
        {%- for label in labels %}
        max({{ label }}) as {{ label }},
        {%- endfor %}
        cast(sum(requests) as {{ dbt.type_bigint() }}) as requests,
        cast(sum(input_tokens) as {{ dbt.type_bigint() }}) as input_tokens,
        cast(sum(cached_input_tokens) as {{ dbt.type_bigint() }}) as cached_input_tokens,
        cast(sum(output_tokens) as {{ dbt.type_bigint() }}) as output_tokens,
        sum(billed_cost_usd) as billed_cost_usd,
        sum(estimated_cost_usd) as estimated_cost_usd,
        cast(sum(unpriced_requests) as {{ dbt.type_bigint() }}) as unpriced_requests

    from daily
    group by {% for position in range(1, dimensions | length + 3) %}{{ position }}{{ ", " if not loop.last }}{% endfor %}

),

with_days as (

    select
        monthly.*,
        horizons.as_of_date,
        cast(
            {{ dbt.datediff(
                'monthly.month_start',
                'cast(' ~ dbt.dateadd('month', 1, 'monthly.month_start') ~ ' as date)',
                'day'
            ) }} as {{ dbt.type_bigint() }}
        ) as days_in_month,
        cast(
            {{ dbt.datediff('monthly.month_start', 'horizons.as_of_date', 'day') }} + 1
            as {{ dbt.type_bigint() }}
        ) as days_since_month_start

    from monthly
    inner join horizons
        on monthly.organization = horizons.organization

),

final as (

    select
        organization,
        month_start,
        {%- for column in dimensions + labels %}
        {{ column }},
        {%- endfor %}
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
        {{ linear_month_end_projection(
            'billed_cost_usd', 'days_since_month_start', 'days_in_month'
        ) }} as projected_billed_cost_usd,
        {{ linear_month_end_projection(
            'estimated_cost_usd', 'days_since_month_start', 'days_in_month'
        ) }} as projected_estimated_cost_usd

    from with_days

)

select * from final
{%- endmacro %}
