-- DESIGN.md invariant: over any date range, the request and token columns of both marts sum to
-- the raw completions usage totals. Checked per day (which implies any range); returns every
-- (day, mart, measure) that disagrees with raw.completions_usage.

with

raw_usage as (

    select
        bucket_date as usage_date,
        coalesce(sum(num_model_requests), 0) as requests,
        coalesce(sum(input_tokens), 0) as input_tokens,
        coalesce(sum(input_cached_tokens), 0) as cached_input_tokens,
        coalesce(sum(output_tokens), 0) as output_tokens
    from {{ source('openai', 'completions_usage') }}
    group by 1

),

mart_names as (

    select 'cost_by_model_daily' as mart
    union all
    select 'cost_by_project_daily' as mart

),

marts as (

    select
        'cost_by_model_daily' as mart,
        usage_date,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens
    from {{ ref('cost_by_model_daily') }}
    group by 1, 2

    union all

    select
        'cost_by_project_daily' as mart,
        usage_date,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens
    from {{ ref('cost_by_project_daily') }}
    group by 1, 2

),

expected as (

    -- every mart must cover every raw day
    select
        mart_names.mart,
        raw_usage.usage_date,
        raw_usage.requests,
        raw_usage.input_tokens,
        raw_usage.cached_input_tokens,
        raw_usage.output_tokens
    from raw_usage
    cross join mart_names

),

compared as (

    select
        coalesce(expected.mart, marts.mart) as mart,
        coalesce(expected.usage_date, marts.usage_date) as usage_date,
        coalesce(expected.requests, 0) as raw_requests,
        coalesce(marts.requests, 0) as mart_requests,
        coalesce(expected.input_tokens, 0) as raw_input_tokens,
        coalesce(marts.input_tokens, 0) as mart_input_tokens,
        coalesce(expected.cached_input_tokens, 0) as raw_cached_input_tokens,
        coalesce(marts.cached_input_tokens, 0) as mart_cached_input_tokens,
        coalesce(expected.output_tokens, 0) as raw_output_tokens,
        coalesce(marts.output_tokens, 0) as mart_output_tokens
    from expected
    full outer join marts
        on
            expected.mart = marts.mart
            and expected.usage_date = marts.usage_date

)

select *
from compared
where
    raw_requests != mart_requests
    or raw_input_tokens != mart_input_tokens
    or raw_cached_input_tokens != mart_cached_input_tokens
    or raw_output_tokens != mart_output_tokens
