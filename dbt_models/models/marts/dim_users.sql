{#- One row per organization and member. -#}

with

users as (

    select * from {{ ref('int_users__latest') }}

),

final as (

    select
        organization,
        user_id,
        user_name,
        email,
        organization_role,
        added_at

    from users

)

select * from final
