{#- One row per organization, UTC day, project and billing line item, straight from the Costs
    API: the invoice's own lines, with the line item parsed into surface, model and direction.
    Cost without a project or line item gets a stable label. -#}

with

line_items as (

    select * from {{ ref('int_costs__line_items_parsed') }}

),

projects as (

    select * from {{ ref('stg_openai__project_versions') }}

),

aggregated as (

    select
        organization,
        usage_date,
        coalesce(project_id, '{{ var("no_project_label") }}') as project_id,
        coalesce(line_item, '{{ var("no_line_item_label") }}') as line_item,
        max(surface) as surface,
        max(model) as model,
        max(direction) as direction,
        max(quantity_unit) as quantity_unit,
        sum(quantity) as quantity,
        sum(amount) as billed_cost_usd

    from line_items
    group by 1, 2, 3, 4

),

final as (

    select
        aggregated.organization,
        aggregated.usage_date,
        aggregated.project_id,
        aggregated.line_item,
        case
            when aggregated.project_id = '{{ var("no_project_label") }}'
                then aggregated.project_id
            else projects.project_name
        end as project_name,
        aggregated.surface,
        aggregated.model,
        aggregated.direction,
        aggregated.direction is not null as is_model_line_item,
        aggregated.quantity,
        aggregated.quantity_unit,
        aggregated.billed_cost_usd

    from aggregated
    left join projects
        on
            aggregated.organization = projects.organization
            and aggregated.project_id = projects.project_id
            and aggregated.usage_date >= projects.valid_from_date
            and aggregated.usage_date < projects.valid_to_date

)

select * from final
