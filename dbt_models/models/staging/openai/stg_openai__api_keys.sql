{#- The latest version of each api key, deleted ones included (their last name
    still labels past spend). -#}
with

versions as (

    select * from {{ ref('stg_openai__api_key_versions') }}

),

latest as (

    select
        {{ star_except(
            ref('stg_openai__api_key_versions'),
            ['valid_from_date', 'valid_to_date', 'is_latest_version']
        ) }}
    from versions
    where is_latest_version

)

select * from latest
