with

source as (

    select * from {{ source('openai', 'costs') }}

),

renamed as (

    select

        ----------  ids
        {{ surrogate_key(['organization', 'start_time', 'project_id', 'line_item']) }} as cost_id,
        organization,
        project_id,
        organization_id,

        ----------  text
        line_item,
        amount_currency as currency,
        quantity_unit,

        ----------  numerics
        -- keep the source decimal: amounts are unrounded and must not drift when summed
        amount_value as amount,
        quantity,

        ----------  dates and timestamps
        cast(bucket_date as date) as usage_date,
        {{ unix_to_timestamp('start_time') }} as bucket_started_at,
        {{ unix_to_timestamp('end_time') }} as bucket_ended_at

    from source

)

select * from renamed
