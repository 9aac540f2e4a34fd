{#- The newest version of each row of a `*_versions` staging model, without the validity
    columns: what the directory looks like now. -#}
{% macro newest_versions(versions) -%}
    select
        {{ star_except(versions, ['valid_from_date', 'valid_to_date', 'is_latest_version']) }}
    from {{ versions }}
    where is_latest_version
{%- endmacro %}
