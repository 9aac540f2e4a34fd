with

source as (

    {{ usage_bucket_source(source('openai', 'vector_stores_usage'), [
        ('project_id', dbt.type_string()),
        ('usage_bytes', dbt.type_bigint())
    ]) }}

),

renamed as (

    select

        ----------  ids
        {{ usage_bucket_id(['project_id']) }},

        ----------  dimensions
        project_id,

        ----------  numerics
        usage_bytes,

        ----------  booleans, dates and timestamps
        {{ usage_bucket_columns() }}

    from source

)

select * from renamed
