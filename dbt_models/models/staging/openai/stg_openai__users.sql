{#- The latest version of each user, deleted ones included (their last name
    still labels past spend). -#}
with

versions as (

    select * from {{ ref('stg_openai__user_versions') }}

),

latest as (

    select
        {{ star_except(
            ref('stg_openai__user_versions'),
            ['valid_from_date', 'valid_to_date', 'is_latest_version']
        ) }}
    from versions
    where is_latest_version

)

select * from latest
