{#- Select from a raw table that may not exist yet: an optional source, or a family the
    pipeline has not loaded in this warehouse. Missing, it reads as an empty table with the
    given (name, type) columns, so downstream models build and simply have no rows for it.
    The `source()` call stays in the model, so lineage is unchanged. -#}
{% macro source_or_empty(relation, columns) -%}
    {%- set found = none -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) -%}
    {%- endif -%}
    {%- if found is not none or not execute -%}
        select * from {{ relation }}
    {%- else -%}
        select
        {%- for name, type in columns %}
            cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0
    {%- endif -%}
{%- endmacro %}


{#- The latest version of every directory row (see `dated_versions`): current-state models want
    one row per object, deleted objects included (their last known name still labels past
    spend). -#}
{% macro latest_versions(relation, key_columns=['organization', 'id']) -%}
    select {{ star_except(relation, ['_valid_from_date', '_valid_to_date', '_is_latest_version']) }}
    from ({{ dated_versions(relation, key_columns) }}) as versions
    where _is_latest_version
{%- endmacro %}


{#- Every version of a directory row with the UTC days it names: `_valid_from_date` (inclusive)
    to `_valid_to_date` (exclusive), plus `_is_latest_version`. Spend of a day joins the version
    valid that day, so past spend keeps the name it had. The first version also covers the days
    before it was first seen (a backfill's history predates the first load), and the last one
    every day after, deleted or not. Versions replaced within the day they began cover no day.
    Tables without history columns are one version per row, valid on every day. -#}
{% macro dated_versions(relation, key_columns=['organization', 'id']) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do names.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set first_day = "cast('0001-01-01' as date)" -%}
    {%- set last_day = "cast('9999-12-31' as date)" -%}
    {%- if '_dlt_valid_from' in names -%}
        {%- set keys = [] -%}
        {%- for key in key_columns if key in names -%}{%- do keys.append(key) -%}{%- endfor -%}
        {%- set valid_from_day = "cast(timezone('UTC', _dlt_valid_from) as date)" -%}
        select
            *,
            case
                when row_number() over by_start = 1 then {{ first_day }}
                else {{ valid_from_day }}
            end as _valid_from_date,
            coalesce(lead({{ valid_from_day }}) over by_start, {{ last_day }}) as _valid_to_date,
            lead(_dlt_valid_from) over by_start is null as _is_latest_version
        from {{ relation }}
        window by_start as (partition by {{ keys | join(', ') }} order by _dlt_valid_from)
    {%- else -%}
        select
            *,
            {{ first_day }} as _valid_from_date,
            {{ last_day }} as _valid_to_date,
            true as _is_latest_version
        from {{ relation }}
    {%- endif -%}
{%- endmacro %}
