{#- Every version of the spend alerts (dlt scd2 history): the organization's (`project_id`
    NULL) and each project's. Thresholds stay in cents. The row the source writes for an
    organization without any alert (no `id`) is bookkeeping, not an alert, and is left out. -#}
with

source as (

    {{ source_or_empty(source('openai', 'spend_alerts'), [
            ('organization', dbt.type_string()),
            ('project_id', dbt.type_string()),
            ('id', dbt.type_string()),
            ('object', dbt.type_string()),
            ('threshold_amount', dbt.type_bigint()),
            ('currency', dbt.type_string()),
            ('"interval"', dbt.type_string()),
            ('notification_type', dbt.type_string()),
            ('recipients_json', dbt.type_string()),
            ('subject_prefix', dbt.type_string()),
            ('_dlt_valid_from', 'timestamp with time zone'),
            ('_dlt_valid_to', 'timestamp with time zone')
    ]) }}

),

renamed as (

    select

        ----------  ids
        organization,
        id as alert_id,
        project_id,

        ----------  text
        currency,
        interval as alert_interval,
        notification_type,
        recipients_json,
        subject_prefix,

        ----------  numerics
        cast(threshold_amount as {{ dbt.type_bigint() }}) as threshold_amount_cents,

        ----------  booleans
        _dlt_valid_to is null as is_current,

        ----------  timestamps (UTC)
        cast(timezone('UTC', _dlt_valid_from) as {{ dbt.type_timestamp() }}) as valid_from,
        cast(timezone('UTC', _dlt_valid_to) as {{ dbt.type_timestamp() }}) as valid_to

    from source
    where id is not null

)

select * from renamed
