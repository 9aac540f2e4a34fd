{#- The group cost line items bill and the allocation splits: organization, UTC day, project and
    model, with NULL project and model labelled (never dropped), for a select list whose group by
    starts with these four columns. Usage rows pass `billing_model`, the model line items name
    (fine-tuned `ft:<base>:...` usage is billed as `ft-<base>`). -#}
{% macro billing_group(model_column='model') -%}
    organization,
        usage_date,
        coalesce(project_id, '{{ var("no_project_label") }}') as project_id,
        coalesce({{ model_column }}, '{{ var("unknown_model_label") }}') as model
{%- endmacro %}
