{#- Every version of the hard spend limits (dlt scd2 history): the organization's
    (`project_id` NULL) and each project's. Amounts stay in cents. -#}
with

source as (

    {{ source_or_empty(source('openai', 'spend_limits'), [
            ('organization', dbt.type_string()),
            ('project_id', dbt.type_string()),
            ('object', dbt.type_string()),
            ('threshold_amount', dbt.type_bigint()),
            ('currency', dbt.type_string()),
            ('"interval"', dbt.type_string()),
            ('enforcement_status', dbt.type_string()),
            ('_dlt_valid_from', 'timestamp with time zone'),
            ('_dlt_valid_to', 'timestamp with time zone')
    ]) }}

),

renamed as (

    select

        ----------  ids
        organization,
        project_id,

        ----------  text
        currency,
        interval as limit_interval,
        enforcement_status,

        ----------  numerics
        cast(threshold_amount as {{ dbt.type_bigint() }}) as limit_amount_cents,

        ----------  booleans
        threshold_amount is not null as has_limit,
        _dlt_valid_to is null as is_current,

        ----------  timestamps (UTC)
        cast(timezone('UTC', _dlt_valid_from) as {{ dbt.type_timestamp() }}) as valid_from,
        cast(timezone('UTC', _dlt_valid_to) as {{ dbt.type_timestamp() }}) as valid_to

    from source

)

select * from renamed
