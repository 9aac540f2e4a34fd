with

source as (

    {{ usage_bucket_source(source('openai', 'code_interpreter_sessions_usage'), [
        ('project_id', dbt.type_string()),
        ('num_sessions', dbt.type_bigint())
    ]) }}

),

renamed as (

    select

        ----------  ids
        {{ usage_bucket_id(['project_id']) }},

        ----------  dimensions
        project_id,

        ----------  numerics
        num_sessions as sessions,

        ----------  booleans, dates and timestamps
        {{ usage_bucket_columns() }}

    from source

)

select * from renamed
