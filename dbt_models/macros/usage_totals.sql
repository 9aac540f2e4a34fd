{#- What the daily cost marts add up from priced completions usage (int_completion_usages__priced)
    per group: requests, tokens, the estimated cost and the requests that could not be priced. -#}
{% macro priced_usage_totals() -%}
    sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens,
        sum(estimated_cost_usd) as estimated_cost_usd,
        sum(case when is_priced then 0 else requests end) as unpriced_requests
{%- endmacro %}


{#- Counts of `relation_alias` as BIGINTs, 0 where a full outer join found no usage. -#}
{% macro counts_or_zero(relation_alias, columns) -%}
    {%- for column in columns -%}
        cast(coalesce({{ relation_alias }}.{{ column }}, 0) as {{ dbt.type_bigint() }}) as {{ column }}
        {{- ",\n        " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
