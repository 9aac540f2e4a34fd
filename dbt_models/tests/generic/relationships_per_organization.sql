{#- Like dbt's `relationships`, but ids are unique only within an organization: fails for every
    non-NULL `column_name` with no row in `to` of the same `organization` and `field`. -#}
{% test relationships_per_organization(model, column_name, to, field) %}

with

child as (

    select * from {{ model }}

),

parent as (

    select * from {{ to }}

)

select
    child.organization,
    child.{{ column_name }}
from child
left join parent
    on
        child.organization = parent.organization
        and child.{{ column_name }} = parent.{{ field }}
where child.{{ column_name }} is not null and parent.{{ field }} is null

{% endtest %}
