-- BI contract invariant (docs/architecture.md), for every mart with token columns: the request and
-- token columns sum to the raw completions usage totals. Checked per organization and day (which
-- implies any range); returns every (mart, organization, day) that disagrees with
-- raw.completions_usage. usage_daily is compared on its completions family.

-- Shown in Dagster as an asset check of `cost_by_model_daily`.
{{ config(meta={'dagster': {'ref': {'name': 'cost_by_model_daily'}}}) }}

{%- set marts = [
    'cost_by_model_daily', 'cost_by_project_daily', 'cost_by_api_key_daily',
    'cost_by_user_daily', 'usage_daily'
] %}

with

raw_usage as (

    select
        organization,
        bucket_date as usage_date,
        coalesce(sum(num_model_requests), 0) as requests,
        coalesce(sum(input_tokens), 0) as input_tokens,
        coalesce(sum(input_cached_tokens), 0) as cached_input_tokens,
        coalesce(sum(output_tokens), 0) as output_tokens
    from {{ source('openai', 'completions_usage') }}
    group by 1, 2

),

marts as (

    {% for mart in marts %}
    select
        '{{ mart }}' as mart,
        organization,
        usage_date,
        coalesce(sum(requests), 0) as requests,
        coalesce(sum(input_tokens), 0) as input_tokens,
        coalesce(sum(cached_input_tokens), 0) as cached_input_tokens,
        coalesce(sum(output_tokens), 0) as output_tokens
    from {{ ref(mart) }}
    {% if mart == 'usage_daily' %}where family = 'completions'{% endif %}
    group by 1, 2, 3
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

expected as (

    -- every mart must cover every raw day
    {% for mart in marts %}
    select
        '{{ mart }}' as mart,
        raw_usage.*
    from raw_usage
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

compared as (

    select
        coalesce(expected.mart, marts.mart) as mart,
        coalesce(expected.organization, marts.organization) as organization,
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
            and expected.organization = marts.organization
            and expected.usage_date = marts.usage_date

)

select *
from compared
where
    raw_requests != mart_requests
    or raw_input_tokens != mart_input_tokens
    or raw_cached_input_tokens != mart_cached_input_tokens
    or raw_output_tokens != mart_output_tokens
