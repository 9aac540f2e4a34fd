with

source as (

    {{ source_or_empty(source('openai', 'costs_by_api_key'), [
            ('organization', dbt.type_string()),
            ('bucket_date', 'date'),
            ('start_time', dbt.type_bigint()),
            ('end_time', dbt.type_bigint()),
            ('project_id', dbt.type_string()),
            ('line_item', dbt.type_string()),
            ('api_key_id', dbt.type_string()),
            ('amount_value', 'decimal(38, 18)'),
            ('amount_currency', dbt.type_string()),
            ('quantity', dbt.type_float()),
            ('quantity_unit', dbt.type_string()),
            ('organization_id', dbt.type_string()),
            ('is_final', dbt.type_boolean())
    ]) }}

),

renamed as (

    select

        ----------  ids
        {{ surrogate_key(['organization', 'start_time', 'project_id', 'line_item', 'api_key_id']) }}
            as api_key_cost_id,
        organization,
        organization_id,
        project_id,
        api_key_id,

        ----------  text
        line_item,
        amount_currency as currency,
        quantity_unit,

        ----------  numerics
        amount_value as billed_cost,
        quantity,

        ----------  booleans
        is_final,

        ----------  dates and timestamps
        cast(bucket_date as date) as cost_date

    from source

)

select * from renamed
